"""Where an attachment's document comes from: a local file or an existing S3 object."""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass

from aws_cdk import Token
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_sms_registration_handler.document_rules import (
    AttachmentValidationError,
    DocumentType,
    check_document_without_size_limit,
    check_size,
    missing_file_message,
    read_local_facts,
    type_for_name,
)
from cdk_sms_registration_handler.resource_contract import MAX_URL_CHARS


@dataclass(frozen=True)
class BoundSource:
    """A source made concrete inside one attachment: the S3 object the service reads."""

    bucket_name: str
    object_key: str
    version_id: str | None = None
    #: The bucket of a ``from_bucket`` source (its ARN and KMS key feed the grants).
    bucket: s3.IBucket | None = None
    #: The extension of a CDK file asset's key (file assets keep their file's extension).
    asset_extension: str | None = None


class AttachmentSource(abc.ABC):
    """The document of a registration attachment."""

    @staticmethod
    def from_file(path: str | os.PathLike[str]) -> AttachmentSource:
        """A local PDF, JPEG or PNG, published as a CDK file asset.

        The file must exist, have a .pdf, .jpg, .jpeg or .png extension (any case), and contain
        what its extension says (checked by its leading bytes). Its size is checked against the
        attachment's ``max_size_bytes`` when the attachment is constructed. A relative path is
        relative to the directory ``cdk`` runs in; ``Path(__file__).parent / "loa.pdf"`` is
        relative to your app's file instead.
        """
        path = os.fspath(path)
        if not os.path.isabs(path) and not os.path.exists(path):
            raise AttachmentValidationError(
                f"{missing_file_message(path)}; a relative path depends on where cdk runs, so "
                f"build it from your app's file: Path(__file__).parent / {path!r}"
            )
        facts = read_local_facts(path)
        document_type = check_document_without_size_limit(facts)
        return _FileSource(os.path.abspath(path), facts.size_bytes, document_type)

    @staticmethod
    def from_bucket(
        bucket: s3.IBucket, key: str, *, version_id: str | None = None
    ) -> AttachmentSource:
        """An object in an existing bucket.

        ``bucket`` is an ``s3.IBucket``: for a bucket made elsewhere, import it by name with
        ``s3.Bucket.from_bucket_name(self, "Docs", "my-bucket")``. The key's extension is
        checked now when the key is known at synth time; the object itself is checked on
        deploy, before the service is asked to read it. ``version_id`` pins a version: the
        deploy fails unless it is the object's current version, because the service reads the
        current one. SSE-KMS buckets need ``bucket.encryption_key``
        (``Bucket.from_bucket_attributes(..., encryption_key=key)`` for imported buckets).
        """
        if isinstance(bucket, str) or not hasattr(bucket, "bucket_name"):
            shown = bucket if isinstance(bucket, str) else "my-bucket"
            raise AttachmentValidationError(
                f"from_bucket bucket {bucket!r}: must be an s3.IBucket, not "
                f"{type(bucket).__name__}; import a bucket by its name with "
                f's3.Bucket.from_bucket_name(self, "Docs", "{shown}") and pass that'
            )
        if not Token.is_unresolved(key):
            if key.lower().startswith(("s3://", "https://", "http://")):
                raise AttachmentValidationError(
                    f"from_bucket key {key!r}: is a URL, not an object key; give the key "
                    'inside the bucket, without "s3://bucket/": from_bucket(bucket, '
                    '"loa/signed.pdf")'
                )
            if not key or key.startswith("/") or any(c.isspace() for c in key):
                raise AttachmentValidationError(
                    f"from_bucket key {key!r}: must be an object key without a leading '/' "
                    "or spaces (the service takes s3://bucket/key without whitespace)"
                )
            if len(key) > MAX_URL_CHARS - len("s3://") - 63:
                raise AttachmentValidationError(
                    f"from_bucket key {key[:40]!r}...: too long for the service's "
                    f"{MAX_URL_CHARS}-character AttachmentUrl"
                )
            type_for_name(key)
        if version_id is not None and not Token.is_unresolved(version_id) and not version_id:
            raise AttachmentValidationError("from_bucket version_id: must not be empty")
        return _BucketSource(bucket, key, version_id)

    @property
    @abc.abstractmethod
    def document_type(self) -> DocumentType | None:
        """PDF, JPEG or PNG: a file's by its content, an object's by its key (None: a token)."""

    @abc.abstractmethod
    def bind(self, scope: Construct, max_size_bytes: int) -> BoundSource:
        """Make the source concrete inside ``scope``; checks that need the size limit run here."""


class _FileSource(AttachmentSource):
    def __init__(self, path: str, size_bytes: int, document_type: DocumentType) -> None:
        self._path = path
        self._size_bytes = size_bytes
        self._document_type = document_type

    @property
    def document_type(self) -> DocumentType | None:
        return self._document_type

    def bind(self, scope: Construct, max_size_bytes: int) -> BoundSource:
        check_size(self._path, self._size_bytes, max_size_bytes)
        asset = s3_assets.Asset(scope, "Document", path=self._path)
        return BoundSource(
            bucket_name=asset.s3_bucket_name,
            object_key=asset.s3_object_key,
            asset_extension=os.path.splitext(self._path)[1],
        )


class _BucketSource(AttachmentSource):
    def __init__(self, bucket: s3.IBucket, key: str, version_id: str | None) -> None:
        self._bucket = bucket
        self._key = key
        self._version_id = version_id

    @property
    def document_type(self) -> DocumentType | None:
        return None if Token.is_unresolved(self._key) else type_for_name(self._key)

    def bind(self, scope: Construct, max_size_bytes: int) -> BoundSource:
        return BoundSource(
            bucket_name=self._bucket.bucket_name,
            object_key=self._key,
            version_id=self._version_id,
            bucket=self._bucket,
        )
