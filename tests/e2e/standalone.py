"""Templates written without the CDK: functions whose Code is a zip already uploaded to S3.

``StandaloneStack`` is a ``StackArtifact`` whose file assets are the zips its functions name in
``Code.S3Bucket``/``Code.S3Key``: each is downloaded from the (moto) S3 server, as Lambda fetches
it on CreateFunction, and unzipped into a directory the runtime runs the handler from. A zip that
was never uploaded to the key the template names fails the deployment.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .cloudformation import FileAsset, Scope, StackArtifact, TemplateError, resolve


class StandaloneStack(StackArtifact):
    """A plain CloudFormation template whose functions load their code from S3 zips."""

    def __init__(self, template: Path, name: str, *, s3: Any, workdir: Path) -> None:
        super().__init__(template.parent, name, {"templateFile": template.name})
        self._s3 = s3
        self._workdir = workdir
        self._unzipped: dict[tuple[str, str], Path] = {}

    def file_assets(self, pseudo: Mapping[str, str]) -> list[FileAsset]:
        """One zip asset per function, unzipped from the object its Code names."""
        scope = Scope(pseudo=pseudo, refs={}, attributes={})
        assets = []
        for logical_id, function in self.resources_of_type("AWS::Lambda::Function").items():
            code = function["Properties"]["Code"]
            if "S3Bucket" not in code:
                raise TemplateError(f"{logical_id}: Code is not S3Bucket/S3Key: {code}")
            bucket, key = resolve(code["S3Bucket"], scope), resolve(code["S3Key"], scope)
            assets.append(
                FileAsset(
                    asset_id=logical_id,
                    source=self._unzip(bucket, key),
                    packaging="zip",
                    bucket_name=bucket,
                    object_key=key,
                )
            )
        return assets

    def _unzip(self, bucket: str, key: str) -> Path:
        if (bucket, key) not in self._unzipped:
            try:
                body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError as error:
                raise TemplateError(f"Code s3://{bucket}/{key}: {error}") from None
            directory = self._workdir / f"code-{len(self._unzipped)}"
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                archive.extractall(directory)
            self._unzipped[(bucket, key)] = directory
        return self._unzipped[(bucket, key)]
