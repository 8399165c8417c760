"""Registrations end to end: the synthesized stacks, CloudFormation's events, the fake service.

Create + submit with every kind of value (text, one and several SELECT choices, an attachment
made from a file, a toll-free number associated), an Update that changes nothing (zero writes),
a tag change (tags only), delete with RETAIN (CloudFormation never asks) and DESTROY, and a
declaration naming an unknown field (FAILED naming the path, no registration left behind).
Field values never reach a reason, the response Data or the function's log.
"""

from __future__ import annotations

import collections
import re
from typing import Any

from cdk_sms_registration_handler.registration_contract import (
    ATTR_ARN,
    ATTR_ID,
    ATTR_STATUS,
    ATTR_VERSION_NUMBER,
    ATTR_VERSION_STATUS,
    OWNER_TAG_KEY,
)
from cdk_sms_registration_handler.resource_contract import owner_mark

from .cloudformation import NO_RESPONSE, SUCCESS, CloudAssembly, DeployResult, StackDeployment
from .conftest import Deploy
from .fake_sms import FakeSmsService
from .stacks import (
    NUMBER_PARAMETER,
    OPT_IN_PATH,
    PRIVATE_NAME,
    REGISTRATION,
    REGISTRATION_FIELDS,
    REGISTRATION_TAGS_V1,
    REGISTRATION_TAGS_V2,
    UNKNOWN_PATH,
)

REGISTRATION_ID_RE = re.compile(r"registration-[0-9a-f]{32}")


def _deploy_registration(
    deploy: Deploy, sms_service: FakeSmsService, name: str
) -> tuple[StackDeployment, str]:
    """A deployment of ``name`` with a fresh toll-free number as its parameter."""
    number = sms_service.registrations.add_phone_number(number_type="TOLL_FREE")
    deployment = deploy(name, parameters={NUMBER_PARAMETER: number["PhoneNumberId"]})
    return deployment, str(number["PhoneNumberId"])


def _registration_lid(deployment: StackDeployment) -> str:
    return deployment.stack.logical_id(f"{REGISTRATION}/Resource")


def _assert_no_values_leaked(result: DeployResult) -> None:
    """No declared value in any reason, response Data or function log of the operation."""
    for sent in result.requests:
        shown = [sent.reason, repr(sent.data)]
        shown += [invocation.log_tail(size=10_000_000) for invocation in sent.deliveries]
        for text in shown:
            assert PRIVATE_NAME not in text, f"{sent.request_type} {sent.logical_id} leaked"


def _expected_values(attachment_id: str) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for path, value in REGISTRATION_FIELDS.items():
        if isinstance(value, list):
            values[path] = {"SelectChoices": value}
        elif path in ("companyInfo.businessType", "messagingUseCase.monthlyMessageVolume"):
            values[path] = {"SelectChoices": [value]}  # one choice of a SELECT field
        else:
            values[path] = {"TextValue": value}
    values[OPT_IN_PATH] = {"RegistrationAttachmentId": attachment_id}
    return values


def _create_and_check(
    deployment: StackDeployment, sms_service: FakeSmsService, number_id: str
) -> str:
    """Create the stack; check the registration, its values, writes and answer; return its ID."""
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    _assert_no_values_leaked(created)
    lid = _registration_lid(deployment)
    sent = created.one("Create", lid)
    registration_id = str(sent.physical_id)
    assert sent.status == SUCCESS and REGISTRATION_ID_RE.fullmatch(registration_id)

    registration = sms_service.registrations.registration(registration_id)
    assert registration is not None and not registration["Deleted"]
    assert registration["RegistrationType"] == "US_TOLL_FREE_REGISTRATION"
    assert registration["RegistrationStatus"] == "SUBMITTED"
    [version] = registration["Versions"]
    assert version["RegistrationVersionStatus"] == "SUBMITTED"
    # The attachment the construct made from the file, referenced by ID.
    [attachment] = sms_service.live_attachments()
    assert attachment["AttachmentStatus"] == "UPLOAD_COMPLETE"
    assert version["Values"] == _expected_values(attachment["RegistrationAttachmentId"])
    assert [a["ResourceId"] for a in registration["Associations"]] == [number_id]
    owner = owner_mark(deployment.stack_id, lid)
    assert registration["Tags"] == {**REGISTRATION_TAGS_V1, OWNER_TAG_KEY: owner}

    # One write per value, one association, one create, one submit; nothing failed.
    log = registration["WriteLog"]
    assert all(entry["Error"] is None for entry in log), log
    operations = collections.Counter(entry["Operation"] for entry in log)
    assert operations == {
        "CreateRegistration": 1,
        "PutRegistrationFieldValue": len(REGISTRATION_FIELDS) + 1,
        "CreateRegistrationAssociation": 1,
        "SubmitRegistrationVersion": 1,
    }
    assert sms_service.registrations.writes(registration_id) == len(log)

    assert sent.data[ATTR_ID] == registration_id
    assert sent.data[ATTR_ARN] == registration["RegistrationArn"]
    assert sent.data[ATTR_STATUS] == "SUBMITTED"
    assert sent.data[ATTR_VERSION_NUMBER] == "1"
    assert sent.data[ATTR_VERSION_STATUS] == "SUBMITTED"
    return registration_id


