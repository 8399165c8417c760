"""Handler cold start: importing the handler from its staged asset with only boto3 beside it.

Lambda starts a fresh interpreter with the asset on the path and boto3 from the runtime; the
import of the handler module (crhelper, boto3, our modules, crhelper's three boto3 clients) is
the part of a cold start that the asset decides. ``import boto3`` alone is the floor.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from .measure import median

REPO = Path(__file__).resolve().parent.parent
IMPORT_PROBE = (
    "import time; started = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - started)"
)


def boto3_only_python(workdir: Path) -> Path:
    """A virtualenv holding only boto3 (the pinned version), made once per work directory."""
    venv = workdir / "boto3-only"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pins = REPO / "requirements-dev.txt"
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-c", str(pins), "boto3"], check=True
        )
    return python


def zipped_bytes(directory: Path) -> int:
    """The size of ``directory`` zipped with deflate, as CDK uploads a Lambda asset."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return len(buffer.getvalue())


def lambda_asset_dirs(outdir: Path) -> list[Path]:
    """The staged directories of the stack's Lambda functions."""
    template = json.loads((outdir / "Bench.template.json").read_text())
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            key = resource["Properties"]["Code"]["S3Key"].removesuffix(".zip")
            found.append(outdir / f"asset.{key}")
    return found


def _import_seconds(python: Path, module: str, asset: Path | None) -> float:
    env = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    if asset is not None:
        env["PYTHONPATH"] = str(asset)
    result = subprocess.run(
        [str(python), "-c", IMPORT_PROBE.format(module=module)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def measure(
    workdir: Path, this_outdir: Path, custom_resource_outdir: Path, runs: int
) -> dict[str, Any]:
    """Median import times (alternating handler and floor) and zipped asset sizes."""
    python = boto3_only_python(workdir)
    (asset,) = lambda_asset_dirs(this_outdir)
    handler, floor = [], []
    for _ in range(runs):
        handler.append(_import_seconds(python, "cdk_sms_registration_handler.index", asset))
        floor.append(_import_seconds(python, "boto3", None))
    other_assets = lambda_asset_dirs(custom_resource_outdir)
    return {
        "handler_import_ms": median(handler) * 1000,
        "boto3_import_ms": median(floor) * 1000,
        "asset_zipped_bytes": zipped_bytes(asset),
        "aws_custom_resource_asset_zipped_bytes": zipped_bytes(other_assets[0])
        if other_assets
        else None,
    }
