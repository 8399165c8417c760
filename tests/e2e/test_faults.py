"""CloudFormation's awkward moments and a misbehaving service, against the shipped asset.

Duplicate deliveries, a killed invocation and its retry, deletes of what never existed, is gone
or is in use, rollbacks, bad sources, failed and endless uploads, throttling and server errors.
Every test ends by checking the service holds no attachment the stack does not account for.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cdk_sms_registration_handler.document_rules import DEFAULT_MAX_SIZE_BYTES
from cdk_sms_registration_handler.resource_contract import SOURCE_TAG_KEY

from ..conftest import SAMPLE_PDF
from .cloudformation import (
    FAILED,
    SUCCESS,
    CloudAssembly,
    DeployResult,
    Sent,
    StackDeployment,
)
from .conftest import Deploy
from .fake_sms import ATTACHMENT_ID_RE, FakeSmsService
from .stacks import ATTACHMENT, BAD_KEYS, BATCH_KEY, BUCKET, KEY, NEW_KEY, TAGS_V1, TAGS_V2

CREATE = "CreateRegistrationAttachment"
DESCRIBE = "DescribeRegistrationAttachments"
DELETE = "DeleteRegistrationAttachment"
PDF = SAMPLE_PDF.read_bytes()
_ATTACHMENT_IN_REASON = re.compile(r"attachment (ra-[0-9a-f]{32})")


def _logical_id(deployment: StackDeployment) -> str:
    return deployment.stack.logical_id(f"{ATTACHMENT}/Resource")


def _bucket(deployment: StackDeployment) -> str:
    return deployment.stack.logical_id(f"{BUCKET}/Resource")


def _live_ids(sms_service: FakeSmsService) -> list[str]:
    return sorted(a["RegistrationAttachmentId"] for a in sms_service.live_attachments())


def _user_tags(sms_service: FakeSmsService, attachment_id: str) -> dict[str, str]:
    attachment = sms_service.attachment(attachment_id)
    assert attachment is not None
    return {k: v for k, v in attachment["Tags"].items() if k != SOURCE_TAG_KEY}


def _deleted(sms_service: FakeSmsService, attachment_id: str) -> bool:
    attachment = sms_service.attachment(attachment_id)
    return attachment is not None and attachment["Deleted"] is True


def _errors(sms_service: FakeSmsService, code: str) -> int:
    return sum(1 for call in sms_service.call_log if call.error_code == code)


def _created(deploy: Deploy, stack: str = "FileV1", **options: Any) -> tuple[StackDeployment, str]:
    deployment = deploy(stack, **options)
    result = deployment.create_all()
    assert result.status == "CREATE_COMPLETE", result.statuses
    return deployment, deployment.physical_id(_logical_id(deployment))


def _delete_everything(deployment: StackDeployment, sms_service: FakeSmsService) -> None:
    result = deployment.delete_all()
    assert result.status == "DELETE_COMPLETE", [s.reason for s in result.requests]
    assert sms_service.live_attachments() == []


# --------------------------------------------------------------------------- deliveries


@pytest.mark.parametrize("at_once", [True, False], ids=["concurrent", "one-after-the-other"])
def test_duplicate_create_delivery_makes_one_attachment(
    at_once: bool, deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """CloudFormation invokes asynchronously: the very same Create can arrive twice."""
    deployment = deploy("FileV1")
    event = deployment.event("Create", _logical_id(deployment))
    with ThreadPoolExecutor(max_workers=2 if at_once else 1) as pool:
        first, second = pool.map(deployment.send, [event, event])

    assert first.status == second.status == SUCCESS, (first.reason, second.reason)
    assert first.physical_id == second.physical_id
    assert _live_ids(sms_service) == [first.physical_id]
    answers = deployment.receiver.wait_for(event["ResponseURL"], count=2)
    assert {answer["PhysicalResourceId"] for answer in answers} == {first.physical_id}

    deployment.record(first)
    _delete_everything(deployment, sms_service)


def test_invocation_killed_mid_wait_then_retried_makes_one_attachment(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """The sandbox dies mid-wait with no answer sent (as at a Lambda timeout or crash), and
    Lambda's asynchronous retry delivers the identical event again."""
    sms_service.upload_seconds = 3.0
    deployment = deploy("FileV1")
    event = deployment.event("Create", _logical_id(deployment))

    killed = deployment.send(
        event,
        kill_when=lambda: sms_service.successes[CREATE] >= 1 and sms_service.calls[DESCRIBE] >= 1,
    )
    assert killed.invocation.killed and killed.response is None
    (half_made,) = sms_service.live_attachments()
    assert half_made["AttachmentStatus"] == "UPLOAD_IN_PROGRESS"

    retried = deployment.send(event)
    assert retried.status == SUCCESS, retried.reason
    assert retried.physical_id == half_made["RegistrationAttachmentId"]
    assert _live_ids(sms_service) == [retried.physical_id]
    assert sms_service.successes[CREATE] == 2, "the retry asked again, with the same ClientToken"
    assert len(deployment.receiver.responses_for(event["ResponseURL"])) == 1

    deployment.record(retried)
    _delete_everything(deployment, sms_service)


