"""Every branch of the handler, with botocore's Stubber checking each request against the model."""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from cdk_sms_registration_handler import attachment_lifecycle, attachments, request_state
from cdk_sms_registration_handler.attachments import client_token
from cdk_sms_registration_handler.resource_contract import (
    SOURCE_TAG_KEY,
    AttachmentSpec,
    owner_mark,
    source_tag_value,
)
from cdk_sms_registration_handler.retries import Deadline

from .conftest import SAMPLE_PDF, SAMPLE_PNG
from .handler_events import LOGICAL_ID, STACK_ID, LambdaContext, event

BUCKET = "docs-bucket"
KEY = "loa/letter.pdf"
URL = f"s3://{BUCKET}/{KEY}"
NEW_KEY = "loa/letter-v2.pdf"
ATTACHMENT_ID = "ra-0123456789abcdef0123456789abcdef"
NEW_ID = "ra-fedcba9876543210fedcba9876543210"
ARN = f"arn:aws:sms-voice:eu-west-1:123456789012:registration-attachment/{ATTACHMENT_ID}"
NEW_ARN = f"arn:aws:sms-voice:eu-west-1:123456789012:registration-attachment/{NEW_ID}"
CREATED = datetime.datetime(2026, 11, 27, 9, 30, tzinfo=datetime.timezone.utc)
PDF = SAMPLE_PDF.read_bytes()
OWNER = owner_mark(STACK_ID, LOGICAL_ID)
#: What CloudFormation makes up for a cancelled Create.
CLOUDFORMATION_PLACEHOLDER = "SmsStack-LetterOfAuthorization52F6-1XK3J9QZ7M2PA"


