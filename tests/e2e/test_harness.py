"""The CloudFormation harness itself: intrinsic functions, the assembly reader, the Lambda runner.

The scenario tests trust these parts; here each is checked against a known answer, so a
harness bug shows up as a harness failure rather than as a green scenario.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from ..pythons import Interpreter, newest_python
from .cloudformation import (
    ASSET_BUCKET,
    NO_VALUE,
    CloudAssembly,
    LambdaFunction,
    LambdaRuntime,
    Scope,
    TemplateError,
    pseudo_parameters,
    references,
    resolve,
)
from .conftest import EXAMPLE_STACK

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Demo/0000"
SCOPE = Scope(
    pseudo=pseudo_parameters("Demo", STACK_ID),
    refs={"Docs": "demo-docs-1234", "DocVersion": "v-1"},
    attributes={("Docs", "Arn"): "arn:aws:s3:::demo-docs-1234", ("Att", "Id"): "ra-1"},
    exports={"shared-bucket": "shared-docs"},
)


def test_sub_fills_pseudo_parameters_refs_attributes_and_keeps_escapes() -> None:
    assert (
        resolve({"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, SCOPE)
        == ASSET_BUCKET
    )
    template = (
        "${Docs}|${Docs.Arn}|${!Literal}|${AWS::Partition}.${AWS::URLSuffix}|${AWS::StackName}"
    )
    assert resolve({"Fn::Sub": template}, SCOPE) == (
        "demo-docs-1234|arn:aws:s3:::demo-docs-1234|${Literal}|aws.amazonaws.com|Demo"
    )
    assert resolve({"Fn::Sub": ["${Name}/${DocVersion}", {"Name": {"Ref": "Docs"}}]}, SCOPE) == (
        "demo-docs-1234/v-1"
    )


def test_join_select_split_getatt_import_and_no_value() -> None:
    url = {"Fn::Join": ["", ["s3://", {"Ref": "Docs"}, "/", {"Fn::ImportValue": "shared-bucket"}]]}
    assert resolve(url, SCOPE) == "s3://demo-docs-1234/shared-docs"
    assert resolve({"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}, SCOPE) == "b"
    assert resolve({"Fn::GetAtt": ["Att", "Id"]}, SCOPE) == "ra-1"
    assert resolve({"Fn::GetAtt": "Docs.Arn"}, SCOPE) == "arn:aws:s3:::demo-docs-1234"
    assert resolve({"Fn::Base64": "hi"}, SCOPE) == "aGk="
    properties = {"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}], "C": "x"}
    assert resolve(properties, SCOPE) == {"B": [1], "C": "x"}
    assert resolve({"Ref": "AWS::NoValue"}, SCOPE) is NO_VALUE


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "Nothing"},
        {"Fn::GetAtt": ["Docs", "WebsiteURL"]},
        {"Fn::ImportValue": "not-exported"},
        {"Fn::If": ["Cond", "a", "b"]},
        {"Fn::Sub": "${Nothing}"},
    ],
)
def test_what_cannot_be_resolved_is_an_error_not_a_guess(value: object) -> None:
    with pytest.raises(TemplateError):
        resolve(value, SCOPE)


def test_references_follow_ref_getatt_and_sub() -> None:
    fragment = {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::GetAtt": ["Other", "Arn"]},
        "C": {"Fn::Sub": "${Third.Id}-${AWS::Region}-${!Not}"},
        "D": {"Ref": "AWS::AccountId"},
    }
    assert references(fragment) == {"Bucket", "Other", "Third", "AWS::AccountId"}


def test_example_assembly_names_its_staged_handler(example_assembly: CloudAssembly) -> None:
    stack = example_assembly.stack(EXAMPLE_STACK)
    (function,) = stack.resources_of_type("AWS::Lambda::Function").values()
    assets = stack.file_assets(pseudo_parameters(EXAMPLE_STACK, STACK_ID))
    (code,) = [a for a in assets if a.object_key == function["Properties"]["Code"]["S3Key"]]
    assert code.packaging == "zip" and code.bucket_name == ASSET_BUCKET
    assert {p.name for p in code.source.iterdir()} >= {"cdk_sms_registration_handler", "crhelper"}
    assert list(code.source.rglob("__pycache__")) == [], "the staged asset stays as synthesized"
    assert len(stack.custom_resources()) == 1


def _probe_function(tmp_path: Path, source: str, timeout: int) -> LambdaFunction:
    asset = tmp_path / "asset"
    asset.mkdir()
    (asset / "probe.py").write_text(source)
    return LambdaFunction(
        logical_id="Probe",
        name="probe",
        arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
        handler="probe.handler",
        timeout_seconds=timeout,
        memory_mb=128,
        runtime="python3.14",
        asset_dir=asset,
        environment={},
    )


PROBE = """
import importlib.util, json, os

