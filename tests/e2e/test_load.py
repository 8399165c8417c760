"""100 attachments in one stack against the service quota: 1 Create/s and 1 Delete/s.

CloudFormation starts independent custom resources together, so the handler processes queue up
on the quota; the test checks that every one gets through, that retries never make a second
attachment, and that the stack delete leaves nothing behind. Wall time and throttled calls are
printed (``pytest -m load -s``), never asserted.
"""

from __future__ import annotations

import collections
import time

import pytest

from .conftest import Deploy
from .fake_sms import ATTACHMENT_ID_RE, FakeSmsService
from .stacks import LOAD_COUNT

CREATE = "CreateRegistrationAttachment"
DELETE = "DeleteRegistrationAttachment"
#: Handler processes at once: CloudFormation's own concurrency, bounded for a 2-core machine.
PARALLELISM = 15


def _throttled(sms_service: FakeSmsService) -> collections.Counter[str]:
    return collections.Counter(
        call.operation for call in sms_service.call_log if call.error_code == "ThrottlingException"
    )


@pytest.mark.load
@pytest.mark.slow
def test_hundred_attachments_under_the_service_quota(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    sms_service.set_rate_limits({CREATE: 1.0, DELETE: 1.0})
    deployment = deploy("Load", parallelism=PARALLELISM)
    deployment.provision()

    started = time.monotonic()
    created = deployment.create_all()
    create_seconds = time.monotonic() - started
    assert created.status == "CREATE_COMPLETE", [s.reason for s in created.requests if s.reason]
    assert created.statuses == {"Create:SUCCESS": LOAD_COUNT}

    physical_ids = [sent.physical_id or "" for sent in created.requests]
    assert all(ATTACHMENT_ID_RE.fullmatch(pid) for pid in physical_ids)
    assert len(set(physical_ids)) == LOAD_COUNT, "one attachment per logical resource"
    live = sms_service.live_attachments()
    assert sorted(a["RegistrationAttachmentId"] for a in live) == sorted(physical_ids), (
        "no duplicate or stray attachment on the service"
    )
    assert len({a["ClientToken"] for a in live}) == LOAD_COUNT
    for sent in created.requests:
        attachment = sms_service.attachment(sent.physical_id or "")
        assert attachment is not None
        assert attachment["Tags"]["n"] == str(int(sent.logical_id[3:6])), sent.logical_id
    throttled_creates = _throttled(sms_service)

    started = time.monotonic()
    deleted = deployment.delete_all()
    delete_seconds = time.monotonic() - started
    assert deleted.status == "DELETE_COMPLETE", [s.reason for s in deleted.requests if s.reason]
    assert deleted.statuses == {"Delete:SUCCESS": LOAD_COUNT}
    assert sms_service.live_attachments() == []
    assert sms_service.successes[DELETE] == LOAD_COUNT

    throttled = _throttled(sms_service)
    print(
        f"\nload: {LOAD_COUNT} attachments, {PARALLELISM} handler processes at a time\n"
        f"  create: {create_seconds:.1f} s, {throttled_creates[CREATE]} throttled Create calls\n"
        f"  delete: {delete_seconds:.1f} s, {throttled[DELETE]} throttled Delete calls\n"
        f"  service calls: {dict(sms_service.calls)}"
    )
