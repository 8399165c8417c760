"""The cfn-lint rule shipped in cfn-lint/: typos and broken values fail before deploy."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from cdk_sms_registration_handler import resource_contract as contract

from .conftest import REPO

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
RULES = REPO / "cfn-lint"
EXAMPLE = REPO / "examples" / "cloudformation" / "registration-attachment.yaml"
TOKEN = {"Fn::ImportValue": "SmsRegistrationAttachmentServiceToken"}


def _lint(template: Path, *, with_rule: bool = True) -> list[dict[str, Any]]:
    """cfn-lint's findings as JSON, the way a pipeline would run it."""
    rules = ["--append-rules", str(RULES)] if with_rule else []
    result = subprocess.run(
        [CFN_LINT, "--format", "json", *rules, "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 2), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


def _attachment(**properties: Any) -> dict[str, Any]:
    return {"Type": contract.RESOURCE_TYPE, "Properties": {"ServiceToken": TOKEN, **properties}}


def _rule_module() -> ModuleType:
    path = RULES / "sms_registration_attachment.py"
    spec = importlib.util.spec_from_file_location("sms_registration_attachment_rule", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_typo_in_the_example_fails_and_names_the_property(tmp_path: Path) -> None:
    template = cfn_yaml.load(str(EXAMPLE))
    properties = template["Resources"]["LetterOfAuthorization"]["Properties"]
    properties["AttachmentURL"] = properties.pop("AttachmentUrl")
    broken = tmp_path / "typo.json"
    broken.write_text(json.dumps(template))

    assert _lint(broken, with_rule=False) == []  # what cfn-lint sees without the rule
    findings = _lint(broken)

    assert {f["Rule"]["Id"] for f in findings} == {"E9101"}
    messages = [f["Message"] for f in findings]
    assert any("'AttachmentURL' was unexpected" in m and "'AttachmentUrl'" in m for m in messages)
    assert any("'AttachmentUrl' is a required property" in m for m in messages)
    assert {tuple(f["Location"]["Path"][:2]) for f in findings} == {
        ("Resources", "LetterOfAuthorization")
    }


def test_the_example_passes() -> None:
    assert _lint(EXAMPLE) == []


@pytest.mark.parametrize(
    ("properties", "flagged"),
    [
        ({"AttachmentUrl": "https://b.s3.amazonaws.com/loa.pdf"}, "AttachmentUrl"),
        ({"AttachmentUrl": "s3://bucket-only"}, "AttachmentUrl"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "MaxSizeBytes": 0}, "MaxSizeBytes"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "MaxSizeBytes": "big"}, "MaxSizeBytes"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "ServiceTimeout": 7200}, "ServiceTimeout"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "Tags": {"team": "messaging"}}, "Tags"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "Tags": [{"Key": "AWS:x", "Value": ""}]}, "Tags"),
        (
            {
                "AttachmentUrl": "s3://b/loa.pdf",
                "Tags": [{"Key": contract.SOURCE_TAG_KEY, "Value": ""}],
            },
            "Tags",
        ),
        ({"AttachmentUrl": "s3://b/loa.pdf", "Tags": [{"Key": "team"}]}, "Tags"),
    ],
)
def test_broken_value_fails_and_a_good_neighbour_passes(
    tmp_path: Path, properties: dict[str, Any], flagged: str
) -> None:
    template = tmp_path / "template.json"
    good = _attachment(
        AttachmentUrl={"Fn::Sub": "s3://${AWS::AccountId}-documents/loa.pdf"},
        MaxSizeBytes="1048576",  # CloudFormation sends numbers as strings anyway
        ServiceTimeout=1200,
        AttachmentVersionId="3sL4kqtJlcpXroDTDmJ",
        Tags=[{"Key": "team", "Value": "messaging"}],
    )
    resources = {"Good": good, "Broken": _attachment(**properties)}
    template.write_text(json.dumps({"Resources": resources}))

    findings = _lint(template)

    assert findings, "nothing flagged"
    assert {tuple(f["Location"]["Path"][:4]) for f in findings} == {
        ("Resources", "Broken", "Properties", flagged)
    }


def test_schema_follows_the_resource_contract() -> None:
    rule = _rule_module()
    schema = rule.SCHEMA
    assert rule.RESOURCE_TYPE == contract.RESOURCE_TYPE
    assert set(schema["properties"]) == set(contract.KNOWN_PROPERTIES)
    assert set(schema["required"]) == {contract.SERVICE_TOKEN, contract.ATTACHMENT_URL}
    assert schema["properties"]["AttachmentUrl"]["maxLength"] == contract.MAX_URL_CHARS
    tags = schema["properties"]["Tags"]
    assert tags["maxItems"] == contract.MAX_USER_TAGS
    assert tags["items"]["properties"]["Key"]["maxLength"] == contract.MAX_TAG_KEY_CHARS
    assert tags["items"]["properties"]["Value"]["maxLength"] == contract.MAX_TAG_VALUE_CHARS
    assert contract.SOURCE_TAG_KEY in tags["items"]["properties"]["Key"]["pattern"]
