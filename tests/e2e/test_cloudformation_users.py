"""Teams without CDK: the shared provider stack and a hand-written template that imports it.

Also ``Tags.of()`` reaching the service (issue 5).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from cdk_sms_registration.shared_provider import SERVICE_TOKEN_EXPORT_NAME
from cdk_sms_registration_handler.resource_contract import SOURCE_TAG_KEY

from ..conftest import REPO, SAMPLE_PDF, SAMPLE_PNG
from .cloudformation import SUCCESS, StackArtifact
from .conftest import Deploy
from .fake_sms import FakeSmsService
from .stacks import ATTACHMENT

TEMPLATE = REPO / "examples" / "cloudformation" / "registration-attachment.yaml"
DOCUMENTS_BUCKET = "hand-written-documents-e2e"


def _hand_written_stack(directory: Path) -> StackArtifact:
    """The example YAML as CloudFormation reads it (short-form tags expanded), as an artifact."""
    (directory / "HandWritten.template.json").write_text(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    return StackArtifact(directory, "HandWritten", {"templateFile": "HandWritten.template.json"})


def _tags(sms_service: FakeSmsService, attachment_id: str) -> dict[str, str]:
    attachment = sms_service.attachment(attachment_id)
    assert attachment is not None, attachment_id
    tags: dict[str, str] = attachment["Tags"]
    return tags


def test_hand_written_template_through_the_shared_provider(
    deploy: Deploy, sms_service: FakeSmsService, s3_client: Any, tmp_path: Path
) -> None:
    provider = deploy(
        "SharedProvider",
        parameters={"ReadableObjectArns": f"arn:aws:s3:::{DOCUMENTS_BUCKET}/sender-id/*"},
    )
    service_token = provider.outputs()["ServiceToken"]
    s3_client.create_bucket(Bucket=DOCUMENTS_BUCKET)
    s3_client.put_object(
        Bucket=DOCUMENTS_BUCKET,
        Key="sender-id/letter-of-authorization.pdf",
        Body=SAMPLE_PDF.read_bytes(),
    )
    s3_client.put_object(
        Bucket=DOCUMENTS_BUCKET,
        Key="sender-id/company-registration.png",
        Body=SAMPLE_PNG.read_bytes(),
    )
    stack = deploy(
        _hand_written_stack(tmp_path),
        parameters={"DocumentsBucket": DOCUMENTS_BUCKET},
        exports={SERVICE_TOKEN_EXPORT_NAME: service_token},
        providers=[provider],
    )

    created = stack.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    letter = stack.physical_id("LetterOfAuthorization")
    company = stack.physical_id("CompanyRegistration")
    # MaxSizeBytes came as a string ("1048576"), like every scalar CloudFormation sends.
    company_properties = created.one("Create", "CompanyRegistration").event["ResourceProperties"]
    assert company_properties["MaxSizeBytes"] == "1048576"
    assert {a["RegistrationAttachmentId"] for a in sms_service.live_attachments()} == {
        letter,
        company,
    }
    outputs = stack.outputs()
    assert outputs["LetterOfAuthorizationId"] == letter
    assert outputs["CompanyRegistrationArn"].endswith(f":registration-attachment/{company}")
    assert _tags(sms_service, letter) == {
        "team": "messaging",
        "registration": "sender-id",
        SOURCE_TAG_KEY: _tags(sms_service, letter)[SOURCE_TAG_KEY],
    }

    properties = dict(stack.resolved_properties("LetterOfAuthorization"))
    properties["Tags"] = [{"Key": "team", "Value": "sms-platform"}]
    updated = stack.update("LetterOfAuthorization", properties)
    assert updated.status == "UPDATE_COMPLETE", updated.statuses
    assert stack.physical_id("LetterOfAuthorization") == letter
    tags = _tags(sms_service, letter)
    assert tags["team"] == "sms-platform" and "registration" not in tags

    deleted = stack.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert [s.logical_id for s in deleted.requests] == ["LetterOfAuthorization"]
    # DeletionPolicy: Retain keeps the company registration on the service.
    assert stack.retained == {"CompanyRegistration": company}
    assert [a["RegistrationAttachmentId"] for a in sms_service.live_attachments()] == [company]
    sms_service.client().delete_registration_attachment(RegistrationAttachmentId=company)


def test_hand_written_mistake_fails_without_calling_the_service(
    deploy: Deploy, sms_service: FakeSmsService, tmp_path: Path
) -> None:
    provider = deploy(
        "SharedProvider", parameters={"ReadableObjectArns": "arn:aws:s3:::any-bucket/*"}
    )
    template = cfn_yaml.load(str(TEMPLATE))
    letter = template["Resources"]["LetterOfAuthorization"]["Properties"]
    letter["AttachmentUrl"] = "https://any-bucket.s3.amazonaws.com/sender-id/loa.pdf"
    letter["Tags"] = {"team": "messaging"}
    del template["Resources"]["CompanyRegistration"]
    template["Outputs"] = {}
    (tmp_path / "Broken.template.json").write_text(json.dumps(template))
    artifact = StackArtifact(tmp_path, "Broken", {"templateFile": "Broken.template.json"})
    stack = deploy(
        artifact,
        parameters={"DocumentsBucket": "any-bucket"},
        exports={SERVICE_TOKEN_EXPORT_NAME: provider.outputs()["ServiceToken"]},
        providers=[provider],
    )

    result = stack.create_all()

    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    create = result.one("Create", "LetterOfAuthorization")
    assert create.reason.startswith("AttachmentUrl: 'https://any-bucket.s3.amazonaws.com/")
    assert "is an HTTP URL" in create.reason
    assert sum(sms_service.calls.values()) == 0
    assert result.one("Delete", "LetterOfAuthorization").status == SUCCESS


def test_tags_of_reach_the_service_and_the_prop_wins(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    stack = deploy("Tagged")
    created = stack.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    attachment_id = stack.physical_id(stack.stack.logical_id(f"{ATTACHMENT}/Resource"))
    tags = _tags(sms_service, attachment_id)
    assert tags["team"] == "messaging"
    assert tags["owner"] == "attachment-prop"
    assert not any(key.startswith("aws:") for key in tags)
    assert stack.delete_all().status == "DELETE_COMPLETE"
