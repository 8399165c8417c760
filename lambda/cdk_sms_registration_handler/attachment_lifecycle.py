"""What each CloudFormation request does to a ``Custom::SmsRegistrationAttachment``.

Runs under ``lifecycle_guard`` (placeholders, the checks before and after answering, rollbacks);
the service calls are in ``attachments``, the contract in ``resource_contract``.

- Create: check the S3 object, CreateRegistrationAttachment (ClientToken per request, the source
  tag carrying the document's fingerprint and this resource's owner mark), wait for the upload;
  a failed wait deletes the half-made attachment.
- Update: read what the service holds. The same document (by the source tag, or the previous
  properties for an untagged attachment) is kept and only its tags reconciled: that is also
  how a rollback Update keeps the original. A different document, or an attachment gone or
  broken, is a replacement: a new attachment, and CloudFormation deletes the old one.
- Delete: only an attachment whose owner mark names this resource; gone already is success; a
  refusal (in use, or the tags cannot be read) raises ``Refused``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from . import attachments
from .document_rules import AttachmentValidationError
from .lifecycle_guard import Answer, Refused, Request, RequestFailed, discarded_text
from .resource_contract import (
    ATTACHMENT_ID_PATTERN,
    SOURCE_TAG_KEY,
    AttachmentSpec,
    parse_properties,
)
from .retries import Deadline
from .s3_source import check_source

logger = logging.getLogger(__name__)

#: The longest wait for an upload; at most half the time left, so a cleanup can still run.
UPLOAD_WAIT_LIMIT_SECONDS = 300.0

F = TypeVar("F", bound=Callable[..., Any])


class AttachmentFailed(RequestFailed):
    """A failure whose message is the reason CloudFormation shows."""


def _expected(function: F) -> F:
    """The document rules' errors are reasons as they are (they name the object and the fix)."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except AttachmentValidationError as error:
            raise AttachmentFailed(str(error)) from None

    return run  # type: ignore[return-value]


