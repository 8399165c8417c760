"""Registrations under duplicate delivery, throttling and cancellation, end to end.

The same Create delivered twice (at once, and again later) makes one registration that every
answer names; at the service's quota of one request per second per operation a 30-field
registration is created completely, and a 100-field one that cannot finish in the function's
time fails cleanly, saying how many fields it wrote, with nothing left; a registration whose
sibling attachment fails while it is being written leaves nothing behind and no stuck stack;
a Create killed mid-way and delivered again makes one registration.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .cloudformation import CANCELLED, FAILED, SUCCESS, CloudAssembly, Sent
from .conftest import Deploy
from .fake_registration_types import bulk_text_type
from .fake_registrations import REGISTRATION_RATE_LIMITS
from .fake_sms import FakeSmsService
from .stacks import EDIT_FIELDS_V1, PHOTO, PRIVATE_NAME
from .test_registration_updates_e2e import assert_absent, declared_stack_deployment, operations
from .test_registrations_e2e import REGISTRATION_ID_RE, _registration_lid

#: Ended states from which CloudFormation cannot go on without an operator.
STUCK = {"ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"}
#: A function timeout too short for 100 writes at one per second (the handler keeps 30 s back).
SHORT_FUNCTION_TIMEOUT = 55.0


def _bulk_properties(sms_service: FakeSmsService, count: int) -> dict[str, Any]:
    """A registration type of ``count`` required text fields, declared in full with submit."""
    name = f"BULK_{count}_FIELDS"
    definition = bulk_text_type(name, count)
    sms_service.registrations.add_registration_type(definition)
    fields = [
        {"Path": field["FieldPath"], "Text": f"value {index}"}
        for index, field in enumerate(definition["Fields"])
    ]
    return {"RegistrationType": name, "Fields": fields, "Submit": True}


# --------------------------------------------------------------------------- duplicate delivery


def test_duplicate_delivery_makes_one_registration(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment = deploy("RegEditV1")
    lid = _registration_lid(deployment)
    event = deployment.event("Create", lid)
    fake = sms_service.registrations

    # Delivered twice at once, then once more after both answered.
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda _: deployment.send(event), range(2)))
    later = deployment.send(event)

    answers: list[Sent] = [*together, later]
    assert [sent.status for sent in answers] == [SUCCESS] * 3, [s.reason for s in answers]
    [made] = fake.write_counts()
    assert {sent.physical_id for sent in answers} == {made}
    received = deployment.receiver.responses_for(event["ResponseURL"])
    assert {answer.json()["PhysicalResourceId"] for answer in received} == {made}
    [live] = fake.live_registrations()
    assert live["RegistrationId"] == made
    assert live["Versions"][0]["Values"]["contactInfo.lastName"] == {"TextValue": PRIVATE_NAME}
    print(f"\nduplicate delivery: 3 deliveries, 1 registration, {fake.writes(made)} writes")

    deployment.record(later)
    assert deployment.delete_all().status == "DELETE_COMPLETE"
    assert fake.live_registrations() == []


def test_duplicate_delivery_at_once_with_submit_keeps_the_one_registration(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    """The slower delivery's submit conflicts with the faster one's: it must not delete it."""
    properties = _bulk_properties(sms_service, 5)
    deployment = declared_stack_deployment(deploy, e2e_assembly, "RegDuplicate", properties)
    event = deployment.event("Create", _registration_lid(deployment))
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda _: deployment.send(event), range(2)))

    assert [sent.status for sent in together] == [SUCCESS] * 2, [s.reason for s in together]
    [made] = sms_service.registrations.write_counts()
    assert {sent.physical_id for sent in together} == {made}
    [live] = sms_service.registrations.live_registrations()
    assert live["RegistrationId"] == made and live["RegistrationStatus"] == "SUBMITTED"
    assert {sent.data["VersionStatus"] for sent in together} == {"SUBMITTED"}


# --------------------------------------------------------------------------- throttling


def test_thirty_fields_at_one_request_per_second_are_created_completely(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    properties = _bulk_properties(sms_service, 30)
    sms_service.registrations.set_rate_limits(REGISTRATION_RATE_LIMITS)
    deployment = declared_stack_deployment(deploy, e2e_assembly, "RegBulk30", properties)

    started = time.monotonic()
    created = deployment.create_all()
    elapsed = time.monotonic() - started

    assert created.status == "CREATE_COMPLETE", created.statuses
    sent = created.one("Create", _registration_lid(deployment))
    registration = sms_service.registrations.registration(str(sent.physical_id))
    assert registration is not None
    [version] = registration["Versions"]
    assert version["RegistrationVersionStatus"] == "SUBMITTED"
    assert len(version["Values"]) == 30
    successful = [entry for entry in registration["WriteLog"] if entry["Error"] is None]
    assert operations(successful) == [
        "CreateRegistration",
        *["PutRegistrationFieldValue"] * 30,
        "SubmitRegistrationVersion",
    ]
    throttled = sum(call.error_code == "ThrottlingException" for call in sms_service.call_log)
    print(
        f"\n30-field registration at 1 request/s per operation: created and submitted in "
        f"{elapsed:.1f} s ({len(successful)} writes, {throttled} throttled attempts)"
    )


def test_a_hundred_fields_out_of_time_fail_cleanly_saying_how_many_were_written(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    properties = _bulk_properties(sms_service, 100)
    sms_service.registrations.set_rate_limits(REGISTRATION_RATE_LIMITS)
    deployment = declared_stack_deployment(
        deploy,
        e2e_assembly,
        "RegBulk100",
        properties,
        function_timeout=SHORT_FUNCTION_TIMEOUT,
    )
    created = deployment.create_all()

    assert created.status == "ROLLBACK_COMPLETE", created.statuses
    lid = _registration_lid(deployment)
    failed = created.one("Create", lid)
    assert failed.status == FAILED
    made = str(failed.physical_id)
    assert REGISTRATION_ID_RE.fullmatch(made)
    found = re.search(r"out of time: (\d+) of 100 field writes made", failed.reason)
    assert found, failed.reason
    assert f"registration {made} deleted" in failed.reason
    registration = sms_service.registrations.registration(made)
    assert registration is not None and registration["Deleted"] is True
    puts = operations(e for e in registration["WriteLog"] if e["Error"] is None).count(
        "PutRegistrationFieldValue"
    )
    assert int(found.group(1)) == puts and 0 < puts < 100
    # The rollback's Delete names the deleted registration: already gone, success.
    [delete] = created.select("Delete", lid)
    assert delete.status == SUCCESS and delete.physical_id == made
    assert sms_service.registrations.live_registrations() == []
    print(f"\n100 fields, {SHORT_FUNCTION_TIMEOUT:.0f} s function: {failed.reason}")


# --------------------------------------------------------------------------- cancellation


def test_sibling_attachment_failing_while_the_registration_is_written_leaves_nothing(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    sms_service.registrations.set_rate_limits(REGISTRATION_RATE_LIMITS)
    sms_service.set_faults(reject_urls=(".jpg",))
    deployment = deploy("RegPhoto")
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    lid = _registration_lid(deployment)
    photo = deployment.stack.logical_id(f"{PHOTO}/Resource")
    assert result.one("Create", photo).status == FAILED
    create = result.one("Create", lid)
    assert create.status == CANCELLED
    deletes = result.select("Delete")
    assert deletes and all(sent.status == SUCCESS for sent in deletes)
    assert result.status not in STUCK
    # The cancelled Create ran on, learned it was no longer awaited and deleted its registration.
    [late] = [s for s in result.late if s.event["RequestId"] == create.event["RequestId"]]
    assert late.reason.startswith("CloudFormation no longer waits"), late.reason
    [made] = sms_service.registrations.write_counts()
    assert f"registration {made} deleted" in late.reason
    assert sms_service.registrations.live_registrations() == []
    assert sms_service.live_attachments() == []
    assert_absent(result, [PRIVATE_NAME])


def test_a_create_killed_mid_way_and_delivered_again_makes_one_registration(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    sms_service.registrations.set_rate_limits(REGISTRATION_RATE_LIMITS)
    fake = sms_service.registrations
    deployment = deploy("RegEditV1")

    def mid_way() -> bool:
        """After CreateRegistration and one field write."""
        return any(count >= 2 for count in fake.write_counts().values())

    deployment.kill_first_delivery_when = mid_way
    result = deployment.create_all()

    assert result.status == "CREATE_COMPLETE", result.statuses
    create = result.one("Create", _registration_lid(deployment))
    first = create.deliveries[0]
    assert len(create.deliveries) == (2 if first.killed else 1)
    [live] = fake.live_registrations()
    assert create.physical_id == live["RegistrationId"]
    assert list(fake.write_counts()) == [live["RegistrationId"]]
    assert set(live["Versions"][0]["Values"]) == set(EDIT_FIELDS_V1)
    answers = deployment.receiver.responses_for(create.event["ResponseURL"])
    assert {answer.json()["PhysicalResourceId"] for answer in answers} == {create.physical_id}
    assert deployment.delete_all().status == "DELETE_COMPLETE"
    assert fake.live_registrations() == []
