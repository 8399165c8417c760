"""Whole lifecycles of the synthesized stacks: the shipped asset, CloudFormation's events, the fake.

Create -> tag-only Update -> source-change Update (replacement, old ID deleted in cleanup) ->
Delete, for every kind of source, and the example app exactly as the CDK CLI synthesizes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from cdk_sms_registration_handler.resource_contract import (
    ATTR_ARN,
    ATTR_CREATED,
    ATTR_ID,
    ATTR_STATUS,
    SOURCE_TAG_KEY,
)

from ..conftest import SAMPLE_PDF, SAMPLE_PNG
from .cloudformation import SUCCESS, CloudAssembly, DeployResult, StackDeployment
from .conftest import EXAMPLE_STACK, Deploy
from .fake_sms import ATTACHMENT_ID_RE, FakeSmsService
from .stacks import ATTACHMENT, BUCKET, KEY, NEW_KEY, TAGS_V1, TAGS_V2, VERSION_PARAMETER

CREATE = "CreateRegistrationAttachment"
PDF = SAMPLE_PDF.read_bytes()
#: Another PDF: same key, new content (a new object version), or a new key.
PDF_V2 = PDF + b"\n% revised letter\n"


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclasses.dataclass(frozen=True)
class Plan:
    """One source kind: its three stack versions and what the test uploads before each step."""

    first: str
    tags_changed: str
    source_changed: str
    #: Uploads the first document; returns the stack parameters to deploy with.
    prepare: Callable[[StackDeployment], dict[str, str]]
    #: Uploads the changed document; returns the stack parameters for the source change.
    change_source: Callable[[StackDeployment], dict[str, str]]
    first_content: bytes
    changed_content: bytes


def _no_upload(deployment: StackDeployment) -> dict[str, str]:
    return {}


def _upload(key: str, content: bytes) -> Callable[[StackDeployment], dict[str, str]]:
    def upload(deployment: StackDeployment) -> dict[str, str]:
        deployment.put_object(deployment.stack.logical_id(f"{BUCKET}/Resource"), key, content)
        return {}

    return upload


def _upload_version(content: bytes) -> Callable[[StackDeployment], dict[str, str]]:
    def upload(deployment: StackDeployment) -> dict[str, str]:
        bucket = deployment.stack.logical_id(f"{BUCKET}/Resource")
        version = deployment.put_object(bucket, KEY, content)
        assert version, "the template's bucket is versioned, so S3 must answer a VersionId"
        return {VERSION_PARAMETER: version}

    return upload


PLANS = {
    "from_file": Plan(
        "FileV1", "FileV2", "FileV3", _no_upload, _no_upload, PDF, SAMPLE_PNG.read_bytes()
    ),
    "from_bucket": Plan(
        "BucketV1", "BucketV2", "BucketV3", _upload(KEY, PDF), _upload(NEW_KEY, PDF_V2), PDF, PDF_V2
    ),
    "from_bucket_version_id": Plan(
        "VersionedV1",
        "VersionedV2",
        "VersionedV2",
        _upload_version(PDF),
        _upload_version(PDF_V2),
        PDF,
        PDF_V2,
    ),
}


def _only_live(sms_service: FakeSmsService) -> dict[str, Any]:
    live = sms_service.live_attachments()
    assert len(live) == 1, live
    return live[0]


def _user_tags(attachment: dict[str, Any]) -> dict[str, str]:
    tags = dict(attachment["Tags"])
    assert re.fullmatch(r"[0-9a-f]{64}:[0-9a-f]{32}", tags.pop(SOURCE_TAG_KEY, "")), (
        "every attachment carries its source fingerprint and owner mark"
    )
    return tags


def _check_created(
    result: DeployResult, deployment: StackDeployment, sms_service: FakeSmsService, content: bytes
) -> str:
    """One SUCCESS whose physical ID, attributes and service state agree; returns the ID."""
    (logical_id,) = deployment.stack.custom_resources()
    sent = result.one("Create" if result.status == "CREATE_COMPLETE" else "Update", logical_id)
    attachment_id = sent.physical_id
    assert sent.status == SUCCESS and attachment_id and ATTACHMENT_ID_RE.fullmatch(attachment_id)
    live = _only_live(sms_service)
    assert live["RegistrationAttachmentId"] == attachment_id
    assert live["AttachmentStatus"] == "UPLOAD_COMPLETE"
    assert live["AttachmentUrl"] == sent.event["ResourceProperties"]["AttachmentUrl"]
    assert live["ContentSha256"] == _sha(content)
    assert sent.data[ATTR_ID] == attachment_id
    assert sent.data[ATTR_ARN] == live["RegistrationAttachmentArn"]
    assert sent.data[ATTR_STATUS] == "UPLOAD_COMPLETE"
    assert sent.data[ATTR_CREATED].endswith("+00:00")
    return attachment_id


@pytest.mark.parametrize("kind", sorted(PLANS))
def test_full_lifecycle(
    kind: str, deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    plan = PLANS[kind]
    deployment = deploy(plan.first)
    deployment.provision()
    deployment.parameters.update(plan.prepare(deployment))
    logical_id = deployment.stack.logical_id(f"{ATTACHMENT}/Resource")

    # Create.
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    first_id = _check_created(created, deployment, sms_service, plan.first_content)
    assert _user_tags(_only_live(sms_service)) == TAGS_V1

    # Tag-only update: same attachment, tags reconciled on the service, nothing created.
    creates_before = sms_service.calls[CREATE]
    retagged = deployment.deploy(e2e_assembly.stack(plan.tags_changed))
    assert retagged.status == "UPDATE_COMPLETE", retagged.statuses
    assert [(s.request_type, s.status) for s in retagged.requests] == [("Update", SUCCESS)]
    assert retagged.requests[0].physical_id == first_id
    assert sms_service.calls[CREATE] == creates_before
    assert _user_tags(_only_live(sms_service)) == TAGS_V2

    # Source change: a new attachment (new physical ID), then CloudFormation deletes the old one.
    parameters = plan.change_source(deployment)
    replaced = deployment.deploy(e2e_assembly.stack(plan.source_changed), parameters=parameters)
    assert replaced.status == "UPDATE_COMPLETE", replaced.statuses
    assert [(s.request_type, s.status) for s in replaced.requests] == [
        ("Update", SUCCESS),
        ("Delete", SUCCESS),
    ]
    new_id = _check_created(replaced, deployment, sms_service, plan.changed_content)
    assert new_id != first_id
    assert replaced.requests[1].event["PhysicalResourceId"] == first_id
    old = sms_service.attachment(first_id)
    assert old is not None and old["Deleted"] is True
    assert _user_tags(_only_live(sms_service)) == TAGS_V2
    assert deployment.physical_id(logical_id) == new_id

    # Delete.
    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert deleted.one("Delete", logical_id).physical_id == new_id
    assert sms_service.live_attachments() == []


def test_example_app_as_the_cdk_cli_synthesizes_it(
    deploy: Deploy, example_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    deployment = deploy(example_assembly.stack(EXAMPLE_STACK))
    function = next(iter(deployment.stack.resources_of_type("AWS::Lambda::Function").values()))
    assert function["Properties"]["Handler"] == "cdk_sms_registration_handler.index.handler"

    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    attachment_id = _check_created(created, deployment, sms_service, PDF)
    live = _only_live(sms_service)
    assert live["AttachmentUrl"].startswith("s3://cdk-hnb659fds-assets-123456789012-us-east-1/")
    assert _user_tags(live) == {"purpose": "sender-id-registration"}
    assert deployment.outputs() == {
        "LetterOfAuthorizationId": attachment_id,
        "LetterOfAuthorizationArn": live["RegistrationAttachmentArn"],
    }

    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert sms_service.live_attachments() == []
