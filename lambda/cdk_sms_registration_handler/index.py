"""Lambda entry point: ``Custom::SmsRegistrationAttachment`` and ``Custom::SmsRegistration``.

Each request function dispatches once on ``ResourceType``.

crhelper answers CloudFormation (the ResponseURL PUT, FAILED on any exception, FAILED just
before the Lambda deadline); the functions below do one request type each. Errors are raised
with the key fact first because CloudFormation shows at most 256 characters of a reason.

CloudFormation cancels requests, stops waiting after ServiceTimeout, sends physical IDs it made
up, and delivers a request more than once. So: every answer names the resource (never an empty
physical ID), a Create or replacement that CloudFormation no longer waits for removes what it
made before answering, and a Delete deletes only what this resource made. Registration field
values never reach a reason, the response Data or a log line: only paths.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from typing import Any

import boto3
from botocore.config import Config
from crhelper import CfnResource

from . import attachments, registration_lifecycle, registrations, request_state
from .document_rules import AttachmentValidationError
from .registration_contract import OWNER_TAG_KEY
from .registration_contract import RESOURCE_TYPE as REGISTRATION_TYPE
from .registration_lifecycle import RegistrationFailed
from .resource_contract import (
    ATTACHMENT_ID_PATTERN,
    SOURCE_TAG_KEY,
    AttachmentSpec,
    owner_mark,
    parse_properties,
)
from .retries import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, Deadline
from .s3_source import check_source

logger = logging.getLogger(__name__)

# INFO, not crhelper's default DEBUG, which logs the event with its pre-signed ResponseURL.
# No sleep on Delete: crhelper's default waits 120 s per resource to flush logs.
helper = CfnResource(json_logging=False, log_level="INFO", boto_level="ERROR", sleep_on_delete=0)

#: Time kept back from the Lambda deadline to send the response.
RESPONSE_RESERVE_SECONDS = 3.0
#: The longest wait for an upload; at most half the time left, so a cleanup can still run.
UPLOAD_WAIT_LIMIT_SECONDS = 300.0
#: CloudFormation shows at most 256 characters of a reason and crhelper keeps only the tail of
#: longer ones, so we cut them ourselves and keep the head.
MAX_REASON_CHARS = 250


@functools.cache
def _client(service: str) -> Any:
    # One attempt per call: retries.call_with_retries retries throttling, server errors and
    # dropped connections up to the invocation's deadline, which botocore does not know. Short
    # timeouts keep a single hung call from running past it.
    config = Config(
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


#: What this invocation made and answered SUCCESS for: (physical ID, stack phase at start).
_answered_new: list[tuple[str, str | None]] = []


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda handler: let crhelper dispatch and answer, then log one line about the request."""
    started = time.monotonic()
    _answered_new.clear()
    helper(event, context)
    if helper.Status == "SUCCESS":
        for made_id, phase in _answered_new:
            _confirm_taken(event, context, made_id, phase)
    logger.info(
        json.dumps(
            {
                "requestType": event.get("RequestType"),
                "logicalResourceId": event.get("LogicalResourceId"),
                "physicalResourceId": helper.PhysicalResourceId,
                "outcome": helper.Status,
                "reason": helper.Reason or None,
                "durationMs": round((time.monotonic() - started) * 1000),
            }
        )
    )


def _deadline(context: Any) -> Deadline:
    return Deadline(context.get_remaining_time_in_millis() / 1000 - RESPONSE_RESERVE_SECONDS)


def _shorten(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 3] + "..."


class RequestFailed(Exception):
    """A failure whose message is the reason CloudFormation shows."""


def _request(function: Any) -> Any:
    """Turn every failure into a RequestFailed whose message is a short, head-first reason."""

    @functools.wraps(function)
    def run(event: dict[str, Any], context: Any) -> Any:
        try:
            return function(event, context)
        except (RequestFailed, AttachmentValidationError) as error:
            raise RequestFailed(_shorten(str(error))) from error
        except Exception as error:
            logger.exception("%s failed unexpectedly", event.get("RequestType"))
            raise RequestFailed(_shorten(f"{type(error).__name__}: {error}")) from error

    return run


