"""The wheel: built, installed into a fresh venv, used from outside the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cdk_sms_registration_handler import CRHELPER_REQUIREMENT

from .conftest import REPO, SAMPLE_PDF

pytestmark = pytest.mark.slow

CONSUMER_APP = """
import aws_cdk as cdk
from cdk_sms_registration import AttachmentSource, RegistrationAttachment

app = cdk.App(outdir="cdk.out")
stack = cdk.Stack(app, "Consumer", env=cdk.Environment(account="123456789012", region="us-east-1"))
loa = RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file("loa.pdf"))
cdk.CfnOutput(stack, "LoaId", value=loa.attachment_id)
app.synth()
"""


def _run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", outdir, REPO)
    (built,) = outdir.glob("cdk_sms_registration-*.whl")
    return built


def test_wheel_carries_both_packages_and_real_dependency_ranges(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist")
        ]
    assert "cdk_sms_registration/__init__.py" in names
    assert "cdk_sms_registration/py.typed" in names
    for module in (
        "index",
        "attachments",
        "document_rules",
        "resource_contract",
        "retries",
        "s3_source",
    ):
        assert f"cdk_sms_registration_handler/{module}.py" in names
    assert not any(name.startswith(("tests/", "constructs/", "lambda/")) for name in names)
    assert "Requires-Dist: aws-cdk-lib<3.0.0,>=2.275.0" in requires
    assert "Requires-Dist: constructs<11.0.0,>=10.5.0" in requires
    # The Lambda asset copies the installed crhelper: the wheel pins exactly that release.
    assert f"Requires-Dist: {CRHELPER_REQUIREMENT}" in requires


def test_installed_wheel_synthesizes_outside_the_repo(
    wheel: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    venv = tmp_path_factory.mktemp("consumer") / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    # Constrained to the tested pins, so this installs what the suite tested (from pip's cache).
    _run(python, "-m", "pip", "install", "--quiet", "-c", REPO / "requirements-dev.txt", wheel)

    project = tmp_path / "consumer"
    project.mkdir()
    (project / "app.py").write_text(CONSUMER_APP)
    (project / "loa.pdf").write_bytes(SAMPLE_PDF.read_bytes())
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONPATH": "",
        # A cache of its own, so the asset is assembled from this venv's crhelper.
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    _run(python, "app.py", cwd=project, env=env)

    template = json.loads((project / "cdk.out" / "Consumer.template.json").read_text())
    function = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    asset = (
        project
        / "cdk.out"
        / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    )
    assert (asset / "cdk_sms_registration_handler" / "index.py").is_file()
    assert (asset / "crhelper" / "resource_helper.py").is_file()

    # Lambda's view: the asset directory and boto3, nothing else.
    boto_only = tmp_path_factory.mktemp("boto3-only") / "venv"
    _run(sys.executable, "-m", "venv", boto_only)
    _run(
        boto_only / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        REPO / "requirements-dev.txt",
        "boto3",
    )
    probe = (
        "import cdk_sms_registration_handler.index as handler, crhelper, sys;"
        "assert handler.__file__.startswith(sys.argv[1]), handler.__file__;"
        "assert crhelper.__file__.startswith(sys.argv[1]), crhelper.__file__;"
        "print(callable(handler.handler))"
    )
    lambda_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(asset), "AWS_REGION": "us-east-1"}
    assert (
        _run(boto_only / "bin" / "python", "-c", probe, str(asset), env=lambda_env).strip()
        == "True"
    )
    with pytest.raises(AssertionError, match="No module named 'aws_cdk'"):
        _run(boto_only / "bin" / "python", "-c", "import aws_cdk", env=lambda_env)


def test_release_artifacts_pass_twine_check(tmp_path: Path) -> None:
    _run(sys.executable, "-m", "build", "--outdir", tmp_path, REPO)
    artifacts = sorted(path.name for path in tmp_path.iterdir())
    assert [name.split("-")[0] for name in artifacts] == ["cdk_sms_registration"] * 2
    assert any(name.endswith(".tar.gz") for name in artifacts)
    assert "PASSED" in _run(sys.executable, "-m", "twine", "check", *sorted(tmp_path.iterdir()))
