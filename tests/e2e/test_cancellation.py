"""CloudFormation cancels, gives up, makes up physical IDs and redelivers: zero orphans, zero stuck.

The scenarios of "Zero orphans, zero wedged stacks", played with the shipped asset over HTTP:
the harness cancels the requests still running when a sibling fails (their answers are
ignored, the rollback sends Delete with an ID it makes up, or the rollback Update), stops
waiting at ServiceTimeout, and redelivers invocations that crashed. The handler learns that it
is no longer awaited from the fake CloudFormation endpoint and removes what it made.

Each scenario runs once at a fixed timing, then 8 times with random timing in ``make test`` and
20 times under ``pytest -m load``, printing the counts of orphans and stuck stacks (both 0).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from .cloudformation import CANCELLED, FAILED, NO_RESPONSE, SUCCESS, DeployResult
from .conftest import Deploy
from .fake_sms import FakeSmsService

CREATE = "CreateRegistrationAttachment"
DESCRIBE = "DescribeRegistrationAttachments"
DELETE = "DeleteRegistrationAttachment"
#: Ended states from which CloudFormation cannot go on without an operator.
STUCK = {"ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"}
#: Runs per scenario with random timing: a sample in ``make test``, more under ``pytest -m load``.
REPEATS = 8
LOAD_REPEATS = 20


def _live(sms_service: FakeSmsService) -> list[str]:
    return sorted(a["RegistrationAttachmentId"] for a in sms_service.live_attachments())


def _stuck(result: DeployResult) -> bool:
    return result.status in STUCK or any(
        sent.request_type == "Delete" and sent.status != SUCCESS for sent in result.requests
    )


# --------------------------------------------------------------------------- the scenarios
# Each returns (orphans, stuck) after checking what must hold whatever the timing.


def sibling_fails_during_create(
    deploy: Deploy, sms_service: FakeSmsService, upload_seconds: float
) -> tuple[int, bool]:
    """Three attachments; the photo fails at the service while the others upload."""
    sms_service.upload_seconds = upload_seconds
    sms_service.set_faults(reject_urls=(".jpg",))
    deployment = deploy("TrioV2")
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    photo = deployment.stack.logical_id("Photo/Resource")
    assert result.one("Create", photo).status == FAILED
    for sent in result.select("Delete"):
        assert sent.status == SUCCESS, sent.reason
    # Every cancelled Create ended by removing what it made; CloudFormation ignored it.
    for sent in result.select("Create"):
        if sent.status == CANCELLED:
            late = [s for s in result.late if s.event["RequestId"] == sent.event["RequestId"]]
            assert late, sent
            if late[0].status == SUCCESS:
                # Cancelled between its check and its answer: the after-answer confirmation
                # saw the answer ignored and removed what it named.
                assert late[0].physical_id not in _live(sms_service), late[0]
            else:
                assert late[0].reason.startswith("CloudFormation no longer waits"), late
            delete = result.one("Delete", sent.logical_id)
            assert delete.event["PhysicalResourceId"] == sent.physical_id
            assert delete.event["PhysicalResourceId"].startswith(f"{deployment.stack_name}-")
    return len(_live(sms_service)), _stuck(result)


def replacement_cancelled_by_sibling(
    deploy: Deploy, sms_service: FakeSmsService, upload_seconds: float
) -> tuple[int, bool]:
    """V1 -> V2 replaces the letter and adds the photo, which fails: roll back to V1."""
    sms_service.upload_seconds = 0.2
    deployment = deploy("TrioV1")
    assert deployment.create_all().status == "CREATE_COMPLETE"
    letter = deployment.stack.logical_id("Letter/Resource")
    original = deployment.physical_id(letter)

    sms_service.upload_seconds = upload_seconds
    sms_service.set_faults(reject_urls=(".jpg",))
    result = deployment.deploy(deploy("TrioV2").stack)

    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    assert deployment.physical_id(letter) == original
    live = _live(sms_service)
    assert original in live
    orphans = len(live) - 2  # the original letter and the untouched pixel
    deployment.stack = deploy("TrioV1").stack
    cleaned = deployment.delete_all()
    return orphans + len(_live(sms_service)), _stuck(result) or _stuck(cleaned)


def service_timeout_during_hung_call(
    deploy: Deploy, sms_service: FakeSmsService, hang_seconds: float
) -> tuple[int, bool]:
    """CloudFormation gives up while Describe hangs; the handler ends by deleting its upload."""
    sms_service.set_faults(hang_seconds={DESCRIBE: hang_seconds})
    deployment = deploy("FileV1", service_timeout=2.5)
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE", result.statuses
    (create,) = result.select("Create")
    assert create.status == NO_RESPONSE
    (late,) = result.late
    assert late.reason.startswith("CloudFormation no longer waits"), late.reason
    assert sms_service.successes[CREATE] == 1
    return len(_live(sms_service)), _stuck(result)


def create_killed_and_redelivered(
    deploy: Deploy, sms_service: FakeSmsService, kill_after_seconds: float
) -> tuple[int, bool]:
    """The sandbox dies some time after CreateRegistrationAttachment; Lambda delivers again."""
    sms_service.upload_seconds = 0.5
    deployment = deploy("FileV1")
    created_at: list[float] = []

    def crash() -> bool:
        import time

        if sms_service.successes[CREATE] >= 1 and not created_at:
            created_at.append(time.monotonic())
        return bool(created_at) and time.monotonic() - created_at[0] >= kill_after_seconds

    deployment.kill_first_delivery_when = crash
    result = deployment.create_all()

    assert result.status == "CREATE_COMPLETE", result.statuses
    (create,) = result.select("Create")
    # Killed before it answered: Lambda delivered again. (Killed later, it had answered.)
    first = create.deliveries[0]
    assert len(create.deliveries) == (2 if first.killed else 1)
    live = _live(sms_service)
    assert live == [create.physical_id], "one attachment, and the answer taken names it"
    answers = deployment.receiver.responses_for(create.event["ResponseURL"])
    assert {answer.json()["PhysicalResourceId"] for answer in answers} == {create.physical_id}
    cleaned = deployment.delete_all()
    return len(_live(sms_service)), _stuck(cleaned)


Scenario = Callable[[Deploy, FakeSmsService, float], tuple[int, bool]]
SCENARIOS: dict[str, tuple[Scenario, float, tuple[float, float]]] = {
    # name: (scenario, its timing in make test, the range load draws from)
    "sibling-fails-during-create": (sibling_fails_during_create, 3.0, (0.2, 4.0)),
    "replacement-cancelled": (replacement_cancelled_by_sibling, 3.0, (0.2, 4.0)),
    "service-timeout": (service_timeout_during_hung_call, 4.0, (3.0, 6.0)),
    "killed-and-redelivered": (create_killed_and_redelivered, 0.0, (0.0, 1.5)),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name: str, deploy: Deploy, sms_service: FakeSmsService) -> None:
    scenario, timing, _ = SCENARIOS[name]
    orphans, stuck = scenario(deploy, sms_service, timing)
    assert (orphans, stuck) == (0, False)


def test_delete_with_generated_id_never_fails_nor_deletes_another(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    """Placeholders from CloudFormation, and IDs the service rejects: nothing to delete."""
    deployment = deploy("FileV1")
    assert deployment.create_all().status == "CREATE_COMPLETE"
    logical_id = deployment.stack.logical_id("Letter/Resource")
    live = _live(sms_service)
    for physical_id in (
        deployment.generated_physical_id(logical_id),
        "not_an-attachment:id",  # not a placeholder's shape: the service says ValidationException
    ):
        event = deployment.event("Delete", logical_id, physical_id=physical_id)
        sent = deployment.send(event)
        assert (sent.status, sent.physical_id) == (SUCCESS, physical_id), sent.reason
    assert sms_service.calls[DELETE] == 0
    assert any(call.error_code == "ValidationException" for call in sms_service.call_log)
    assert _live(sms_service) == live
    assert deployment.delete_all().status == "DELETE_COMPLETE"
    assert _live(sms_service) == []


@pytest.mark.load
@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_repeated_with_random_timing(
    name: str,
    deploy: Deploy,
    sms_service: FakeSmsService,
    capsys: pytest.CaptureFixture[str],
    request: Any,
) -> None:
    scenario, _, (low, high) = SCENARIOS[name]
    chosen = "load" in str(request.config.getoption("markexpr") or "")
    repeats = LOAD_REPEATS if chosen else REPEATS
    rng = random.Random(f"{name}-{repeats}")
    orphans = stuck = 0
    for _ in range(repeats):
        sms_service.reset()
        found, wedged = scenario(deploy, sms_service, rng.uniform(low, high))
        orphans += found
        stuck += wedged
        sms_service.set_faults()
    with capsys.disabled():
        print(f"\n{name}: {repeats} runs, {orphans} orphans, {stuck} stuck stacks")
    assert (orphans, stuck) == (0, 0)