@helper.create
@_request
def on_create(event: dict[str, Any], context: Any) -> str:
    """Create: check the object, create the attachment, wait for the upload."""
    # crhelper's own answers (a failure, its timeout) carry this until an attachment exists: an
    # empty physical ID would be rejected, and on_delete knows this one means "nothing made".
    helper.PhysicalResourceId = helper.generate_physical_id(event)
    if _is_registration(event):
        return _create_registration(event, _deadline(context))
    spec = parse_properties(event["ResourceProperties"])
    return _create_attachment(event, spec, _deadline(context), replacing=None, phase=None)


@helper.update
@_request
def on_update(event: dict[str, Any], context: Any) -> str:
    """Update: tags in place when the attachment holds the source, otherwise a new attachment."""
    attachment_id: str = event["PhysicalResourceId"]
    # crhelper's own timeout answer uses this: it must name the resource, never be empty.
    helper.PhysicalResourceId = attachment_id
    if _is_registration(event):
        return _update_registration(event, _deadline(context))
    spec = parse_properties(event["ResourceProperties"])
    deadline = _deadline(context)
    # Read first: a rollback Update (sent while the stack is UPDATE_ROLLBACK_IN_PROGRESS) is
    # told apart from a forward Update that CloudFormation cancelled by the phase it began in.
    phase = request_state.stack_status(_client("cloudformation"), event["StackId"], deadline)
    sms = _client("pinpoint-sms-voice-v2")
    current = attachments.describe(sms, attachment_id, deadline)
    if current is None or current.get("AttachmentStatus") != attachments.UPLOAD_COMPLETE:
        # Gone or broken: a new physical ID makes CloudFormation delete the old one afterwards.
        return _create_attachment(event, spec, deadline, replacing=attachment_id, phase=phase)
    tags = attachments.read_tags(sms, current["RegistrationAttachmentArn"], deadline)
    if not _holds_source(tags, spec, event.get("OldResourceProperties")):
        # Source changed: a new physical ID makes CloudFormation delete the old one in cleanup.
        return _create_attachment(event, spec, deadline, replacing=attachment_id, phase=phase)
    # Same document (a tag change, or a rollback to what the attachment already holds).
    owner = owner_mark(event["StackId"], event["LogicalResourceId"])
    changed, removed = attachments.reconcile_tags(
        sms, current["RegistrationAttachmentArn"], tags, spec.service_tags(owner), deadline
    )
    logger.info("tags of %s: set %s, removed %s", attachment_id, changed, removed)
    helper.Data.update(attachments.attributes(current))
    return attachment_id


@helper.delete
@_request
def on_delete(event: dict[str, Any], context: Any) -> str:
    """Delete: remove the attachment this resource made; gone already counts as deleted."""
    attachment_id: str = event["PhysicalResourceId"]
    # crhelper's own timeout answer uses this: it must name the resource, never be empty.
    helper.PhysicalResourceId = attachment_id
    if _is_registration(event):
        return _delete_registration(event, _deadline(context))
    if not _could_be_attachment_id(attachment_id, event):
        # A placeholder: crhelper's or ours after a failed Create, or one CloudFormation made up
        # for a cancelled Create. No attachment was recorded under it.
        logger.info("%s is a placeholder, not an attachment ID; nothing to delete", attachment_id)
        return attachment_id
    deadline = _deadline(context)
    sms = _client("pinpoint-sms-voice-v2")
    current = attachments.describe(sms, attachment_id, deadline)
    if current is None or current.get("AttachmentStatus") == attachments.DELETED:
        # Not found, or not an ID the service could have made (ValidationException).
        logger.info("no attachment %s on the service; nothing to delete", attachment_id)
        return attachment_id
    tags = attachments.read_tags(sms, current["RegistrationAttachmentArn"], deadline)
    if not attachments.made_by(tags, owner_mark(event["StackId"], event["LogicalResourceId"])):
        # Never delete what another resource (or a person) made, whatever ID we were sent.
        logger.warning("attachment %s was not made by this resource; left alone", attachment_id)
        return attachment_id
    try:
        outcome = attachments.delete(sms, attachment_id, deadline)
    except attachments.AttachmentInUse:
        raise RequestFailed(
            f"attachment {attachment_id} is in use (ConflictException), probably by a "
            "registration: detach it first, or use removal_policy=RETAIN to keep it"
        ) from None
    logger.info("attachment %s %s", attachment_id, outcome)
    return attachment_id