# --------------------------------------------------------------------------- deletes


def test_delete_after_failed_create_skips_the_invented_physical_id(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """No object, so Create fails; crhelper invents an ID and CloudFormation deletes it."""
    deployment = deploy("BucketV1")
    logical_id = _logical_id(deployment)
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE"
    create, delete = result.one("Create", logical_id), result.one("Delete", logical_id)
    assert create.status == FAILED
    invented = create.physical_id
    assert invented and re.fullmatch(
        rf"{deployment.stack_name}_{logical_id}_[A-Z0-9]{{8}}", invented
    )
    assert delete.event["PhysicalResourceId"] == invented
    assert delete.status == SUCCESS, delete.reason
    assert sms_service.calls[CREATE] == 0 and sms_service.calls[DELETE] == 0
    assert sms_service.live_attachments() == []


@pytest.mark.parametrize("visibility", ["not_found", "status_deleted"])
def test_delete_of_an_attachment_already_gone_succeeds(
    visibility: str, deploy: Deploy, sms_service: FakeSmsService, sms_client: Any
) -> None:
    deployment, attachment_id = _created(deploy)
    sms_service.deleted_visibility = visibility  # type: ignore[assignment]
    sms_client.delete_registration_attachment(RegistrationAttachmentId=attachment_id)

    result = deployment.delete_all()
    assert result.status == "DELETE_COMPLETE", [s.reason for s in result.requests]
    assert result.requests[0].physical_id == attachment_id
    assert sms_service.live_attachments() == []


def test_delete_of_an_attachment_in_use_fails_with_the_reason(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment, attachment_id = _created(deploy)
    sms_service.set_in_use(attachment_id)

    refused = deployment.delete_all()
    assert refused.status == "DELETE_FAILED"
    (delete,) = refused.requests
    assert delete.status == FAILED
    assert delete.reason.startswith(f"attachment {attachment_id} is in use (ConflictException)")
    assert _live_ids(sms_service) == [attachment_id]

    # Once the registration lets go, the retried stack delete finishes.
    sms_service.set_in_use(attachment_id, False)
    _delete_everything(deployment, sms_service)


# --------------------------------------------------------------------------- rollbacks


def _check_rolled_back(
    result: DeployResult, deployment: StackDeployment, old_id: str, sms_service: FakeSmsService
) -> None:
    """The failed Update, then the rollback Update (old properties, same ID) that succeeds."""
    logical_id = _logical_id(deployment)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    update, rollback = result.select("Update", logical_id)
    assert update.status == FAILED
    assert rollback.status == SUCCESS, rollback.reason
    assert rollback.event["PhysicalResourceId"] == old_id == rollback.physical_id
    assert rollback.event["ResourceProperties"] == update.event["OldResourceProperties"]
    assert rollback.event["OldResourceProperties"] == update.event["ResourceProperties"]
    assert _live_ids(sms_service) == [old_id]
    assert _user_tags(sms_service, old_id) == TAGS_V1
    assert deployment.physical_id(logical_id) == old_id


def test_failed_upload_on_update_rolls_back_to_the_old_attachment(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    deployment, old_id = _created(deploy)
    sms_service.set_faults(fail_uploads=True)

    result = deployment.deploy(e2e_assembly.stack("FileV3"))
    _check_rolled_back(result, deployment, old_id, sms_service)
    update = result.select("Update")[0]
    assert "UPLOAD_FAILED" in update.reason and " deleted; source " in update.reason
    match = _ATTACHMENT_IN_REASON.search(update.reason)
    assert match and match.group(1) != old_id
    assert _deleted(sms_service, match.group(1)), "no orphan"

    _delete_everything(deployment, sms_service)


def test_update_to_a_missing_object_rolls_back_without_creating(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    deployment = deploy("BucketV1")
    bucket = deployment.bucket_name(_bucket(deployment))
    deployment.put_object(_bucket(deployment), KEY, PDF)
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    logical_id = _logical_id(deployment)
    old_id = deployment.physical_id(logical_id)

    # BucketV3 names NEW_KEY (and grants the role its reads), but nobody uploaded it: a 404,
    # not the 403 an object outside the grant gets.
    result = deployment.deploy(e2e_assembly.stack("BucketV3"))
    _check_rolled_back(result, deployment, old_id, sms_service)
    assert result.select("Update")[0].reason == f"s3://{bucket}/{NEW_KEY}: object not found"
    assert sms_service.calls[CREATE] == 1

    _delete_everything(deployment, sms_service)


@pytest.mark.parametrize("new_stack", ["FileV2", "FileV3"], ids=["tags", "replacement"])
def test_stack_failure_after_the_update_restores_the_old_attachment(
    new_stack: str, deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    """Another resource fails after this one updated: tags are put back, a replacement dropped."""
    deployment, old_id = _created(deploy)
    logical_id = _logical_id(deployment)

    result = deployment.deploy(e2e_assembly.stack(new_stack), fail_after_resources=True)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    update = result.requests[0]
    assert update.status == SUCCESS, update.reason
    if new_stack == "FileV2":
        assert update.physical_id == old_id
        put_back = result.select("Update")[1]
        assert put_back.event["ResourceProperties"] == update.event["OldResourceProperties"]
        assert put_back.status == SUCCESS and put_back.physical_id == old_id
        assert result.select("Delete") == []
    else:
        assert update.physical_id != old_id
        discard = result.one("Delete", logical_id)
        assert discard.event["PhysicalResourceId"] == update.physical_id
        assert discard.status == SUCCESS
    assert _live_ids(sms_service) == [old_id]
    assert _user_tags(sms_service, old_id) == TAGS_V1

    _delete_everything(deployment, sms_service)


# --------------------------------------------------------------------------- bad sources


def _too_large() -> bytes:
    return PDF + b"\0" * (DEFAULT_MAX_SIZE_BYTES + 1 - len(PDF))


BAD_CONTENT: dict[str, tuple[bytes | None, str]] = {
    "Missing": (None, "object not found"),
    "TooLarge": (b"", f"is {DEFAULT_MAX_SIZE_BYTES + 1} bytes, over the {DEFAULT_MAX_SIZE_BYTES}"),
    "WrongType": (b"plain text pretending to be a PDF\n", "content is not a PDF, JPEG or PNG"),
    "Denied": (PDF, "object missing or access denied"),
}


@pytest.mark.parametrize("case", sorted(BAD_KEYS))
def test_bad_source_fails_before_anything_is_created(
    case: str, deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment = deploy(f"Bad{case}")
    content, expected = BAD_CONTENT[case]
    if content is not None:
        deployment.put_object(_bucket(deployment), BAD_KEYS[case], content or _too_large())
    url = f"s3://{deployment.bucket_name(_bucket(deployment))}/{BAD_KEYS[case]}"

    result = deployment.create_all()
    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    create = result.one("Create", _logical_id(deployment))
    assert create.status == FAILED
    assert create.reason.startswith(f"{url}: ") and expected in create.reason, create.reason
    print(f"\n{case}: {create.reason}")
    assert sms_service.calls[CREATE] == 0
    assert sms_service.calls[DELETE] == 0
    assert sms_service.live_attachments() == []


# --------------------------------------------------------------------------- uploads


def test_upload_failed_on_the_service_deletes_the_half_made_attachment(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    sms_service.set_faults(fail_uploads=True)
    deployment = deploy("FileV1")
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    create = result.one("Create", _logical_id(deployment))
    attachment_id = create.physical_id
    assert create.status == FAILED
    assert attachment_id and ATTACHMENT_ID_RE.fullmatch(attachment_id), (
        "the FAILED answer names the real attachment, so the rollback Delete targets it"
    )
    assert "upload failed on the service (UPLOAD_FAILED: INTERNAL_ERROR)" in create.reason
    assert f"attachment {attachment_id} deleted" in create.reason
    assert _deleted(sms_service, attachment_id)
    assert result.one("Delete", _logical_id(deployment)).status == SUCCESS
    assert sms_service.live_attachments() == []


def _abandoned_upload(deploy: Deploy, sms_service: FakeSmsService) -> Sent:
    """An upload that never leaves UPLOAD_IN_PROGRESS, under a 30-second function Timeout.

    (No call starts with less than 10 s left before the response reserve, so the wait ends
    with time for the cleanup Delete.)
    """
    sms_service.upload_seconds = 3600
    deployment = deploy("FileV1", function_timeout=30)
    result = deployment.create_all()
    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    return result.one("Create", _logical_id(deployment))


def test_upload_that_never_completes_gives_up_in_time_and_deletes_it(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    create = _abandoned_upload(deploy, sms_service)

    assert create.status == FAILED
    assert "upload still UPLOAD_IN_PROGRESS after" in create.reason
    assert "gave up before the Lambda deadline" in create.reason
    assert create.invocation is not None
    assert not create.invocation.timed_out and create.invocation.duration < 30
    attachment_id = create.physical_id
    assert attachment_id and ATTACHMENT_ID_RE.fullmatch(attachment_id)
    assert _deleted(sms_service, attachment_id)
    assert sms_service.live_attachments() == []


def test_reason_of_an_abandoned_upload_names_the_attachment_and_its_fate(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    # A file asset's URL is about 121 characters: the key facts come before it, since
    # CloudFormation shows 256 characters and the handler cuts at 250.
    create = _abandoned_upload(deploy, sms_service)

    assert f"; attachment {create.physical_id} deleted; source " in create.reason, create.reason


# --------------------------------------------------------------------------- a noisy service


def _batch(deploy: Deploy) -> StackDeployment:
    deployment = deploy("Batch")
    deployment.put_object(_bucket(deployment), BATCH_KEY, PDF)
    return deployment


@pytest.mark.parametrize(
    ("fault", "code", "seed"),
    [
        # The fault draws are seeded. Seed 0 draws no value under 0.2 in its first 25 draws,
        # more calls than this stack makes, so the server-error case uses seed 1, which draws
        # like a fair 20% from the first call.
        ({"throttle_rate": 0.5}, "ThrottlingException", 0),
        ({"internal_error_rate": 0.2}, "InternalServerException", 1),
    ],
    ids=["throttling-50pct", "server-errors-20pct"],
)
def test_every_create_and_delete_succeeds_through_errors(
    fault: dict[str, float],
    code: str,
    seed: int,
    deploy: Deploy,
    sms_service: FakeSmsService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployment = _batch(deploy)
    monkeypatch.setattr(sms_service, "seed", seed)
    sms_service.reset()
    sms_service.set_faults(**fault)  # type: ignore[arg-type]

    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", [s.reason for s in created.requests]
    assert len(created.requests) == 4
    ids = {s.physical_id or "" for s in created.requests}
    assert sorted(ids) == _live_ids(sms_service)
    assert {tuple(sorted(_user_tags(sms_service, i).items())) for i in ids} == {
        tuple(sorted(TAGS_V1.items())),
        tuple(sorted(TAGS_V2.items())),
    }

    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", [s.reason for s in deleted.requests]
    assert sms_service.live_attachments() == []
    errors = _errors(sms_service, code)
    print(f"\n{code}: {errors} of {len(sms_service.call_log)} calls")
    assert errors > 0, "the fault was injected"
