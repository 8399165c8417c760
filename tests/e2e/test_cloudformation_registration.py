"""The hand-written ``examples/cloudformation/registration.yaml`` through the shared provider.

A team without CDK declares an opt-in screenshot attachment and a US toll-free registration that
references it (``!GetAtt OptInScreenshot.RegistrationAttachmentId``), the number associated.
Played as written: create a DRAFT, update the ``Submit`` parameter to submit it (no field
written again), delete the stack (both retained, the provider never asked). Played with
``DeletionPolicy: Delete`` and no number: the stack delete deletes both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from cdk_sms_registration.shared_provider import SERVICE_TOKEN_EXPORT_NAME

from ..conftest import REPO, SAMPLE_PNG
from .cloudformation import StackArtifact, StackDeployment
from .conftest import Deploy
from .fake_registration_types import TOLL_FREE
from .fake_sms import FakeSmsService

TEMPLATE = REPO / "examples" / "cloudformation" / "registration.yaml"
DOCUMENTS_BUCKET = "hand-written-registration-e2e"
SCREENSHOT_KEY = "toll-free/opt-in-screenshot.png"
ATTACHMENT = "OptInScreenshot"
REGISTRATION = "TollFreeRegistration"
#: SELECT fields given as one ``Text`` in the template: the service holds a single choice.
ONE_CHOICE_AS_TEXT = {"messagingUseCase.monthlyMessageVolume"}


def _template() -> dict[str, Any]:
    """The example YAML as CloudFormation reads it (short-form tags expanded)."""
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    return loaded


def _artifact(directory: Path, name: str, template: dict[str, Any]) -> StackArtifact:
    (directory / f"{name}.template.json").write_text(json.dumps(template))
    return StackArtifact(directory, name, {"templateFile": f"{name}.template.json"})


def _expected_values(template: dict[str, Any], attachment_id: str) -> dict[str, dict[str, Any]]:
    """What the service should hold for the template's Fields (wire shapes, by path)."""
    expected: dict[str, dict[str, Any]] = {}
    for entry in template["Resources"][REGISTRATION]["Properties"]["Fields"]:
        path = entry["Path"]
        if "AttachmentId" in entry:
            expected[path] = {"RegistrationAttachmentId": attachment_id}
        elif "Choices" in entry:
            expected[path] = {"SelectChoices": entry["Choices"]}
        elif path in ONE_CHOICE_AS_TEXT:
            expected[path] = {"SelectChoices": [entry["Text"]]}
        else:
            expected[path] = {"TextValue": entry["Text"]}
    return expected


def _deploy(
    deploy: Deploy,
    sms_service: FakeSmsService,
    s3_client: Any,
    artifact: StackArtifact,
    number_id: str,
) -> StackDeployment:
    provider = deploy(
        "SharedProvider",
        parameters={"ReadableObjectArns": f"arn:aws:s3:::{DOCUMENTS_BUCKET}/toll-free/*"},
    )
    s3_client.create_bucket(Bucket=DOCUMENTS_BUCKET)
    s3_client.put_object(Bucket=DOCUMENTS_BUCKET, Key=SCREENSHOT_KEY, Body=SAMPLE_PNG.read_bytes())
    return deploy(
        artifact,
        parameters={"DocumentsBucket": DOCUMENTS_BUCKET, "TollFreeNumberId": number_id},
        exports={SERVICE_TOKEN_EXPORT_NAME: provider.outputs()["ServiceToken"]},
        providers=[provider],
    )


def _registration(sms_service: FakeSmsService, registration_id: str) -> dict[str, Any]:
    found = sms_service.registrations.registration(registration_id)
    assert found is not None, registration_id
    return found


