"""The Lambda asset: the handler package plus crhelper, bundled at synth without Docker.

Local bundling copies the handler package and runs ``pip install --target`` for the pinned
crhelper wheel; where that cannot run, CDK falls back to the Lambda Python bundling image. The
asset hash is computed from the handler sources and the pin, so an unchanged handler reuses the
staged asset of an earlier synth instead of installing again.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

import cdk_sms_registration_handler
from cdk_sms_registration_handler import CRHELPER_REQUIREMENT

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = f"{cdk_sms_registration_handler.__name__}.index.handler"
PACKAGE_DIR = Path(cdk_sms_registration_handler.__file__).resolve().parent
PACKAGE_NAME = PACKAGE_DIR.name
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
# The wheel pip must pick is the one Lambda runs: CPython 3.14 on arm64 Linux.
_PIP_TARGET_PLATFORM = [
    "--platform=manylinux2014_aarch64",
    "--implementation=cp",
    "--python-version=3.14",
    "--only-binary=:all:",
]


def source_hash() -> str:
    """A digest of everything that goes into the asset: handler sources and the crhelper pin."""
    digest = hashlib.sha256(CRHELPER_REQUIREMENT.encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class _LocalBundler:
    """Bundles with the Python running the synth, no Docker needed."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        output = Path(output_dir)
        shutil.copytree(PACKAGE_DIR, output / PACKAGE_NAME, ignore=_IGNORED, dirs_exist_ok=True)
        install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile"]
        install += ["--disable-pip-version-check", *_PIP_TARGET_PLATFORM, "--target", output_dir]
        try:
            subprocess.run(
                [*install, CRHELPER_REQUIREMENT], check=True, capture_output=True, text=True
            )
        except (OSError, subprocess.CalledProcessError) as error:
            details = getattr(error, "stderr", "") or ""
            print(
                f"cdk-sms-registration: local bundling failed ({error}); trying Docker\n{details}",
                file=sys.stderr,
            )
            return False
        for leftover in output.rglob("__pycache__"):
            shutil.rmtree(leftover, ignore_errors=True)
        return True


def handler_code() -> lambda_.Code:
    """The handler asset, bundled locally or, failing that, in the Lambda bundling image."""
    docker_command = (
        f"cp -r /asset-input /asset-output/{PACKAGE_NAME} && "
        f"pip install --no-deps --no-compile --target /asset-output '{CRHELPER_REQUIREMENT}'"
    )
    return lambda_.Code.from_asset(
        str(PACKAGE_DIR),
        asset_hash=source_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            command=["bash", "-c", docker_command],
            local=_LocalBundler(),
        ),
    )
