"""Registration attachments on the service: create and wait, delete, tags."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from .resource_contract import (
    ATTR_ARN,
    ATTR_CREATED,
    ATTR_ID,
    ATTR_STATUS,
    SOURCE_TAG_KEY,
    AttachmentSpec,
    read_source_tag,
)
from .retries import CALL_SECONDS, Deadline, call_with_retries, room_to_wait

logger = logging.getLogger(__name__)

UPLOAD_IN_PROGRESS = "UPLOAD_IN_PROGRESS"
UPLOAD_COMPLETE = "UPLOAD_COMPLETE"
UPLOAD_FAILED = "UPLOAD_FAILED"
DELETED = "DELETED"

# Describe polls start fast (most uploads finish within a second) and back off geometrically,
# so the number of polls grows with the logarithm of the upload time.
FIRST_POLL_SECONDS = 0.25
POLL_GROWTH = 1.5
LONGEST_POLL_SECONDS = 5.0
#: How long a new attachment may stay invisible to Describe and Delete (eventual consistency)
#: before "not found" means it is gone.
VISIBILITY_GRACE_SECONDS = 10.0
#: What the service answers for an ID it does not know, and for one it could never have made.
NOT_FOUND = "ResourceNotFoundException"
NOT_AN_ID = "ValidationException"


class UploadNotCompleted(Exception):
    """The service did not finish the upload: it failed, or it ran past the wait bound."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        #: The attachment's status when the wait ended (DELETED: nothing left to delete).
        self.status = status


class AttachmentInUse(Exception):
    """The service refuses to delete an attachment (ConflictException)."""


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_text(error: BaseException) -> str:
    """A failed call as a reason may show it: the operation and the code, no message text."""
    if isinstance(error, ClientError):
        operation = getattr(error, "operation_name", "") or "a call"
        return f"{operation} failed ({error_code(error)})"
    return type(error).__name__


def client_token(stack_id: str, logical_id: str, request_id: str) -> str:
    """The idempotency token of one CloudFormation request.

    A duplicate delivery or a retry of the same request carries the same RequestId, so the
    service answers with the attachment it already made instead of making a second one.
    """
    digest = hashlib.sha256("\n".join((stack_id, logical_id, request_id)).encode("utf-8"))
    return digest.hexdigest()  # 64 characters, the ClientToken maximum


def create(
    sms: Any, spec: AttachmentSpec, token: str, owner: str, deadline: Deadline
) -> dict[str, Any]:
    """CreateRegistrationAttachment for the spec's S3 object, with the source tag on it."""
    tags = [{"Key": key, "Value": value} for key, value in spec.service_tags(owner).items()]
    response: dict[str, Any] = call_with_retries(
        lambda: sms.create_registration_attachment(
            AttachmentUrl=spec.url, Tags=tags, ClientToken=token
        ),
        deadline,
        what="CreateRegistrationAttachment",
    )
    return response


def describe(sms: Any, attachment_id: str, deadline: Deadline) -> dict[str, Any] | None:
    """The attachment's description, or None when the service does not know the ID."""
    try:
        response = call_with_retries(
            lambda: sms.describe_registration_attachments(
                RegistrationAttachmentIds=[attachment_id]
            ),
            deadline,
            what="DescribeRegistrationAttachments",
        )
    except ClientError as error:
        if error_code(error) in (NOT_FOUND, NOT_AN_ID):
            return None
        raise
    found: list[dict[str, Any]] = response.get("RegistrationAttachments", [])
    return found[0] if found else None


def wait_until_uploaded(
    sms: Any,
    attachment: Mapping[str, Any],
    deadline: Deadline,
) -> Mapping[str, Any]:
    """Poll until UPLOAD_COMPLETE; raise UploadNotCompleted on UPLOAD_FAILED or at the deadline."""
    attachment_id = attachment["RegistrationAttachmentId"]
    wait = FIRST_POLL_SECONDS
    polls = 0
    # Describe may not see a brand-new attachment yet: not yet visible is not vanished.
    visible_by = time.monotonic() + VISIBILITY_GRACE_SECONDS
    while True:
        status = attachment.get("AttachmentStatus")
        if status == UPLOAD_COMPLETE:
            logger.info("upload of %s complete after %d Describe polls", attachment_id, polls)
            return attachment
        if status in (UPLOAD_FAILED, DELETED):
            reason = attachment.get("AttachmentUploadErrorReason") or "no reason given"
            raise UploadNotCompleted(
                f"upload failed on the service ({status}: {reason})", status=str(status)
            )
        if not room_to_wait(wait, deadline):
            raise UploadNotCompleted(
                f"upload still {status} after {polls} polls; gave up before the Lambda deadline"
            )
        time.sleep(wait)
        wait = min(wait * POLL_GROWTH, LONGEST_POLL_SECONDS)
        polls += 1
        described = describe(sms, attachment_id, deadline)
        if described is None:
            if time.monotonic() < visible_by:
                continue
            raise UploadNotCompleted("attachment vanished while uploading")
        attachment = described