class AttachmentLifecycle:
    """``Custom::SmsRegistrationAttachment`` for ``lifecycle_guard``."""

    kind = "attachment"
    owner_tag = SOURCE_TAG_KEY

    def could_be_id(self, physical_id: str) -> bool:
        """The service's attachment ID syntax."""
        return ATTACHMENT_ID_PATTERN.fullmatch(physical_id) is not None

    @_expected
    def create(self, request: Request) -> Answer:
        """Check the object, create the attachment, wait for the upload."""
        spec = parse_properties(request.properties)
        return self._make(request, spec, replacing=None)

    @_expected
    def update(self, request: Request) -> Answer:
        """Tags in place when the attachment holds the document, else a new attachment."""
        attachment_id = request.physical_id
        spec = parse_properties(request.properties)
        sms = request.clients("pinpoint-sms-voice-v2")
        current = attachments.describe(sms, attachment_id, request.deadline)
        if current is None or current.get("AttachmentStatus") != attachments.UPLOAD_COMPLETE:
            # Gone or broken: a new physical ID makes CloudFormation delete the old one after.
            return self._make(request, spec, replacing=attachment_id)
        tags = attachments.read_tags(sms, current["RegistrationAttachmentArn"], request.deadline)
        if not _holds_source(tags, spec, request.old_properties):
            # Another document: a new physical ID makes CloudFormation delete the old one.
            return self._make(request, spec, replacing=attachment_id)
        # The same document (a tag change, or a rollback to what the attachment already holds).
        changed, removed = attachments.reconcile_tags(
            sms,
            current["RegistrationAttachmentArn"],
            tags,
            spec.service_tags(request.owner),
            request.deadline,
        )
        if changed or removed:
            logger.info("tags of %s: set %s, removed %s", attachment_id, changed, removed)
        return Answer(attachment_id, attachments.attributes(current))

    def delete(self, request: Request) -> str:
        """Delete the attachment this resource made; gone already counts as deleted."""
        attachment_id = request.physical_id
        sms = request.clients("pinpoint-sms-voice-v2")
        deadline = request.deadline
        try:
            current = attachments.describe(sms, attachment_id, deadline)
            if current is None or current.get("AttachmentStatus") == attachments.DELETED:
                # Not found, or not an ID the service could have made (ValidationException).
                return "not on the service; nothing to delete"
            tags = attachments.read_tags(sms, current["RegistrationAttachmentArn"], deadline)
        except Exception as error:
            # Without the owner mark nothing proves this resource made it: never delete blind.
            raise Refused(
                f"attachment {attachment_id}: its owner cannot be read: "
                f"{attachments.error_text(error)}; not deleted"
            ) from None
        if not attachments.made_by(tags, request.owner):
            # Never delete what another resource (or a person) made, whatever ID we were sent.
            logger.warning("attachment %s was not made by this resource", attachment_id)
            return "not made by this resource; left alone"
        try:
            return attachments.delete(sms, attachment_id, deadline)
        except attachments.AttachmentInUse:
            raise Refused(
                f"attachment {attachment_id} is in use (ConflictException), probably by a "
                "registration: detach it first, or use removal_policy=RETAIN to keep it"
            ) from None

    def discard(self, request: Request, made_id: str, *, left_for_rollback: bool) -> str:
        """Delete an attachment this request made."""
        return _discard(request, made_id, left_for_rollback=left_for_rollback)

    def _make(self, request: Request, spec: AttachmentSpec, *, replacing: str | None) -> Answer:
        deadline = request.deadline
        check_source(request.clients("s3"), spec, deadline)
        sms = request.clients("pinpoint-sms-voice-v2")
        created = attachments.create(sms, spec, request.token, request.owner, deadline)
        attachment_id: str = created["RegistrationAttachmentId"]
        if replacing is None:
            # Name the real attachment in any FAILED answer from here on (crhelper's timeout
            # answer included): CloudFormation's rollback then sends Delete for it.
            request.name(attachment_id)
        upload_deadline = deadline.sooner(min(UPLOAD_WAIT_LIMIT_SECONDS, deadline.remaining() / 2))
        try:
            uploaded = attachments.wait_until_uploaded(sms, created, upload_deadline)
        except Exception as error:
            # Whatever stopped the wait (a failed upload, throttling past the deadline, a denied
            # Describe), the half-made attachment must not outlive this request.
            problem = error if isinstance(error, attachments.UploadNotCompleted) else repr(error)
            if getattr(error, "status", None) == attachments.DELETED:
                # Deleted already (a late delivery of a request whose attachment the rollback
                # removed gets it back by ClientToken): a Delete would only meet IAM's tag
                # condition on a resource without tags.
                outcome = "already deleted"
            else:
                outcome = _discard(request, attachment_id, left_for_rollback=replacing is None)
            # Short facts first, the (long) source last: CloudFormation shows 256 characters.
            raise AttachmentFailed(
                f"{problem}; attachment {attachment_id} {outcome}; source {spec.url}"
            ) from error
        return Answer(attachment_id, attachments.attributes(uploaded), made=True)


def _holds_source(tags: dict[str, str], spec: AttachmentSpec, old_properties: Any) -> bool:
    if SOURCE_TAG_KEY in tags:
        return attachments.holds_source(tags, spec)
    # Untagged (made by hand or by a future release): the previous properties break the tie.
    try:
        return parse_properties(old_properties or {}).same_source(spec)
    except AttachmentValidationError:
        return False


def _discard(request: Request, attachment_id: str, *, left_for_rollback: bool) -> str:
    """Delete an attachment this request made; say what happened, for the FAILED reason."""
    deadline: Deadline = request.deadline
    try:
        sms = request.clients("pinpoint-sms-voice-v2")
        return attachments.delete(sms, attachment_id, deadline, fresh=True)
    except Exception as error:
        logger.error("could not delete half-made attachment %s: %s", attachment_id, error)
        return discarded_text("attachment", left_for_rollback, SOURCE_TAG_KEY)