class Service:
    """Stubbed S3 and SMS clients of the handler, plus the responses it sent CloudFormation."""

    def __init__(self, index: ModuleType) -> None:
        self.index = index
        self.s3 = Stubber(index._client("s3"))
        self.sms = Stubber(index._client("pinpoint-sms-voice-v2"))
        self.cfn = Stubber(index._client("cloudformation"))
        self.responses: list[dict[str, Any]] = []

    # CloudFormation -----------------------------------------------------------------------
    def stack_is(self, status: str) -> None:
        self.cfn.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "SmsStack",
                        "StackId": STACK_ID,
                        "CreationTime": CREATED,
                        "StackStatus": status,
                    }
                ]
            },
            {"StackName": STACK_ID},
        )

    def resource_is(self, status: str, physical_id: str | None = None) -> None:
        detail: dict[str, Any] = {
            "StackName": "SmsStack",
            "StackId": STACK_ID,
            "LogicalResourceId": LOGICAL_ID,
            "ResourceType": "Custom::SmsRegistrationAttachment",
            "LastUpdatedTimestamp": CREATED,
            "ResourceStatus": status,
        }
        if physical_id is not None:
            detail["PhysicalResourceId"] = physical_id
        self.cfn.add_response(
            "describe_stack_resource",
            {"StackResourceDetail": detail},
            {"StackName": STACK_ID, "LogicalResourceId": LOGICAL_ID},
        )

    def awaited(self, request_type: str = "Create", stack_status: str | None = None) -> None:
        """CloudFormation still waits for this request."""
        self.resource_is(f"{request_type.upper()}_IN_PROGRESS")
        self.stack_is(stack_status or f"{request_type.upper()}_IN_PROGRESS")

    def taken(self, physical_id: str = ATTACHMENT_ID, request_type: str = "Create") -> None:
        """After the answer: CloudFormation records it."""
        self.resource_is(f"{request_type.upper()}_COMPLETE", physical_id)

    # S3 -----------------------------------------------------------------------------------
    def object_exists(
        self, key: str = KEY, content: bytes = PDF, version_id: str | None = None
    ) -> None:
        params: dict[str, Any] = {"Bucket": BUCKET, "Key": key}
        head: dict[str, Any] = {"ContentLength": len(content)}
        if version_id:
            params["VersionId"] = version_id
            head["VersionId"] = version_id
        self.s3.add_response("head_object", head, params)
        if version_id:
            self.s3.add_response("head_object", head, {"Bucket": BUCKET, "Key": key})

    def object_bytes(self, key: str = KEY, content: bytes = PDF) -> None:
        body = StreamingBody(io.BytesIO(content[:1024]), min(len(content), 1024))
        self.s3.add_response(
            "get_object",
            {"Body": body, "ContentLength": min(len(content), 1024)},
            {"Bucket": BUCKET, "Key": key, "Range": "bytes=0-1023"},
        )

    def readable(self, key: str = KEY, content: bytes = PDF) -> None:
        self.object_exists(key, content)
        self.object_bytes(key, content)

    # SMS ----------------------------------------------------------------------------------
    def created(self, status: str, attachment_id: str = ATTACHMENT_ID, url: str = URL) -> None:
        arn = ARN if attachment_id == ATTACHMENT_ID else NEW_ARN
        self.sms.add_response(
            "create_registration_attachment",
            {
                "RegistrationAttachmentArn": arn,
                "RegistrationAttachmentId": attachment_id,
                "AttachmentStatus": status,
                "CreatedTimestamp": CREATED,
            },
            {"AttachmentUrl": url, "Tags": ANY, "ClientToken": ANY},
        )

    def described(self, status: str, attachment_id: str = ATTACHMENT_ID) -> None:
        arn = ARN if attachment_id == ATTACHMENT_ID else NEW_ARN
        self.sms.add_response(
            "describe_registration_attachments",
            {
                "RegistrationAttachments": [
                    {
                        "RegistrationAttachmentArn": arn,
                        "RegistrationAttachmentId": attachment_id,
                        "AttachmentStatus": status,
                        "CreatedTimestamp": CREATED,
                        **(
                            {"AttachmentUploadErrorReason": "INTERNAL_ERROR"}
                            if status == "UPLOAD_FAILED"
                            else {}
                        ),
                    }
                ]
            },
            {"RegistrationAttachmentIds": [attachment_id]},
        )

    def deleted(self, attachment_id: str = ATTACHMENT_ID) -> None:
        arn = ARN if attachment_id == ATTACHMENT_ID else NEW_ARN
        self.sms.add_response(
            "delete_registration_attachment",
            {
                "RegistrationAttachmentArn": arn,
                "RegistrationAttachmentId": attachment_id,
                "AttachmentStatus": "DELETED",
                "CreatedTimestamp": CREATED,
            },
            {"RegistrationAttachmentId": attachment_id},
        )

    def tags_are(self, tags: dict[str, str], arn: str = ARN) -> None:
        self.sms.add_response(
            "list_tags_for_resource",
            {"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]},
            {"ResourceArn": arn},
        )

    def error(self, client: Stubber, method: str, code: str, status: int = 400) -> None:
        client.add_client_error(
            method, service_error_code=code, service_message=code, http_status_code=status
        )

    # Running ------------------------------------------------------------------------------
    def run(self, request: dict[str, Any], timeout_seconds: float = 900.0) -> dict[str, Any]:
        """Invoke the Lambda handler and return the response it sent CloudFormation."""
        with self.s3, self.sms, self.cfn:
            self.index.handler(request, LambdaContext(timeout_seconds=timeout_seconds))
            self.s3.assert_no_pending_responses()
            self.sms.assert_no_pending_responses()
            self.cfn.assert_no_pending_responses()
        assert len(self.responses) == 1, self.responses
        return self.responses.pop()


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    for name, value in {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    from cdk_sms_registration_handler import index

    index._client.cache_clear()
    stubbed = Service(index)
    original_send = type(index.helper)._send

    def send(status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        # Record the body crhelper would PUT to the ResponseURL instead of sending it.
        original_send(
            index.helper,
            status,
            reason,
            send_response=lambda url, body, verify: stubbed.responses.append(body),
        )

    monkeypatch.setattr(index.helper, "_send", send)
    yield stubbed
    index._client.cache_clear()


def _props(key: str = KEY, tags: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"AttachmentUrl": f"s3://{BUCKET}/{key}", **extra}
    if tags is not None:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return properties


def _fingerprint(key: str = KEY, version_id: str | None = None) -> str:
    return AttachmentSpec(bucket=BUCKET, key=key, version_id=version_id).source_fingerprint


def _source_tag(key: str = KEY) -> str:
    return source_tag_value(_fingerprint(key), OWNER)


# Create -------------------------------------------------------------------------------------


def test_create_waits_for_upload_and_returns_attributes(service: Service) -> None:
    request = event("Create", _props(tags={"team": "messaging"}))
    service.readable()
    service.sms.add_response(
        "create_registration_attachment",
        {
            "RegistrationAttachmentArn": ARN,
            "RegistrationAttachmentId": ATTACHMENT_ID,
            "AttachmentStatus": "UPLOAD_IN_PROGRESS",
            "CreatedTimestamp": CREATED,
        },
        {
            "AttachmentUrl": URL,
            "Tags": [
                {"Key": "team", "Value": "messaging"},
                {"Key": SOURCE_TAG_KEY, "Value": _source_tag()},
            ],
            "ClientToken": client_token(STACK_ID, LOGICAL_ID, request["RequestId"]),
        },
    )
    service.described("UPLOAD_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.awaited()
    service.taken()
    response = service.run(request)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == ATTACHMENT_ID
    assert response["Data"] == {
        "RegistrationAttachmentId": ATTACHMENT_ID,
        "RegistrationAttachmentArn": ARN,
        "AttachmentStatus": "UPLOAD_COMPLETE",
        "CreatedTimestamp": "2026-11-27T09:30:00+00:00",
    }
    assert len(json.dumps(response)) < 1024


def test_create_complete_at_once_needs_no_describe(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_COMPLETE")
    service.awaited()
    service.taken()
    response = service.run(event("Create", _props()))
    assert response["Status"] == "SUCCESS"
    assert response["Data"]["AttachmentStatus"] == "UPLOAD_COMPLETE"


def test_client_token_is_stable_per_request_and_fits() -> None:
    token = client_token(STACK_ID, LOGICAL_ID, "req-1")
    assert token == client_token(STACK_ID, LOGICAL_ID, "req-1")
    assert token != client_token(STACK_ID, LOGICAL_ID, "req-2")
    assert token != client_token(STACK_ID, "OtherLogicalId", "req-1")
    assert len(token) == 64 and all(33 <= ord(c) <= 126 for c in token)


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("404", 404, f"{URL}: object not found"),
        ("403", 403, f"{URL}: object missing or access denied"),
    ],
)
def test_create_preflight_head_errors(
    service: Service, code: str, status: int, reason: str
) -> None:
    service.error(service.s3, "head_object", code, status)
    response = service.run(event("Create", _props()))
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(reason)


def test_create_preflight_rejects_oversized_object_without_download(service: Service) -> None:
    service.object_exists(content=PDF)
    response = service.run(event("Create", _props(MaxSizeBytes=str(len(PDF) - 1))))
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        f"{URL}: is {len(PDF)} bytes, over the {len(PDF) - 1}-byte limit"
    )


def test_create_preflight_rejects_wrong_content(service: Service) -> None:
    service.readable(content=SAMPLE_PNG.read_bytes())
    response = service.run(event("Create", _props()))
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"{URL}: content is PNG but the extension says PDF")


def test_create_preflight_rejects_wrong_extension(service: Service) -> None:
    service.object_exists(key="loa/letter.docx")
    response = service.run(event("Create", _props(key="loa/letter.docx")))
    assert response["Status"] == "FAILED"
    assert (
        "has .docx; registration attachments must be .pdf, .jpg, .jpeg or .png"
        in response["Reason"]
    )


def test_create_pinned_version_must_be_current(service: Service) -> None:
    service.s3.add_response(
        "head_object",
        {"ContentLength": len(PDF), "VersionId": "v1"},
        {"Bucket": BUCKET, "Key": KEY, "VersionId": "v1"},
    )
    service.s3.add_response(
        "head_object",
        {"ContentLength": len(PDF), "VersionId": "v2"},
        {"Bucket": BUCKET, "Key": KEY},
    )
    response = service.run(event("Create", _props(AttachmentVersionId="v1")))
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"{URL} (version v1): not the current version (v2 is)")