def handler(event, context):
    names = ("boto3", "aws_cdk", "moto", "pytest", "crhelper", "cdk_sms_registration")
    print("PROBE" + json.dumps({
        "found": {name: importlib.util.find_spec(name) is not None for name in names},
        "env": sorted(os.environ),
        "remaining": context.get_remaining_time_in_millis(),
        "event": event,
    }))
"""


def test_runner_gives_the_handler_only_the_asset_and_boto3(
    lambda_runtime: LambdaRuntime, tmp_path: Path
) -> None:
    function = _probe_function(tmp_path, PROBE, timeout=30)
    invocation = lambda_runtime.invoke(function, {"hello": "world"})
    assert invocation.exit_code == 0, invocation.log_tail()
    line = next(x for x in invocation.log_path.read_text().splitlines() if x.startswith("PROBE"))
    probe = json.loads(line[len("PROBE") :])
    assert probe["found"] == {
        "boto3": True,
        "aws_cdk": False,
        "moto": False,
        "pytest": False,
        "crhelper": False,
        "cdk_sms_registration": False,
    }
    assert set(probe["env"]) <= set(lambda_runtime.environment(function)) | {"LC_CTYPE"}
    assert 25_000 < probe["remaining"] <= 30_000
    assert probe["event"] == {"hello": "world"}


def test_runner_runs_under_the_newest_installed_python(
    lambda_runtime: LambdaRuntime, lambda_python: Interpreter, tmp_path: Path
) -> None:
    # The Lambda runtime (python3.14) is newer than the dev environment: no older Python is used.
    assert lambda_python == newest_python()
    assert lambda_python.version >= sys.version_info[:3]
    config = (lambda_runtime.venv / "pyvenv.cfg").read_text()
    assert f"home = {lambda_python.path.parent}" in config.splitlines()
    source = "import sys\n\ndef handler(event, context):\n    print('PY', sys.version)\n"
    invocation = lambda_runtime.invoke(_probe_function(tmp_path, source, timeout=30), {})
    assert invocation.exit_code == 0, invocation.log_tail()
    assert invocation.result is not None
    assert invocation.result["pythonVersion"] == lambda_python.version_text
    assert invocation.result["pythonImplementation"] == "cpython"
    assert f"PY {lambda_python.version_text}" in invocation.log_path.read_text()


def test_runner_ends_the_invocation_at_the_timeout(
    lambda_runtime: LambdaRuntime, tmp_path: Path
) -> None:
    source = "import time\n\ndef handler(event, context):\n    time.sleep(30)\n"
    invocation = lambda_runtime.invoke(_probe_function(tmp_path, source, timeout=1), {})
    assert invocation.timed_out and invocation.exit_code == 124
    assert invocation.duration < 10


def test_runner_shortens_the_named_waits_of_the_handler_package_only(
    lambda_runtime: LambdaRuntime, tmp_path: Path
) -> None:
    function = _probe_function(tmp_path, "", timeout=30)
    package = function.asset_dir / "probe"
    package.mkdir()
    (function.asset_dir / "probe.py").unlink()
    (package / "__init__.py").write_text("")
    (package / "waits.py").write_text("CONFIRM_POLL_SECONDS = 0.5\nOTHER_SECONDS = 7.0\n")
    (package / "index.py").write_text(
        "from . import waits\n\ndef handler(event, context):\n"
        "    print('WAITS', waits.CONFIRM_POLL_SECONDS, waits.OTHER_SECONDS)\n"
    )
    function = dataclasses.replace(function, handler="probe.index.handler")
    shipped = dict(lambda_runtime.short_waits)
    try:
        invocation = lambda_runtime.invoke(function, {})
        lambda_runtime.short_waits = {}
        unchanged = lambda_runtime.invoke(function, {})
    finally:
        lambda_runtime.short_waits = shipped
    assert invocation.result is not None and unchanged.result is not None
    assert invocation.result["shortenedWaits"] == ["probe.waits.CONFIRM_POLL_SECONDS"]
    assert "WAITS 0.02 7.0" in invocation.log_path.read_text()
    assert unchanged.result["shortenedWaits"] == []
    assert "WAITS 0.5 7.0" in unchanged.log_path.read_text()