def test_hand_written_registration_draft_then_submitted(
    deploy: Deploy, sms_service: FakeSmsService, s3_client: Any, tmp_path: Path
) -> None:
    template = _template()
    number = sms_service.registrations.add_phone_number(number_type="TOLL_FREE")
    stack = _deploy(
        deploy,
        sms_service,
        s3_client,
        _artifact(tmp_path, "HandWrittenRegistration", template),
        number["PhoneNumberId"],
    )

    created = stack.create_all()

    assert created.status == "CREATE_COMPLETE", created.statuses
    # The registration waited for the attachment it references.
    order = [sent.logical_id for sent in created.requests]
    assert order == [ATTACHMENT, REGISTRATION]
    attachment_id = stack.physical_id(ATTACHMENT)
    registration_id = stack.physical_id(REGISTRATION)
    registration = _registration(sms_service, registration_id)
    assert registration["RegistrationType"] == TOLL_FREE
    assert registration["RegistrationStatus"] == "CREATED"
    assert [v["RegistrationVersionStatus"] for v in registration["Versions"]] == ["DRAFT"]
    assert sms_service.registrations.field_values(registration_id) == _expected_values(
        template, attachment_id
    )
    assert [a["ResourceId"] for a in registration["Associations"]] == [number["PhoneNumberId"]]
    assert registration["Tags"]["team"] == "messaging"
    outputs = stack.outputs()
    assert outputs["RegistrationId"] == registration_id
    assert outputs["RegistrationArn"] == registration["RegistrationArn"]
    assert (outputs["RegistrationStatus"], outputs["VersionNumber"]) == ("CREATED", "1")
    assert outputs["VersionStatus"] == "DRAFT"
    writes_before = len(registration["WriteLog"])

    submitted = stack.deploy(stack.stack, parameters={"Submit": "true"})

    assert submitted.status == "UPDATE_COMPLETE", submitted.statuses
    assert [(s.request_type, s.logical_id) for s in submitted.requests] == [
        ("Update", REGISTRATION)
    ]
    assert stack.physical_id(REGISTRATION) == registration_id
    registration = _registration(sms_service, registration_id)
    # The DRAFT already held every field: the update only submitted it.
    new_writes = registration["WriteLog"][writes_before:]
    assert [entry["Operation"] for entry in new_writes] == ["SubmitRegistrationVersion"]
    assert registration["RegistrationStatus"] == "SUBMITTED"
    assert registration["Versions"][-1]["RegistrationVersionStatus"] == "SUBMITTED"
    assert not registration["Versions"][-1]["AutoDenyPending"]  # nothing required is missing
    outputs = stack.outputs()
    assert (outputs["RegistrationStatus"], outputs["VersionStatus"]) == ("SUBMITTED", "SUBMITTED")

    deleted = stack.delete_all()

    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert deleted.requests == []  # DeletionPolicy: Retain on both: the provider is never asked
    assert stack.retained == {ATTACHMENT: attachment_id, REGISTRATION: registration_id}
    assert not _registration(sms_service, registration_id)["Deleted"]
    assert [a["RegistrationAttachmentId"] for a in sms_service.live_attachments()] == [
        attachment_id
    ]


def test_hand_written_registration_deleted_with_the_stack(
    deploy: Deploy, sms_service: FakeSmsService, s3_client: Any, tmp_path: Path
) -> None:
    template = _template()
    for logical_id in (ATTACHMENT, REGISTRATION):
        template["Resources"][logical_id]["DeletionPolicy"] = "Delete"
        template["Resources"][logical_id]["UpdateReplacePolicy"] = "Delete"
    # A toll-free registration cannot be deleted while its number is associated.
    del template["Resources"][REGISTRATION]["Properties"]["Associations"]
    stack = _deploy(
        deploy,
        sms_service,
        s3_client,
        _artifact(tmp_path, "HandWrittenDestroyed", template),
        "phone-unused",
    )
    created = stack.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    attachment_id = stack.physical_id(ATTACHMENT)
    registration_id = stack.physical_id(REGISTRATION)
    assert sms_service.registrations.field_values(registration_id) == _expected_values(
        template, attachment_id
    )

    deleted = stack.delete_all()

    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    # Reverse dependency order: the registration goes before the attachment it references.
    assert [(s.request_type, s.logical_id) for s in deleted.requests] == [
        ("Delete", REGISTRATION),
        ("Delete", ATTACHMENT),
    ]
    assert _registration(sms_service, registration_id)["Deleted"]
    assert sms_service.registrations.live_registrations() == []
    assert sms_service.live_attachments() == []
