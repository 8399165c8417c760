"""``python -m cdk_sms_registration provider-template``: the template, the zip, the next steps."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import zipfile
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from cdk_sms_registration import SharedProviderStack
from cdk_sms_registration.provider_template import (
    STACK_NAME,
    ProviderTemplate,
    boundary_argument,
    bucket_argument,
    prefix_argument,
    write_zip,
)

from .cdk_apps import flat, new_app
from .conftest import REPO

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
BUCKET = "my-artifacts-bucket"
BOUNDARY = "team-boundary"
HANDLER_INDEX = REPO / "lambda" / "cdk_sms_registration_handler" / "index.py"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdk_sms_registration", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The command run as a user runs it."""
    output = tmp_path_factory.mktemp("provider") / "out"
    result = run_cli(
        *("provider-template", "--bucket", BUCKET, "--prefix", "/lambda/sms/"),
        *("--permissions-boundary", BOUNDARY, "--output", str(output)),
    )
    assert result.returncode == 0, result.stderr
    (template_path,) = output.glob("*.template.json")
    (zip_path,) = output.glob("*.zip")
    return {
        "stdout": result.stdout,
        "template_path": template_path,
        "template": json.loads(template_path.read_text()),
        "zip_path": zip_path,
    }


@pytest.fixture(scope="module")
def cdk_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """SharedProviderStack as ``cdk deploy SmsRegistrationAttachmentProvider`` deploys it."""
    app = new_app(tmp_path_factory.mktemp("shared"))
    return dict(Template.from_stack(SharedProviderStack(app, STACK_NAME)).to_json())


def _function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (lid, r) for lid, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    ]
    return found


def test_same_parameters_export_and_resources_as_the_cdk_stack(
    written: dict[str, Any], cdk_template: dict[str, Any]
) -> None:
    template = written["template"]
    assert template["Parameters"] == {
        name: parameter
        for name, parameter in cdk_template["Parameters"].items()
        if name != "BootstrapVersion"
    }
    assert template["Outputs"] == cdk_template["Outputs"]
    assert template["Conditions"] == cdk_template["Conditions"]
    for logical_id, resource in cdk_template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            continue
        written_resource = json.loads(json.dumps(template["Resources"][logical_id]))
        if resource["Type"] == "AWS::IAM::Role":
            boundary = written_resource["Properties"].pop("PermissionsBoundary")
            assert flat(boundary).endswith(f":policy/{BOUNDARY}")
        assert written_resource == resource, logical_id
    assert set(template["Resources"]) == set(cdk_template["Resources"])


def test_no_cdk_bootstrap_or_metadata(written: dict[str, Any]) -> None:
    text = written["template_path"].read_text()
    for cdk_only in ("aws:cdk:", "aws:asset:", "CDKMetadata", "BootstrapVersion", "cdk-hnb659fds"):
        assert cdk_only not in text
    assert "Rules" not in written["template"]
    assert "cdk-sms-registration" in written["template"]["Description"]


def test_function_loads_the_zip_named_after_the_asset_hash(
    written: dict[str, Any], cdk_template: dict[str, Any]
) -> None:
    logical_id, function = _function(written["template"])
    cdk_logical_id, cdk_function = _function(cdk_template)
    assert logical_id == cdk_logical_id  # the ServiceToken every attachment holds
    asset_hash = cdk_function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    assert asset_hash in written["zip_path"].name
    assert function["Properties"]["Code"] == {
        "S3Bucket": BUCKET,
        "S3Key": f"lambda/sms/{written['zip_path'].name}",
    }
    rest = {k: v for k, v in function["Properties"].items() if k != "Code"}
    assert rest == {k: v for k, v in cdk_function["Properties"].items() if k != "Code"}