def delete(sms: Any, attachment_id: str, deadline: Deadline, *, fresh: bool = False) -> str:
    """Delete the attachment; return what happened. Gone already counts as deleted.

    ``fresh``: the attachment was just created, so "not found" may only mean the service does
    not see it yet; the delete is retried for ``VISIBILITY_GRACE_SECONDS`` before giving up.
    """
    visible_by = time.monotonic() + (VISIBILITY_GRACE_SECONDS if fresh else 0.0)
    wait = FIRST_POLL_SECONDS
    while True:
        try:
            response = call_with_retries(
                lambda: sms.delete_registration_attachment(RegistrationAttachmentId=attachment_id),
                deadline,
                what="DeleteRegistrationAttachment",
            )
        except ClientError as error:
            code = error_code(error)
            if code == NOT_FOUND and time.monotonic() < visible_by:
                if not room_to_wait(wait, deadline):
                    raise  # maybe not visible yet, no time to look again: not deleted
                time.sleep(wait)
                wait = min(wait * POLL_GROWTH, LONGEST_POLL_SECONDS)
                continue
            if code == NOT_FOUND:
                return "already gone"
            if code == "ConflictException":
                return _delete_after_conflict(sms, attachment_id, deadline, error)
            raise
        return "deleted" if response.get("AttachmentStatus") == DELETED else "delete requested"


def _delete_after_conflict(
    sms: Any, attachment_id: str, deadline: Deadline, conflict: ClientError
) -> str:
    """A conflict may only mean the upload is still running (a rollback right after Create)."""
    wait = FIRST_POLL_SECONDS
    while True:
        described = describe(sms, attachment_id, deadline)
        status = None if described is None else described.get("AttachmentStatus")
        if status in (None, DELETED):
            return "already gone"  # a conflict on a deleted attachment is no conflict
        # Room for the Delete after the sleep and for the Describe that follows it.
        if status != UPLOAD_IN_PROGRESS or not room_to_wait(wait + CALL_SECONDS, deadline):
            raise AttachmentInUse(str(conflict)) from conflict
        time.sleep(wait)
        wait = min(wait * POLL_GROWTH, LONGEST_POLL_SECONDS)
        try:
            call_with_retries(
                lambda: sms.delete_registration_attachment(RegistrationAttachmentId=attachment_id),
                deadline,
                what="DeleteRegistrationAttachment",
            )
            return "deleted"
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return "already gone"
            if error_code(error) != "ConflictException":
                raise


def read_tags(sms: Any, arn: str, deadline: Deadline) -> dict[str, str]:
    """The attachment's tags on the service."""
    response = call_with_retries(
        lambda: sms.list_tags_for_resource(ResourceArn=arn), deadline, what="ListTagsForResource"
    )
    return {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}


def reconcile_tags(
    sms: Any, arn: str, current: Mapping[str, str], desired: Mapping[str, str], deadline: Deadline
) -> tuple[list[str], list[str]]:
    """Make the service's tags equal ``desired``; return the keys set and the keys removed."""
    # aws: tags belong to AWS and cannot be removed by callers.
    removed = sorted(key for key in current if key not in desired and not key.startswith("aws:"))
    changed = sorted(key for key, value in desired.items() if current.get(key) != value)
    if removed:
        call_with_retries(
            lambda: sms.untag_resource(ResourceArn=arn, TagKeys=removed),
            deadline,
            what="UntagResource",
        )
    if changed:
        tags = [{"Key": key, "Value": desired[key]} for key in changed]
        call_with_retries(
            lambda: sms.tag_resource(ResourceArn=arn, Tags=tags), deadline, what="TagResource"
        )
    return changed, removed


def holds_source(current_tags: Mapping[str, str], spec: AttachmentSpec) -> bool:
    """Whether the attachment's source tag says it holds the spec's document."""
    fingerprint, _owner = read_source_tag(current_tags.get(SOURCE_TAG_KEY))
    return fingerprint == spec.source_fingerprint


def made_by(current_tags: Mapping[str, str], owner: str) -> bool:
    """Whether the handler made the attachment for the resource with this owner mark.

    Release 0.1 tags carry no owner mark: any attachment with the source tag counts.
    """
    if SOURCE_TAG_KEY not in current_tags:
        return False
    _fingerprint, marked_owner = read_source_tag(current_tags[SOURCE_TAG_KEY])
    return marked_owner is None or marked_owner == owner


def attributes(attachment: Mapping[str, Any]) -> dict[str, str]:
    """The resource attributes CloudFormation stores for Fn::GetAtt."""
    created = attachment.get("CreatedTimestamp")
    if isinstance(created, datetime):
        created_text = created.astimezone(timezone.utc).isoformat()
    else:
        created_text = str(created or "")
    return {
        ATTR_ID: str(attachment["RegistrationAttachmentId"]),
        ATTR_ARN: str(attachment["RegistrationAttachmentArn"]),
        ATTR_STATUS: str(attachment.get("AttachmentStatus", "")),
        ATTR_CREATED: created_text,
    }
