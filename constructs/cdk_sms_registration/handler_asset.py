"""The Lambda asset: the handler package plus the installed crhelper, assembled without pip.

crhelper is a dependency of this package, so the Python running the synth already has the
pinned release. The asset is a copy of that installed release and of the handler package, made
once per handler version in the user's cache directory (a private temporary directory where
there is none) and named by ``source_hash()``, so an unchanged handler reuses the asset of an
earlier synth. Synth needs no pip, no package index and no Docker.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
from pathlib import Path, PurePath

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_

import cdk_sms_registration_handler
from cdk_sms_registration_handler import CRHELPER_REQUIREMENT

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = f"{cdk_sms_registration_handler.__name__}.index.handler"
PACKAGE_DIR = Path(cdk_sms_registration_handler.__file__).resolve().parent
PACKAGE_NAME = PACKAGE_DIR.name
#: crhelper's import package (its distribution has the same name).
CRHELPER_PACKAGE = "crhelper"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
#: Installer records that describe this machine's installation, not the package.
_SKIPPED_METADATA = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


class HandlerAssetError(RuntimeError):
    """The handler asset cannot be assembled from this Python environment."""


def source_hash() -> str:
    """A digest of everything that goes into the asset: handler sources and the crhelper pin."""
    digest = hashlib.sha256(CRHELPER_REQUIREMENT.encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def crhelper_files(requirement: str = CRHELPER_REQUIREMENT) -> dict[PurePath, Path]:
    """The installed crhelper's package and metadata files: path in the asset -> file.

    Raises ``HandlerAssetError`` unless the installed release is exactly the pinned one.
    """
    name, _, pinned = requirement.partition("==")
    fix = f"install it into that environment: pip install '{requirement}'"
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise HandlerAssetError(
            f"cdk-sms-registration bundles {requirement} into its Lambda asset, but {name} is "
            f"not installed for {sys.executable}; {fix}"
        ) from None
    if distribution.version != pinned:
        raise HandlerAssetError(
            f"cdk-sms-registration bundles {requirement} into its Lambda asset, but "
            f"{sys.executable} has {name} {distribution.version}; {fix}"
        )
    files = {
        PurePath(*file.parts): Path(str(distribution.locate_file(file)))
        for file in distribution.files or []
        if file.suffix != ".pyc"
        and "__pycache__" not in file.parts
        and (
            file.parts[0] == CRHELPER_PACKAGE
            or (file.parts[0].endswith(".dist-info") and file.name not in _SKIPPED_METADATA)
        )
    }
    if PurePath(CRHELPER_PACKAGE, "__init__.py") not in files:
        raise HandlerAssetError(
            f"{name} {distribution.version} for {sys.executable} lists no "
            f"{CRHELPER_PACKAGE}/__init__.py (an install without a RECORD?); reinstall it: "
            f"pip install --force-reinstall '{requirement}'"
        )
    return files


def build_asset(target: Path) -> None:
    """Write the asset into the empty or missing directory ``target``."""
    shutil.copytree(PACKAGE_DIR, target / PACKAGE_NAME, ignore=_IGNORED, dirs_exist_ok=True)
    for relative, source in crhelper_files().items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cdk-sms-registration"


@functools.cache
def asset_directory() -> Path:
    """The assembled asset of this handler version, built at most once per machine and user."""
    target = _cache_root() / f"handler-{source_hash()}"
    if target.is_dir():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    except OSError:  # no writable cache directory: a private one for this process
        staging = Path(tempfile.mkdtemp(prefix="cdk-sms-registration-handler-"))
        target = staging
    try:
        build_asset(staging)
        staging.chmod(0o755)  # mkdtemp makes it private; Lambda reads the files as another user
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if staging != target:
        try:
            staging.rename(target)  # atomic: a parallel synth either wins or finds it done
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():
                raise
    return target


def handler_code() -> lambda_.Code:
    """The handler asset: a directory staged by CDK as it is, no bundling step."""
    return lambda_.Code.from_asset(
        str(asset_directory()),
        asset_hash=source_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
    )