def _holds_source(tags: dict[str, str], spec: AttachmentSpec, old_properties: Any) -> bool:
    if SOURCE_TAG_KEY in tags:
        return attachments.holds_source(tags, spec)
    # Untagged (made by hand or by a future release): trust the previous properties.
    try:
        return parse_properties(old_properties or {}).same_source(spec)
    except AttachmentValidationError:
        return False


#: What CloudFormation makes up for a cancelled Create: ``<stack>-<logical ID...>-<random>``.
_CLOUDFORMATION_PLACEHOLDER = re.compile(r"[A-Za-z0-9-]+-[A-Z0-9]{12,13}")


def _is_placeholder(physical_id: str, event: dict[str, Any]) -> bool:
    """A physical ID crhelper or CloudFormation made up: no resource was recorded under it."""
    stack_name = event["StackId"].split("/")[1] if "/" in event["StackId"] else ""
    crhelper_placeholder = re.fullmatch(
        re.escape(f"{stack_name}_{event['LogicalResourceId']}_") + "[A-Z0-9]{8}", physical_id
    )
    cloudformation_placeholder = physical_id.startswith(
        f"{stack_name[:20]}-"
    ) and _CLOUDFORMATION_PLACEHOLDER.fullmatch(physical_id)
    return crhelper_placeholder is not None or bool(cloudformation_placeholder)


def _could_be_attachment_id(physical_id: str, event: dict[str, Any]) -> bool:
    return (
        not _is_placeholder(physical_id, event)
        and ATTACHMENT_ID_PATTERN.fullmatch(physical_id) is not None
    )


def _create_attachment(
    event: dict[str, Any],
    spec: AttachmentSpec,
    deadline: Deadline,
    *,
    replacing: str | None,
    phase: str | None,
) -> str:
    check_source(_client("s3"), spec, deadline)
    sms = _client("pinpoint-sms-voice-v2")
    token = attachments.client_token(
        event["StackId"], event["LogicalResourceId"], event["RequestId"]
    )
    owner = owner_mark(event["StackId"], event["LogicalResourceId"])
    created = attachments.create(sms, spec, token, owner, deadline)
    attachment_id: str = created["RegistrationAttachmentId"]
    if replacing is None:
        # Name the real attachment in any FAILED answer from here on (crhelper's timeout answer
        # included): CloudFormation's rollback then sends Delete for it, so nothing is orphaned.
        helper.PhysicalResourceId = attachment_id
    upload_deadline = deadline.sooner(min(UPLOAD_WAIT_LIMIT_SECONDS, deadline.remaining() / 2))
    try:
        uploaded = attachments.wait_until_uploaded(sms, created, upload_deadline)
    except Exception as error:
        # Whatever stopped the wait (a failed upload, throttling past the deadline, a denied
        # Describe), the half-made attachment must not outlive this request.
        problem = error if isinstance(error, attachments.UploadNotCompleted) else repr(error)
        outcome = _discard(attachment_id, deadline, left_for_rollback=replacing is None)
        # Short facts first, the (long) source last: CloudFormation shows 256 characters.
        raise RequestFailed(
            f"{problem}; attachment {attachment_id} {outcome}; source {spec.url}"
        ) from error
    _answer_if_awaited(event, attachment_id, deadline, phase=phase)
    helper.Data.update(attachments.attributes(uploaded))
    return attachment_id


