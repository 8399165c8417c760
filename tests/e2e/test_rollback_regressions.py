"""The eight ways a deploy, a failed deploy and its rollback left users worse off (issue 15).

Black box, through the harness: real stacks, CloudFormation's protocol (cancellation,
rollbacks), the handler in Lambda's sandbox, the fake service over HTTP, every call evaluated
by IAM. Each test failed on the handler before the reconcile redesign; the numbers are the
issue's. (7, the role that could not associate a phone number, is every test here and in
test_registrations_e2e.py that associates one: the IAM evaluator denies the call with the old
policy.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cdk_sms_registration_handler.registration_contract import OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import owner_mark

from .cloudformation import FAILED, SUCCESS, StackDeployment
from .conftest import Deploy
from .fake_sms import FakeSmsService
from .iam_eval import IamRegistry, access_key_for
from .stacks import NUMBER_PARAMETER, OPTIONAL_PATH, PRIVATE_NAME
from .test_registrations_e2e import _deploy_registration, _registration_lid


def _writes_since(sms_service: FakeSmsService, registration_id: str, before: int) -> list[str]:
    log = sms_service.registrations.write_log(registration_id)
    return [str(entry["Operation"]) for entry in log[before:]]


def _with(properties: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    return {**properties, **changes}


def _changed_text(properties: Mapping[str, Any], path: str, text: str) -> dict[str, Any]:
    fields = [
        {"Path": path, "Text": text} if entry["Path"] == path else dict(entry)
        for entry in properties["Fields"]
    ]
    assert any(entry["Path"] == path for entry in fields)
    return {**properties, "Fields": fields}


def _created(deploy: Deploy, sms_service: FakeSmsService) -> tuple[StackDeployment, str, str]:
    """RegV1 created: a submitted toll-free registration; (deployment, lid, registration ID)."""
    deployment, _number = _deploy_registration(deploy, sms_service, "RegV1")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    lid = _registration_lid(deployment)
    return deployment, lid, str(deployment.physical_id(lid))


def test_1_rollback_of_a_failed_type_change_keeps_the_registration(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment = deploy("RegEditV1")
    assert deployment.create_all().status == "CREATE_COMPLETE"
    lid = _registration_lid(deployment)
    registration_id = str(deployment.physical_id(lid))
    fake = sms_service.registrations
    before = fake.writes(registration_id)
    original = deployment.resources[lid].properties
    # The toll-free fields are not fields of a 10DLC brand: the forward Update fails. Its
    # rollback carries the toll-free type again, and "10DLC" as the old properties.
    result = deployment.update(
        lid, _with(original, RegistrationType="US_TEN_DLC_BRAND_REGISTRATION")
    )
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    assert result.select("Delete", lid) == []  # no replacement, so no cleanup of the original
    forward, rollback = result.select("Update", lid)
    assert forward.status == FAILED and "nothing created" in forward.reason
    assert rollback.status == SUCCESS
    assert rollback.physical_id == registration_id  # the registration stays the stack's
    assert [r["RegistrationId"] for r in fake.live_registrations()] == [registration_id]
    assert _writes_since(sms_service, registration_id, before) == []
    assert len(fake.write_counts()) == 1  # no other registration was ever made


def test_2_rolling_back_a_field_change_of_an_approved_registration_starts_no_review(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment, lid, registration_id = _created(deploy, sms_service)
    fake = sms_service.registrations
    fake.approve(registration_id)
    original = deployment.resources[lid].properties
    changed = _changed_text(original, "companyInfo.companyName", "Example Corporation")
    before = fake.writes(registration_id)
    # The forward Update makes and submits version 2; a later resource fails.
    result = deployment.update(lid, changed, fail_after_resources=True)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    forward, rollback = result.select(logical_id=lid)
    assert forward.status == SUCCESS and rollback.status == SUCCESS
    assert rollback.physical_id == registration_id
    forward_writes = _writes_since(sms_service, registration_id, before)
    assert forward_writes[0] == "CreateRegistrationVersion"
    assert forward_writes[-2:] == ["SubmitRegistrationVersion", "DiscardRegistrationVersion"]
    # The rollback discarded version 2: version 1 (APPROVED) holds the old values again.
    assert forward_writes.count("CreateRegistrationVersion") == 1
    assert forward_writes.count("SubmitRegistrationVersion") == 1
    registration = fake.registration(registration_id)
    assert registration["RegistrationStatus"] == "COMPLETE"
    assert registration["ApprovedVersionNumber"] == 1
    assert [v["RegistrationVersionStatus"] for v in registration["Versions"]] == [
        "APPROVED",
        "DISCARDED",
    ]


def test_3_a_cancelled_replacement_associates_and_submits_nothing(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    from .stacks import HISTORY_STACK, SIBLING

    fake = sms_service.registrations
    first = fake.add_phone_number(number_type="TOLL_FREE")
    deployment = deploy(HISTORY_STACK, parameters={NUMBER_PARAMETER: first["PhoneNumberId"]})
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    lid = _registration_lid(deployment)
    sibling = deployment.stack.logical_id(f"{SIBLING}/Resource")
    old_id = str(deployment.physical_id(lid))
    # Someone deletes the registration by hand: the next Update replaces it.
    fake.force_status(old_id, registration_status="DELETED")
    second = fake.add_phone_number(number_type="TOLL_FREE")
    registration = _with(
        deployment.resources[lid].properties, Associations=[second["PhoneNumberId"]]
    )
    sibling_properties = deployment.resources[sibling].properties
    broken = _with(
        sibling_properties,
        AttachmentUrl=sibling_properties["AttachmentUrl"].rsplit("/", 1)[0] + "/missing.pdf",
    )
    # The sibling fails at once, which cancels the replacement before it associates the number
    # or submits: its field writes answer only once the stack rolls back (pinned, not timed:
    # on a busy machine the sibling's failure could otherwise come after the last write).
    sms_service.set_faults(
        hold_until={"PutRegistrationFieldValue": lambda _request: deployment.in_rollback()}
    )
    try:
        result = deployment.update_all({lid: registration, sibling: broken})
        late = deployment.settle()
    finally:
        sms_service.set_faults()
    assert sms_service.held_too_long == [], "the sibling did not fail within the hold"
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    made = [
        r
        for r in fake.live_registrations()
        if r["RegistrationId"] != old_id and r["RegistrationStatus"] != "DELETED"
    ]
    # The replacement was deleted (the service refuses to delete an associated or submitted
    # toll-free registration, so none was associated or submitted), and the rollback made none.
    assert made == [], [(r["RegistrationId"], r["RegistrationStatus"]) for r in made]
    assert all(sent.status != SUCCESS for sent in [*result.late, *late] if sent.logical_id == lid)


def test_4_a_number_another_registration_holds_fails_naming_it(
    deploy: Deploy, sms_service: FakeSmsService, sms_client: Any
) -> None:
    deployment, number_id = _deploy_registration(deploy, sms_service, "RegV1")
    other = sms_client.create_registration(RegistrationType="US_TOLL_FREE_REGISTRATION")
    sms_client.create_registration_association(
        RegistrationId=other["RegistrationId"], ResourceId=number_id
    )
    result = deployment.create_all()
    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    sent = result.one("Create", _registration_lid(deployment))
    assert sent.status == FAILED
    assert f"{number_id} is associated with another registration" in sent.reason
    assert PRIVATE_NAME not in sent.reason
    # Nothing but the other registration is left.
    live = sms_service.registrations.live_registrations()
    assert [r["RegistrationId"] for r in live] == [other["RegistrationId"]]


def test_5_an_attachment_delete_refused_in_a_rollback_succeeds(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment = deploy("FileV1")
    sms_service.set_faults(conflict_on_delete=True)
    try:
        result = deployment.create_all(fail_after_resources=True)
    finally:
        sms_service.set_faults()
    # The stack is not wedged in ROLLBACK_FAILED: the attachment is left, and the log says so.
    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    deletes = result.select("Delete")
    assert deletes and all(sent.status == SUCCESS for sent in deletes)
    [attachment] = sms_service.live_attachments()
    log = deletes[0].invocation.log_tail(size=100_000) if deletes[0].invocation else ""
    assert f"attachment {attachment['RegistrationAttachmentId']} left in place" in log
    assert "delete it by hand" in log


def test_6_a_delete_never_proceeds_when_the_owner_cannot_be_read(
    deploy: Deploy, sms_service: FakeSmsService, iam_registry: IamRegistry
) -> None:
    deployment = deploy("RegDraft")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    registration_id = str(deployment.physical_id(_registration_lid(deployment)))
    # A permissions boundary (or an SCP) denies reading registrations.
    iam_registry.add_deny(
        {"Effect": "Deny", "Action": "sms-voice:DescribeRegistrations", "Resource": "*"}
    )
    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_FAILED", deleted.statuses
    [sent] = deleted.select("Delete")
    assert sent.status == FAILED
    assert sent.reason.startswith(f"registration {registration_id}: its owner cannot be read")
    registration = sms_service.registrations.registration(registration_id)
    assert registration is not None and not registration["Deleted"]


def test_7_the_role_associates_a_phone_number(
    deploy: Deploy, sms_service: FakeSmsService, iam_registry: IamRegistry
) -> None:
    """CreateRegistrationAssociation is authorized against the number too, which carries no
    owner tag: the README's toll-free example deploys, with no call IAM would deny."""
    deployment, number_id = _deploy_registration(deploy, sms_service, "RegV1")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    registration_id = str(deployment.physical_id(_registration_lid(deployment)))
    registration = sms_service.registrations.registration(registration_id)
    assert [a["ResourceId"] for a in registration["Associations"]] == [number_id]
    assert iam_registry.denials == []