def test_create_pinned_current_version_succeeds(service: Service) -> None:
    service.object_exists(version_id="v1")
    service.s3.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(PDF), len(PDF))},
        {"Bucket": BUCKET, "Key": KEY, "Range": "bytes=0-1023", "VersionId": "v1"},
    )
    service.created("UPLOAD_COMPLETE")
    service.awaited()
    service.taken()
    assert service.run(event("Create", _props(AttachmentVersionId="v1")))["Status"] == "SUCCESS"


def test_create_with_bad_properties_calls_nothing(service: Service) -> None:
    response = service.run(
        event("Create", {"AttachmentUrl": "https://docs-bucket.s3.amazonaws.com/a.pdf"})
    )
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "AttachmentUrl: 'https://docs-bucket.s3.amazonaws.com/a.pdf' is an HTTP URL"
    )
    # crhelper invents a physical ID when Create fails before anything exists.
    assert response["PhysicalResourceId"].startswith(f"SmsStack_{LOGICAL_ID}_")


def test_upload_failed_deletes_the_attachment_and_names_it(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_IN_PROGRESS")
    service.described("UPLOAD_FAILED")
    service.deleted()
    response = service.run(event("Create", _props()))
    assert response["Status"] == "FAILED"
    assert response["Reason"] == (
        "upload failed on the service (UPLOAD_FAILED: INTERNAL_ERROR); "
        f"attachment {ATTACHMENT_ID} deleted; source {URL}"
    )
    # The FAILED answer names the real attachment, so a rollback Delete would still find it.
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


def test_upload_still_in_progress_at_bound_is_deleted(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_IN_PROGRESS")
    service.described("UPLOAD_IN_PROGRESS")
    service.deleted()
    # 25 s: 22 s after the response reserve, half of it for the upload wait, and no poll
    # sleeps unless its Describe can still finish in time afterwards (10 s + 0.5 s overshoot).
    response = service.run(event("Create", _props()), timeout_seconds=25)
    assert response["Status"] == "FAILED"
    # How many polls fit depends on how fast the handler got there; the fake-clock test below
    # pins the count.
    assert re.search(
        r"upload still UPLOAD_IN_PROGRESS after \d+ polls; gave up before the Lambda deadline",
        response["Reason"],
    )
    assert f"; attachment {ATTACHMENT_ID} deleted; source {URL}" in response["Reason"]


def test_a_late_waking_poll_still_ends_on_its_own_reason(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loaded sandbox wakes late from each sleep; the next Describe must still be allowed.

    Without room for the overshoot, the Describe after the last sleep is refused, and the
    answer says "not started" instead of why the upload was given up.
    """
    now = [0.0]
    deadline = Deadline(12.0, clock=lambda: now[0])
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(time, "sleep", lambda seconds: now.__setitem__(0, now[0] + seconds + 0.4))
    service.described("UPLOAD_IN_PROGRESS")
    service.described("UPLOAD_IN_PROGRESS")
    attachment = {
        "RegistrationAttachmentId": ATTACHMENT_ID,
        "AttachmentStatus": "UPLOAD_IN_PROGRESS",
    }
    with service.sms, pytest.raises(attachments.UploadNotCompleted, match="after 2 polls"):
        attachments.wait_until_uploaded(
            service.index._client("pinpoint-sms-voice-v2"), attachment, deadline
        )
    service.sms.assert_no_pending_responses()


def _fake_clock(
    monkeypatch: pytest.MonkeyPatch, seconds_left: float
) -> tuple[Deadline, list[float]]:
    """A deadline on a clock that only sleeps move; the sleeps are recorded."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(time, "sleep", sleep)
    return Deadline(seconds_left, clock=lambda: now[0]), slept


def test_confirmation_stops_looking_when_the_next_look_would_be_refused(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline, slept = _fake_clock(monkeypatch, 10.4)  # one call fits, a sleep and another do not
    service.awaited()
    cloudformation = service.index._client("cloudformation")
    with service.cfn:
        state = request_state.confirm_taken(
            cloudformation, event("Create", _props()), ATTACHMENT_ID, deadline, phase_at_start=None
        )
    service.cfn.assert_no_pending_responses()
    # Still awaited and not settled: the caller warns that the answer is not recorded yet,
    # instead of reporting that CloudFormation could not be asked.
    assert (state.awaited, state.settled, slept) == (True, False, [])


def test_a_fresh_delete_without_room_to_look_again_is_not_called_gone(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline, slept = _fake_clock(monkeypatch, 10.4)
    service.error(service.sms, "delete_registration_attachment", "ResourceNotFoundException")
    sms = service.index._client("pinpoint-sms-voice-v2")
    with service.sms, pytest.raises(ClientError, match="ResourceNotFoundException"):
        attachments.delete(sms, ATTACHMENT_ID, deadline, fresh=True)
    assert slept == []


def test_a_conflict_is_waited_out_only_with_room_for_delete_and_describe(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20 s: room for the Delete after a sleep (10 s) but not for the Describe after it.
    deadline, slept = _fake_clock(monkeypatch, 20.0)
    service.error(service.sms, "delete_registration_attachment", "ConflictException")
    service.described("UPLOAD_IN_PROGRESS")
    sms = service.index._client("pinpoint-sms-voice-v2")
    with service.sms, pytest.raises(attachments.AttachmentInUse):
        attachments.delete(sms, ATTACHMENT_ID, deadline)
    service.sms.assert_no_pending_responses()
    assert slept == []


def test_cleanup_failure_leaves_id_for_rollback(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_FAILED")
    service.error(service.sms, "delete_registration_attachment", "AccessDeniedException", 403)
    response = service.run(event("Create", _props()))
    assert response["Status"] == "FAILED"
    assert "not deleted yet; the rollback Delete retries it" in response["Reason"]
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


def test_create_rides_out_throttling_and_server_errors(service: Service) -> None:
    service.readable()
    service.error(service.sms, "create_registration_attachment", "ThrottlingException")
    service.error(service.sms, "create_registration_attachment", "InternalServerException", 500)
    service.created("UPLOAD_COMPLETE")
    service.awaited()
    service.taken()
    assert service.run(event("Create", _props()))["Status"] == "SUCCESS"


def test_create_gives_up_on_throttling_before_the_deadline(service: Service) -> None:
    service.readable()
    for _ in range(40):
        service.error(service.sms, "create_registration_attachment", "ThrottlingException")
    with service.s3, service.sms:
        service.index.handler(event("Create", _props()), LambdaContext(timeout_seconds=16.0))
    response = service.responses.pop()
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        "RetriesExhausted: CreateRegistrationAttachment still failing after"
    )


def test_long_reasons_keep_their_head(service: Service) -> None:
    long_key = "documents/" + "x" * 300 + ".pdf"
    service.error(service.s3, "head_object", "404", 404)
    response = service.run(event("Create", _props(key=long_key)))
    assert response["Status"] == "FAILED"
    assert len(response["Reason"]) <= 250
    assert response["Reason"].startswith(f"s3://{BUCKET}/documents/xxx")
    assert not response["Reason"].startswith("ERROR: (truncated)")


# Update -------------------------------------------------------------------------------------


def test_tag_only_update_changes_tags_in_place(service: Service) -> None:
    service.stack_is("UPDATE_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.tags_are({"team": "sms", "old": "x", SOURCE_TAG_KEY: _source_tag()})
    service.sms.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["old"]})
    service.sms.add_response(
        "tag_resource",
        {},
        {
            "ResourceArn": ARN,
            "Tags": [{"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "messaging"}],
        },
    )
    response = service.run(
        event(
            "Update",
            _props(tags={"team": "messaging", "cost": "42"}),
            old_properties=_props(tags={"team": "sms", "old": "x"}),
            physical_id=ATTACHMENT_ID,
        )
    )
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID
    assert response["Data"]["RegistrationAttachmentArn"] == ARN


def test_source_change_creates_a_new_attachment(service: Service) -> None:
    service.stack_is("UPDATE_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.readable(key=NEW_KEY)
    service.created("UPLOAD_COMPLETE", attachment_id=NEW_ID, url=f"s3://{BUCKET}/{NEW_KEY}")
    service.awaited("Update")
    service.taken(NEW_ID, "Update")
    response = service.run(
        event("Update", _props(key=NEW_KEY), old_properties=_props(), physical_id=ATTACHMENT_ID)
    )
    assert response["Status"] == "SUCCESS"
    # A new physical ID: CloudFormation deletes the old attachment during cleanup.
    assert response["PhysicalResourceId"] == NEW_ID
    assert response["Data"]["RegistrationAttachmentId"] == NEW_ID


def test_failed_replacement_keeps_old_physical_id(service: Service) -> None:
    service.stack_is("UPDATE_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.readable(key=NEW_KEY)
    service.created("UPLOAD_FAILED", attachment_id=NEW_ID, url=f"s3://{BUCKET}/{NEW_KEY}")
    service.deleted(NEW_ID)
    response = service.run(
        event("Update", _props(key=NEW_KEY), old_properties=_props(), physical_id=ATTACHMENT_ID)
    )
    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID
    assert f"attachment {NEW_ID} deleted" in response["Reason"]


def test_rollback_update_keeps_the_attachment_that_holds_the_source(service: Service) -> None:
    # The Update to NEW_KEY failed; CloudFormation rolls back with the old properties.
    service.stack_is("UPDATE_ROLLBACK_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag(KEY)})
    response = service.run(
        event("Update", _props(), old_properties=_props(key=NEW_KEY), physical_id=ATTACHMENT_ID)
    )
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


def test_update_of_a_vanished_attachment_makes_a_new_one(service: Service) -> None:
    service.stack_is("UPDATE_IN_PROGRESS")
    service.error(service.sms, "describe_registration_attachments", "ResourceNotFoundException")
    service.readable()
    service.created("UPLOAD_COMPLETE", attachment_id=NEW_ID)
    service.awaited("Update")
    service.taken(NEW_ID, "Update")
    response = service.run(
        event("Update", _props(), old_properties=_props(), physical_id=ATTACHMENT_ID)
    )
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_ID


def test_untagged_attachment_falls_back_to_old_properties(service: Service) -> None:
    service.stack_is("UPDATE_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.tags_are({})
    service.sms.add_response(
        "tag_resource",
        {},
        {"ResourceArn": ARN, "Tags": [{"Key": SOURCE_TAG_KEY, "Value": _source_tag()}]},
    )
    response = service.run(
        event("Update", _props(), old_properties=_props(), physical_id=ATTACHMENT_ID)
    )
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


def test_update_with_bad_new_properties_fails_without_calls(service: Service) -> None:
    response = service.run(
        event(
            "Update", _props(Tags={"team": "x"}), old_properties=_props(), physical_id=ATTACHMENT_ID
        )
    )
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("Tags: must be a list of {Key, Value} entries, not a map")
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


# Delete -------------------------------------------------------------------------------------


def test_delete(service: Service) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.deleted()
    response = service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "ValidationException"])
def test_delete_of_unknown_id_succeeds_without_deleting(service: Service, code: str) -> None:
    # Not found, or an ID the service could never have made: nothing to delete, never FAILED.
    service.error(service.sms, "describe_registration_attachments", code)
    assert service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))["Status"] == "SUCCESS"


def test_delete_with_cloudformation_placeholder_calls_nothing(service: Service) -> None:
    # After a cancelled Create, CloudFormation's rollback Delete carries an ID it made up.
    response = service.run(event("Delete", _props(), physical_id=CLOUDFORMATION_PLACEHOLDER))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == CLOUDFORMATION_PLACEHOLDER


@pytest.mark.parametrize(
    "tags",
    [{}, {SOURCE_TAG_KEY: source_tag_value("f" * 64, owner_mark(STACK_ID, "SomeoneElse"))}],
    ids=["not-made-by-the-handler", "made-for-another-resource"],
)
def test_delete_leaves_what_this_resource_did_not_make(
    service: Service, tags: dict[str, str]
) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are(tags)
    assert service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))["Status"] == "SUCCESS"


def test_delete_of_release_0_1_attachment_without_owner_mark(service: Service) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _fingerprint()})
    service.deleted()
    assert service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))["Status"] == "SUCCESS"


def test_delete_after_failed_create_calls_nothing(service: Service) -> None:
    invented = f"SmsStack_{LOGICAL_ID}_A1B2C3D4"
    response = service.run(event("Delete", {"AttachmentUrl": "nonsense"}, physical_id=invented))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == invented


def test_delete_of_attachment_in_use_fails_and_says_so(service: Service) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.error(service.sms, "delete_registration_attachment", "ConflictException")
    service.described("UPLOAD_COMPLETE")
    response = service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(
        f"attachment {ATTACHMENT_ID} is in use (ConflictException)"
    )
    assert "removal_policy=RETAIN" in response["Reason"]


def test_delete_conflict_on_already_deleted_attachment_succeeds(service: Service) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.error(service.sms, "delete_registration_attachment", "ConflictException")
    service.described("DELETED")
    assert service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))["Status"] == "SUCCESS"