def _answer_if_awaited(
    event: dict[str, Any], made_id: str, deadline: Deadline, *, phase: str | None
) -> None:
    """Fail, deleting what this request made, unless CloudFormation still awaits the answer.

    An awaited answer is noted for the confirmation after it is sent.
    """
    state = request_state.verdict(
        _client("cloudformation"), event, made_id, deadline, phase_at_start=phase
    )
    if not state.awaited:
        # Cancelled, or past ServiceTimeout: CloudFormation ignores this answer, and its rollback
        # will neither record nor delete what it names. Remove it now or it is orphaned.
        outcome = _discard_made(event, made_id, deadline, left_for_rollback=False)
        kind = "registration" if _is_registration(event) else "attachment"
        raise RequestFailed(
            f"CloudFormation no longer waits for this request ({state.why}); "
            f"{kind} {made_id} {outcome}"
        )
    _answered_new.append((made_id, phase))


def _confirm_taken(event: dict[str, Any], context: Any, made_id: str, phase: str | None) -> None:
    """CloudFormation may have cancelled the request just before our answer arrived."""
    deadline = _deadline(context)
    state = request_state.confirm_taken(
        _client("cloudformation"), event, made_id, deadline, phase_at_start=phase
    )
    if state.awaited:
        if not state.settled:
            logger.warning("%s: CloudFormation has not recorded the answer yet", made_id)
        return
    # The answer came too late: CloudFormation's rollback neither records nor deletes it.
    outcome = _discard_made(event, made_id, deadline, left_for_rollback=False)
    logger.warning("answer for %s ignored by CloudFormation (%s): %s", made_id, state.why, outcome)


def _discard_made(
    event: dict[str, Any], made_id: str, deadline: Deadline, *, left_for_rollback: bool
) -> str:
    """Delete what this request made, of either type; say what happened."""
    if _is_registration(event):
        sms = _client("pinpoint-sms-voice-v2")
        return registration_lifecycle.discard(
            sms, made_id, deadline, left_for_rollback=left_for_rollback
        )
    return _discard(made_id, deadline, left_for_rollback=left_for_rollback)


def _discard(attachment_id: str, deadline: Deadline, *, left_for_rollback: bool) -> str:
    """Delete an attachment this request made; say what happened, for the FAILED reason."""
    try:
        sms = _client("pinpoint-sms-voice-v2")
        return attachments.delete(sms, attachment_id, deadline, fresh=True)
    except Exception as error:
        logger.error("could not delete half-made attachment %s: %s", attachment_id, error)
        if left_for_rollback:
            return "not deleted yet; the rollback Delete retries it"
        return f"could not be deleted: delete it by hand (tag {SOURCE_TAG_KEY})"


# Custom::SmsRegistration ------------------------------------------------------------------


def _is_registration(event: dict[str, Any]) -> bool:
    return event.get("ResourceType") == REGISTRATION_TYPE


def _name_registration(registration_id: str) -> None:
    # Any FAILED answer from here on (crhelper's timeout answer included) names the draft, so
    # CloudFormation's rollback sends a Delete for it and nothing is orphaned.
    helper.PhysicalResourceId = registration_id


def _create_registration(event: dict[str, Any], deadline: Deadline) -> str:
    sms = _client("pinpoint-sms-voice-v2")
    try:
        registration_id, data = registration_lifecycle.create(
            event,
            sms,
            deadline,
            on_created=_name_registration,
            checkpoint=_awaited_checkpoint(event, deadline, phase=None),
        )
    except RegistrationFailed as error:
        # from None: the cause may carry a service message, and crhelper logs the traceback.
        raise RequestFailed(str(error)) from None
    _answer_if_awaited(event, registration_id, deadline, phase=None)
    helper.Data.update(data)
    return registration_id