def test_zip_holds_the_handler_and_crhelper_readable_by_lambda(written: dict[str, Any]) -> None:
    with zipfile.ZipFile(written["zip_path"]) as archive:
        infos = archive.infolist()
        index = archive.read("cdk_sms_registration_handler/index.py")
    top_level = {info.filename.split("/")[0] for info in infos}
    assert {"cdk_sms_registration_handler", "crhelper"} <= top_level
    assert all(name.startswith(("cdk_sms_registration_handler", "crhelper")) for name in top_level)
    assert index == HANDLER_INDEX.read_bytes()
    assert not [
        i.filename for i in infos if "__pycache__" in i.filename or i.filename.endswith(".pyc")
    ]
    assert all((info.external_attr >> 16) & 0o444 == 0o444 for info in infos)


def test_prints_the_commands_that_match_the_template(written: dict[str, Any]) -> None:
    lines = [line.strip() for line in written["stdout"].splitlines()]
    upload = shlex.split(next(line for line in lines if line.startswith("aws s3 cp")))
    code = _function(written["template"])[1]["Properties"]["Code"]
    assert upload[3:] == [str(written["zip_path"]), f"s3://{code['S3Bucket']}/{code['S3Key']}"]
    deploy_at = lines.index(next(line for line in lines if "aws cloudformation deploy" in line))
    command = shlex.split(" ".join(lines[deploy_at : deploy_at + 4]).replace("\\", ""))
    assert command[command.index("--template-file") + 1] == str(written["template_path"])
    assert "CAPABILITY_IAM" in command
    assert command[command.index("--stack-name") + 1] == STACK_NAME


def test_cfn_lint_clean(written: dict[str, Any]) -> None:
    result = subprocess.run(
        [CFN_LINT, str(written["template_path"])], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zip_is_reproducible(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "a.py").write_text("A = 1\n")
    (source / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    write_zip(source, tmp_path / "first.zip")
    os.utime(source / "pkg" / "a.py", (0, 2_000_000_000))
    write_zip(source, tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "first.zip").namelist() == ["pkg/a.py"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("s3://my-bucket", "is not an S3 bucket name"),
        ("My_Bucket", "is not an S3 bucket name"),
        ("ab", "is not an S3 bucket name"),
        ("artifacts-${AWS::StackName}", "only ${AWS::Region} and ${AWS::AccountId}"),
    ],
)
def test_bad_bucket(value: str, message: str) -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        bucket_argument(value)
    assert str(raised.value).startswith(repr(value))
    assert message in str(raised.value)


@pytest.mark.parametrize("value", ["arn:aws:iam::*:policy/x", "has space", "arn:aws:s3:::b"])
def test_bad_permissions_boundary(value: str) -> None:
    with pytest.raises(ArgumentTypeError, match="neither an IAM policy name"):
        boundary_argument(value)


def test_bucket_may_name_the_region_and_account() -> None:
    value = "artifacts-${AWS::AccountId}-${AWS::Region}"
    assert bucket_argument(value) == value


@pytest.mark.parametrize("value", ["../escape", "a//b", "with space", "a/${x}"])
def test_bad_prefix(value: str) -> None:
    with pytest.raises(ArgumentTypeError, match="is not a key prefix"):
        prefix_argument(value)


def test_bad_arguments_exit_2_before_any_synth(tmp_path: Path) -> None:
    result = run_cli("provider-template", "--bucket", "s3://x", "--output", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "argument --bucket: 's3://x' is not an S3 bucket name" in result.stderr
    assert not (tmp_path / "o").exists()


def test_next_steps_with_a_bucket_per_region(tmp_path: Path) -> None:
    written = ProviderTemplate(
        tmp_path / "t.json", tmp_path / "p.zip", "artifacts-${AWS::Region}", "p.zip"
    )
    upload = next(line for line in written.next_steps().splitlines() if "aws s3 cp" in line)
    assert shlex.split(upload)[-1] == "s3://artifacts-${AWS_REGION}/p.zip"
    assert "every region" in written.next_steps()