def test_delete_ignores_properties_of_any_shape(service: Service) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.deleted()
    request = event("Delete", {"SomeFutureProperty": {"Nested": True}}, physical_id=ATTACHMENT_ID)
    assert service.run(request)["Status"] == "SUCCESS"


# crhelper settings and logging --------------------------------------------------------------


def test_crhelper_is_configured_for_speed_and_secrecy(service: Service) -> None:
    helper = service.index.helper
    assert helper._sleep_on_delete == 0
    assert helper._log_level == "INFO"


def test_one_structured_log_line_without_secrets(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.deleted()
    request = event(
        "Delete",
        _props(),
        physical_id=ATTACHMENT_ID,
        response_url="https://example/responses/x?X-Amz-Signature=SECRET",
    )
    with caplog.at_level(logging.DEBUG, logger="cdk_sms_registration_handler"):
        service.run(request)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    assert len(lines) == 1
    assert lines[0]["requestType"] == "Delete"
    assert lines[0]["logicalResourceId"] == LOGICAL_ID
    assert lines[0]["physicalResourceId"] == ATTACHMENT_ID
    assert lines[0]["outcome"] == "SUCCESS"
    assert isinstance(lines[0]["durationMs"], int)
    assert "SECRET" not in caplog.text


# Hand-written templates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({}, "AttachmentUrl: is required"),
        ({"AttachmentUrl": "s3://docs-bucket"}, "AttachmentUrl: 's3://docs-bucket' must name both"),
        (
            {"AttachmentUrl": "https://docs-bucket.s3.amazonaws.com/loa.pdf"},
            "AttachmentUrl: 'https://docs-bucket.s3.amazonaws.com/loa.pdf' is an HTTP URL",
        ),
        ({"AttachmentUrl": URL, "Tags": {"team": "sms"}}, "Tags: must be a list of {Key, Value}"),
        (
            {
                "AttachmentUrl": URL,
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
            },
            "Tags: tag key 'a' appears more than once",
        ),
        ({"AttachmentUrl": URL, "AttachmentURL": URL}, "AttachmentURL: unknown property; did you"),
        ({"AttachmentUrl": URL, "MaxSizeBytes": "five"}, "MaxSizeBytes: max_size_bytes: 'five'"),
    ],
)
@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_hand_written_mistakes_fail_before_any_call(
    service: Service, properties: dict[str, Any], reason: str, request_type: str
) -> None:
    # No stubbed responses: any call to S3 or the service would fail the test.
    extra = (
        {"old_properties": _props(), "physical_id": ATTACHMENT_ID}
        if request_type == "Update"
        else {}
    )
    response = service.run(event(request_type, properties, **extra))
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(reason)