def _awaited_checkpoint(
    event: dict[str, Any], deadline: Deadline, *, phase: str | None
) -> registration_lifecycle.Checkpoint:
    """Stop before a step the draft's deletion cannot undo, if CloudFormation stopped waiting."""

    def check(registration_id: str) -> None:
        state = request_state.verdict(
            _client("cloudformation"), event, registration_id, deadline, phase_at_start=phase
        )
        if not state.awaited:
            raise registration_lifecycle.NotAwaited(
                f"CloudFormation no longer waits for this request ({state.why})"
            )

    return check


def _update_registration(event: dict[str, Any], deadline: Deadline) -> str:
    registration_id: str = event["PhysicalResourceId"]
    # Read first, as for attachments: a replacement made for a forward Update that
    # CloudFormation cancelled is told apart from one made for a rollback Update.
    phase = request_state.stack_status(_client("cloudformation"), event["StackId"], deadline)
    sms = _client("pinpoint-sms-voice-v2")
    try:
        answered_id, data = registration_lifecycle.update(event, sms, deadline)
    except RegistrationFailed as error:
        if _rolling_back(phase):
            # A FAILED answer here would leave the stack in UPDATE_ROLLBACK_FAILED (for example
            # a version now under review): keep the registration as it is and say so.
            logger.warning("rollback: registration %s kept as it is: %s", registration_id, error)
            return registration_id
        raise RequestFailed(str(error)) from None
    if answered_id != registration_id:
        _answer_if_awaited(event, answered_id, deadline, phase=phase)
    helper.Data.update(data)
    return answered_id


def _rolling_back(stack_status: str | None) -> bool:
    return stack_status is not None and "ROLLBACK" in stack_status


def _delete_registration(event: dict[str, Any], deadline: Deadline) -> str:
    registration_id: str = event["PhysicalResourceId"]
    if _is_placeholder(registration_id, event):
        logger.info(
            "%s is a placeholder, not a registration ID; nothing to delete", registration_id
        )
        return registration_id
    sms = _client("pinpoint-sms-voice-v2")
    skip = _registration_not_to_delete(sms, event, registration_id, deadline)
    if skip is not None:
        logger.info("registration %s: %s; nothing to delete", registration_id, skip)
        return registration_id
    try:
        outcome = registration_lifecycle.delete(event, sms, deadline)
    except RegistrationFailed as error:
        phase = request_state.stack_status(_client("cloudformation"), event["StackId"], deadline)
        if _rolling_back(phase):
            # Failing a rollback's Delete wedges the stack (ROLLBACK_FAILED): leave it instead.
            logger.warning("rollback: registration %s left in place: %s", registration_id, error)
            return registration_id
        raise RequestFailed(str(error)) from None
    logger.info("registration %s: %s", registration_id, outcome)
    return registration_id


def _registration_not_to_delete(
    sms: Any, event: dict[str, Any], registration_id: str, deadline: Deadline
) -> str | None:
    """Why not to call DeleteRegistration (gone, or not made here), or None to go ahead."""
    try:
        current = registrations.describe(sms, registration_id, deadline)
    except Exception as error:
        # An ID the service rejects, or a read that failed: the Delete itself decides.
        logger.info("cannot describe %s: %s", registration_id, registrations.safe_error_text(error))
        return None
    if current is None or current.get("RegistrationStatus") == registrations.DELETED:
        # Gone: a Delete would only be refused by IAM (the owner-tag condition needs tags).
        return "already gone"
    tags = attachments.read_tags(sms, str(current["RegistrationArn"]), deadline)
    if tags.get(OWNER_TAG_KEY) != owner_mark(event["StackId"], event["LogicalResourceId"]):
        logger.warning("registration %s was not made by this resource; left alone", registration_id)
        return "not made by this resource"
    return None