def test_create_submit_update_nothing_retag_and_retain(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    deployment, number_id = _deploy_registration(deploy, sms_service, "RegV1")
    registration_id = _create_and_check(deployment, sms_service, number_id)
    lid = _registration_lid(deployment)
    writes = sms_service.registrations.writes(registration_id)

    # An Update that changes nothing (what a rollback Update sends): zero writes.
    same = deployment.resources[lid].properties
    unchanged = deployment.update(lid, same)
    assert unchanged.status == "UPDATE_COMPLETE", unchanged.statuses
    sent = unchanged.one("Update", lid)
    assert sent.status == SUCCESS and sent.physical_id == registration_id
    assert sent.data[ATTR_VERSION_STATUS] == "SUBMITTED"
    assert sms_service.registrations.writes(registration_id) == writes
    _assert_no_values_leaked(unchanged)

    # A tag change: tags in place, still no field, version or association write.
    retagged = deployment.deploy(e2e_assembly.stack("RegV2"))
    assert retagged.status == "UPDATE_COMPLETE", retagged.statuses
    assert [(s.request_type, s.status) for s in retagged.requests] == [("Update", SUCCESS)]
    assert retagged.requests[0].physical_id == registration_id
    assert sms_service.registrations.writes(registration_id) == writes
    registration = sms_service.registrations.registration(registration_id)
    assert registration is not None
    owner = owner_mark(deployment.stack_id, lid)
    assert registration["Tags"] == {**REGISTRATION_TAGS_V2, OWNER_TAG_KEY: owner}

    # RETAIN: CloudFormation never calls the provider for the registration (nor its attachment).
    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert deleted.select(logical_id=lid) == []
    assert deployment.retained[lid] == registration_id
    kept = sms_service.registrations.registration(registration_id)
    assert kept is not None and not kept["Deleted"]
    assert kept["RegistrationStatus"] == "SUBMITTED"
    assert sms_service.registrations.writes(registration_id) == writes
    assert len(sms_service.live_attachments()) == 1


def test_destroy_deletes_the_registration(deploy: Deploy, sms_service: FakeSmsService) -> None:
    deployment, number_id = _deploy_registration(deploy, sms_service, "RegDestroy")
    registration_id = _create_and_check(deployment, sms_service, number_id)
    lid = _registration_lid(deployment)
    # A toll-free registration is deleted once its number is released (it is then CLOSED).
    closed = sms_service.registrations.release_phone_number(number_id)
    assert closed is not None and closed["RegistrationStatus"] == "CLOSED"

    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    sent = deleted.one("Delete", lid)
    assert sent.status == SUCCESS and sent.physical_id == registration_id
    _assert_no_values_leaked(deleted)
    gone = sms_service.registrations.registration(registration_id)
    assert gone is not None and gone["Deleted"] is True
    assert sms_service.registrations.live_registrations() == []
    assert sms_service.live_attachments() == []


def test_an_unknown_field_fails_naming_it_and_leaves_nothing(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment = deploy("RegBad")
    created = deployment.create_all()
    assert created.status == "ROLLBACK_COMPLETE", created.statuses
    lid = _registration_lid(deployment)
    failed = created.one("Create", lid)
    assert failed.status == "FAILED"
    assert UNKNOWN_PATH in failed.reason
    assert "companyInfo.companyName" in failed.reason  # the nearest known path
    assert failed.physical_id  # never empty, even when nothing was made
    # Validation comes before CreateRegistration: nothing was ever made, nothing is left.
    assert sms_service.registrations.write_counts() == {}
    assert sms_service.registrations.live_registrations() == []
    # The rollback's Delete names the placeholder and succeeds without a call.
    rollback = created.select("Delete", lid)
    assert [s.status for s in rollback] == [SUCCESS]
    assert rollback[0].physical_id == failed.physical_id
    _assert_no_values_leaked(created)


def test_a_create_past_service_timeout_deletes_its_draft(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """CloudFormation gives up while a field write hangs; the handler deletes what it made."""
    sms_service.set_faults(hang_seconds={"PutRegistrationFieldValue": 4.0})
    deployment = deploy("RegDraft", service_timeout=2.5)
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    lid = _registration_lid(deployment)
    create = result.one("Create", lid)
    assert create.status == NO_RESPONSE
    # The rollback's Delete names the ID CloudFormation made up: nothing to delete, no call.
    delete = result.one("Delete", lid)
    assert delete.status == SUCCESS
    assert delete.event["PhysicalResourceId"].startswith(f"{deployment.stack_name}-")
    (late,) = result.late
    assert late.reason.startswith("CloudFormation no longer waits"), late.reason
    [made] = sms_service.registrations.write_counts()
    assert late.physical_id == made and f"registration {made} deleted" in late.reason
    gone = sms_service.registrations.registration(made)
    assert gone is not None and gone["Deleted"] is True
    operations = [entry["Operation"] for entry in gone["WriteLog"]]
    assert operations == ["CreateRegistration", "PutRegistrationFieldValue", "DeleteRegistration"]
    assert sms_service.registrations.live_registrations() == []
    _assert_no_values_leaked(DeployResult(result.status, [*result.requests, *result.late]))