def test_failed_wait_during_replacement_still_deletes_the_new_attachment(service: Service) -> None:
    service.stack_is("UPDATE_IN_PROGRESS")
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.readable(key=NEW_KEY)
    service.created("UPLOAD_IN_PROGRESS", attachment_id=NEW_ID, url=f"s3://{BUCKET}/{NEW_KEY}")
    service.error(service.sms, "describe_registration_attachments", "AccessDeniedException", 403)
    service.deleted(NEW_ID)
    response = service.run(
        event("Update", _props(key=NEW_KEY), old_properties=_props(), physical_id=ATTACHMENT_ID)
    )
    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID
    assert "AccessDeniedException" in response["Reason"]
    assert f"attachment {NEW_ID} deleted" in response["Reason"]


def test_delete_waits_out_an_upload_in_progress(service: Service) -> None:
    service.described("UPLOAD_IN_PROGRESS")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.error(service.sms, "delete_registration_attachment", "ConflictException")
    service.described("UPLOAD_IN_PROGRESS")
    service.deleted()
    response = service.run(event("Delete", _props(), physical_id=ATTACHMENT_ID))
    assert response["Status"] == "SUCCESS"


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_crhelper_timeout_answer_names_the_resource(
    service: Service, monkeypatch: pytest.MonkeyPatch, request_type: str
) -> None:
    # A call that outlives the invocation: crhelper answers FAILED 0.5 s before the deadline,
    # and that answer must carry the physical ID, never an empty one.
    def slow(*args: Any, **kwargs: Any) -> Any:
        import time

        time.sleep(1.5)
        raise RuntimeError("too late")

    monkeypatch.setattr(attachment_lifecycle, "check_source", slow)
    monkeypatch.setattr(attachments, "describe", slow)
    monkeypatch.setattr(attachments, "delete", slow)
    extra: dict[str, Any] = {"old_properties": _props()} if request_type == "Update" else {}
    if request_type != "Create":
        extra["physical_id"] = ATTACHMENT_ID
    service.index.handler(
        event(request_type, _props(), **extra), LambdaContext(timeout_seconds=0.9)
    )
    first = service.responses[0]
    assert first["Status"] == "FAILED"
    assert first["Reason"] == "Execution timed out"
    if request_type == "Create":
        # Nothing made yet: a placeholder that names the resource and that Delete skips.
        assert first["PhysicalResourceId"].startswith(f"SmsStack_{LOGICAL_ID}_")
    else:
        assert first["PhysicalResourceId"] == ATTACHMENT_ID