def test_8_the_role_cannot_mark_another_owners_registration_as_its_own(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """Tag-on-create no longer lets the role re-mark a registration another resource owns
    (after which the owner-tag statements would let it change or delete it)."""
    mine = deploy("RegDraft")
    theirs = deploy("RegDraft", stack_name="OtherTeam")
    assert mine.create_all().status == "CREATE_COMPLETE"
    assert theirs.create_all().status == "CREATE_COMPLETE"
    lid = _registration_lid(theirs)
    their_arn = sms_service.registrations.registration(theirs.physical_id(lid))["RegistrationArn"]
    [function] = [f for f in mine.functions() if f.role_arn]
    role = boto3.client(
        "pinpoint-sms-voice-v2",
        endpoint_url=sms_service.url,
        region_name="us-east-1",
        aws_access_key_id=access_key_for(str(function.role_arn)),
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    my_mark = owner_mark(mine.stack_id, lid)
    with pytest.raises(ClientError) as raised:
        role.tag_resource(ResourceArn=their_arn, Tags=[{"Key": OWNER_TAG_KEY, "Value": my_mark}])
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "is not authorized to perform: sms-voice:TagResource" in str(raised.value)
    assert sms_service.take_violations()  # the fake recorded it; the test asked for it
    tags = sms_service.registrations.registration(their_arn)["Tags"]
    assert tags[OWNER_TAG_KEY] == owner_mark(theirs.stack_id, lid)


def test_an_added_optional_field_is_removed_by_the_rollback(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """A DRAFT edit rolled back: the optional field the forward Update added is deleted again
    (the previous properties say it was not declared), nothing else is written."""
    deployment = deploy("RegEditV3")  # without the optional address line
    assert deployment.create_all().status == "CREATE_COMPLETE"
    lid = _registration_lid(deployment)
    registration_id = str(deployment.physical_id(lid))
    original = deployment.resources[lid].properties
    added = {
        **original,
        "Fields": [*original["Fields"], {"Path": OPTIONAL_PATH, "Text": "Suite 1"}],
    }
    before = sms_service.registrations.field_values(registration_id)
    writes = sms_service.registrations.writes(registration_id)
    result = deployment.update(lid, added, fail_after_resources=True)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    assert sms_service.registrations.field_values(registration_id) == before
    assert _writes_since(sms_service, registration_id, writes) == [
        "PutRegistrationFieldValue",  # the forward Update
        "DeleteRegistrationFieldValue",  # its rollback
    ]


def test_a_late_create_whose_attachment_was_deleted_deletes_nothing(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """Found by the history machine: a Create delivered again after its attachment was deleted
    gets the deleted attachment back by ClientToken; deleting it again is a call IAM refuses
    (a deleted attachment carries no owner tag), so the handler leaves it."""
    deployment = deploy("FileV1")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    [first] = created.select("Create")
    assert deployment.delete_all().status == "DELETE_COMPLETE"
    late = deployment.send(dict(first.event))
    assert late.status == FAILED
    assert f"attachment {first.physical_id} already deleted" in late.reason
    assert sms_service.live_attachments() == []
    assert sms_service.take_violations() == []


def test_a_late_create_whose_registration_was_deleted_deletes_nothing(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """The registration twin of the test above."""
    deployment = deploy("RegDraft")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    [first] = created.select("Create")
    assert deployment.delete_all().status == "DELETE_COMPLETE"
    late = deployment.send(dict(first.event))
    assert late.status == FAILED
    assert sms_service.registrations.live_registrations() == []
    assert sms_service.take_violations() == []
