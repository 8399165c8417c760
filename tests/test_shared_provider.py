"""The shared provider stack for hand-written templates, and CDK stacks that use it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_sms_registration import (
    SERVICE_TOKEN_EXPORT_NAME,
    AttachmentSource,
    RegistrationAttachment,
    SharedProviderStack,
    import_service_token,
)
from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE

from .cdk_apps import ENV, new_app, resources_of_type
from .conftest import SAMPLE_PDF


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = new_app(tmp_path_factory.mktemp("shared"))
    stack = SharedProviderStack(app, "SmsRegistrationAttachmentProvider")
    return dict(Template.from_stack(stack).to_json())


def _policies(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]


def test_exports_the_service_token(shared: dict[str, Any]) -> None:
    output = shared["Outputs"]["ServiceToken"]
    assert output["Export"] == {"Name": SERVICE_TOKEN_EXPORT_NAME}
    assert output["Value"]["Fn::GetAtt"][1] == "Arn"
    functions = [r for r in shared["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1


def test_reads_only_the_listed_objects(shared: dict[str, Any]) -> None:
    parameter = shared["Parameters"]["ReadableObjectArns"]
    assert parameter["Type"] == "CommaDelimitedList"
    assert "Default" not in parameter  # nothing readable unless the deployer lists it
    statements = [
        s for p in _policies(shared) for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    reads = [s for s in statements if s.get("Sid") == "ReadListedDocuments"]
    assert reads == [
        {
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Effect": "Allow",
            "Resource": {"Ref": "ReadableObjectArns"},
            "Sid": "ReadListedDocuments",
        }
    ]
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not any(action in ("s3:*", "*") for action in actions)
        if statement["Resource"] == "*":
            # Only actions without a resource type, and every create under a tag condition.
            assert set(actions) <= {
                "sms-voice:CreateRegistrationAttachment",
                "sms-voice:CreateRegistration",
                "sms-voice:DescribeRegistrationFieldDefinitions",
                "sms-voice:DescribeRegistrationSectionDefinitions",
                "sms-voice:DescribeRegistrationTypeDefinitions",
                "end-user-messaging:CreateBrandProfile",
            }
            if any(":Create" in action for action in actions):
                assert "Null" in statement["Condition"]


def test_serves_registrations_too(shared: dict[str, Any]) -> None:
    sids = {
        s.get("Sid")
        for p in _policies(shared)
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    }
    assert {
        "CreateTaggedRegistrations",
        "ChangeOwnRegistrations",
        "AssociateOwnRegistrations",
        "AssociateNumbersAndSenderIds",
        "AskCloudFormation",
    } <= sids


@pytest.mark.parametrize(
    ("entry", "accepted"),
    [
        ("arn:aws:s3:::my-bucket/sender-id/*", True),
        ("arn:aws:s3:::my-bucket/loa.pdf", True),
        ("arn:aws-us-gov:s3:::my.bucket-1/*", True),
        ("arn:aws:s3:::*", False),
        ("arn:aws:s3:::*/loa.pdf", False),
        ("arn:aws:s3:::my-bucket", False),
        ("*", False),
        ("my-bucket/sender-id/", False),
    ],
)
def test_readable_object_pattern(shared: dict[str, Any], entry: str, accepted: bool) -> None:
    pattern = shared["Parameters"]["ReadableObjectArns"]["AllowedPattern"]
    assert (re.fullmatch(pattern, entry) is not None) is accepted


def test_decrypt_only_for_given_keys(shared: dict[str, Any]) -> None:
    assert shared["Parameters"]["DecryptKeyArns"]["Default"] == ""
    decrypt = [p for p in _policies(shared) if p.get("Condition") == "HasDecryptKeys"]
    assert len(decrypt) == 1
    assert decrypt[0]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == {
        "Ref": "DecryptKeyArns"
    }
    assert json.dumps(shared["Conditions"]["HasDecryptKeys"]).count("DecryptKeyArns") == 1


def test_cdk_stack_can_use_the_shared_provider(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "UsesShared", env=ENV)
    RegistrationAttachment(
        stack,
        "Loa",
        source=AttachmentSource.from_file(str(SAMPLE_PDF)),
        service_token=import_service_token(),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 0)
    template.resource_count_is("AWS::IAM::Policy", 0)
    resource = next(iter(resources_of_type(template, RESOURCE_TYPE).values()))
    assert resource["Properties"]["ServiceToken"] == {"Fn::ImportValue": SERVICE_TOKEN_EXPORT_NAME}
    assert "DependsOn" not in resource