# CloudFormation no longer waiting -------------------------------------------------------------


def test_create_that_cloudformation_cancelled_deletes_its_attachment(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_COMPLETE")
    service.resource_is("CREATE_FAILED", physical_id=CLOUDFORMATION_PLACEHOLDER)
    service.deleted()
    response = service.run(event("Create", _props()))
    assert response["Status"] == "FAILED"
    assert response["Reason"] == (
        "CloudFormation no longer waits for this request (resource CREATE_FAILED); "
        f"attachment {ATTACHMENT_ID} deleted"
    )


def test_redelivered_create_keeps_what_cloudformation_took(service: Service) -> None:
    # The first delivery's answer was taken: CloudFormation records this very attachment.
    service.readable()
    service.created("UPLOAD_COMPLETE")
    service.resource_is("CREATE_COMPLETE", physical_id=ATTACHMENT_ID)
    service.taken()
    response = service.run(event("Create", _props()))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


def _replacement(
    service: Service, stack_at_start: str, stack_at_end: str, *, cleans_up: bool = False
) -> dict[str, Any]:
    service.stack_is(stack_at_start)
    service.described("UPLOAD_COMPLETE")
    service.tags_are({SOURCE_TAG_KEY: _source_tag()})
    service.readable(key=NEW_KEY)
    service.created("UPLOAD_COMPLETE", attachment_id=NEW_ID, url=f"s3://{BUCKET}/{NEW_KEY}")
    service.resource_is("UPDATE_IN_PROGRESS", physical_id=ATTACHMENT_ID)
    service.stack_is(stack_at_end)
    if cleans_up:
        service.deleted(NEW_ID)
    else:
        service.taken(NEW_ID, "Update")
    return service.run(
        event("Update", _props(key=NEW_KEY), old_properties=_props(), physical_id=ATTACHMENT_ID)
    )


def test_cancelled_replacement_deletes_the_new_attachment(service: Service) -> None:
    # The resource shows UPDATE_IN_PROGRESS again during the rollback Update: only the stack's
    # phase tells that this forward Update is no longer awaited.
    response = _replacement(
        service, "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", cleans_up=True
    )
    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID
    assert response["Reason"].startswith("CloudFormation no longer waits for this request")
    assert f"attachment {NEW_ID} deleted" in response["Reason"]


def test_replacing_rollback_update_is_awaited(service: Service) -> None:
    response = _replacement(service, "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS")
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == NEW_ID


def test_unreadable_cloudformation_counts_as_awaited(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_COMPLETE")
    service.error(service.cfn, "describe_stack_resource", "AccessDenied", 403)
    service.error(service.cfn, "describe_stack_resource", "AccessDenied", 403)
    response = service.run(event("Create", _props()))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID


def test_not_yet_visible_is_not_vanished(service: Service) -> None:
    service.readable()
    service.created("UPLOAD_IN_PROGRESS")
    service.error(service.sms, "describe_registration_attachments", "ResourceNotFoundException")
    service.described("UPLOAD_COMPLETE")
    service.awaited()
    service.taken()
    response = service.run(event("Create", _props()))
    assert response["Status"] == "SUCCESS", response["Reason"]


def test_answer_that_arrived_after_cancellation_is_cleaned_up(service: Service) -> None:
    # Awaited when checked; cancelled before the answer arrived: CloudFormation recorded a
    # placeholder of its own, so the attachment named in the (ignored) answer is deleted.
    service.readable()
    service.created("UPLOAD_COMPLETE")
    service.awaited()
    service.resource_is("CREATE_FAILED", physical_id=CLOUDFORMATION_PLACEHOLDER)
    service.deleted()
    response = service.run(event("Create", _props()))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == ATTACHMENT_ID
