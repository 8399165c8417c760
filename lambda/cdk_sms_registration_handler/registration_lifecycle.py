"""What each CloudFormation request does to a ``Custom::SmsRegistration``.

Plain functions of (event, SMS client, deadline) that return the physical ID and the response
Data, or raise ``RegistrationFailed`` whose message is the FAILED reason: head first, field
paths and codes only, never a value. The handler (index.py) dispatches to them and answers.

- Create: validate against the service's definitions (nothing is made when the declaration is
  wrong) -> CreateRegistration -> put every field -> associations -> submit when asked. A
  failure after CreateRegistration deletes the draft, and the reason says so; a conflict
  because a concurrent delivery of the same request submitted it answers that registration.
- Update: a new RegistrationType (or a registration gone from the service) is a replacement.
  Otherwise a declaration the current version already holds writes nothing (what makes
  rollback Updates safe); DRAFT -> write only the changes and delete optional fields dropped
  from the declaration; APPROVED, DENIED, DISCARDED, REVOKED -> a new version with the full
  declared set; SUBMITTED -> discard, then a new version; under review -> FAILED before any
  write. Tags change in place.
- Delete: DeleteRegistration; already gone is success; a conflict is FAILED with the status
  and what to do. (The construct's default RETAIN means CloudFormation never asks.)
- Never waits for a review; stops writing with time left to clean up, and says how many
  fields it wrote.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from . import registrations
from .attachments import client_token, error_code, read_tags, reconcile_tags
from .registration_contract import (
    OWNER_TAG_KEY,
    RESOURCE_ID_PATTERN,
    FieldValue,
    RegistrationSpec,
    RegistrationValidationError,
    parse_properties,
)
from .registration_rules import check_fields, failure_reason, field_type, problem_lines
from .resource_contract import owner_mark
from .retries import Deadline, RetriesExhausted

logger = logging.getLogger(__name__)

#: Reported: the service may miss fields put just before a submit; wait this long first.
SUBMIT_SETTLE_SECONDS = 2.0
#: Time kept back from writing for the cleanup of a failed Create (a throttled Delete).
CLEANUP_RESERVE_SECONDS = 30.0

Data = dict[str, str]


class RegistrationFailed(Exception):
    """A failure whose message is the reason CloudFormation shows (no field values)."""


class _OutOfTime(Exception):
    """The deadline for writes has come."""


class NotAwaited(Exception):
    """CloudFormation no longer waits for this request (its message says why)."""


#: Called with the registration's ID before each step that cannot be undone by deleting the
#: draft (associating a number, submitting); raises NotAwaited to stop there.
Checkpoint = Callable[[str], None]


F = TypeVar("F", bound=Callable[..., Any])


def _safe(function: F) -> F:
    """Let only RegistrationFailed out: any other error becomes one with a value-free reason."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RegistrationFailed:
            raise
        except Exception as error:
            reason = registrations.safe_error_text(error)
            logger.error("%s failed: %s", function.__name__, reason)
            raise RegistrationFailed(reason) from error

    return run  # type: ignore[return-value]


@_safe
def create(
    event: Mapping[str, Any],
    sms: Any,
    deadline: Deadline,
    *,
    on_created: Callable[[str], None] | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[str, Data]:
    """Create: returns (registration ID, attributes).

    ``on_created`` gets the new registration's ID as soon as the service made it, so that any
    later FAILED answer (a timeout included) names it and the rollback deletes it.
    ``checkpoint`` runs before associating and before submitting: once a number is associated
    or the version is under review, the service refuses to delete the registration.
    """
    spec = _parse(event["ResourceProperties"])
    return _create(
        event, sms, spec, deadline, on_created=on_created, replacing=None, checkpoint=checkpoint
    )


@_safe
def update(event: Mapping[str, Any], sms: Any, deadline: Deadline) -> tuple[str, Data]:
    """Update: returns (physical ID, attributes); a new ID means a replacement."""
    registration_id = str(event["PhysicalResourceId"])
    spec = _parse(event["ResourceProperties"])
    old = _parse_or_none(event.get("OldResourceProperties"))
    if old is not None and old.registration_type != spec.registration_type:
        logger.info("registration type changed: replacing %s", registration_id)
        return _create(event, sms, spec, deadline, on_created=None, replacing=registration_id)
    registration = registrations.describe(sms, registration_id, deadline)
    if (
        registration is None
        or registration.get("RegistrationStatus") == registrations.DELETED
        or registration.get("RegistrationType") != spec.registration_type
    ):
        logger.info("registration %s is gone or of another type: replacing it", registration_id)
        return _create(event, sms, spec, deadline, on_created=None, replacing=registration_id)
    return _Update(event, sms, spec, old, registration, deadline).run()


@_safe
def delete(event: Mapping[str, Any], sms: Any, deadline: Deadline) -> str:
    """Delete: remove the registration; return what happened (already gone is success)."""
    registration_id = str(event["PhysicalResourceId"])
    if not RESOURCE_ID_PATTERN.fullmatch(registration_id):
        return "not a registration ID; nothing to delete"
    try:
        outcome = registrations.delete(sms, registration_id, deadline)
    except registrations.RegistrationInUse as error:
        current = registrations.describe(sms, registration_id, deadline) or {}
        status = current.get("RegistrationStatus", "in use")
        raise RegistrationFailed(
            f"registration {registration_id} is {status}: the service refuses to delete it "
            f"({error}); wait for a review to end, release its phone numbers or sender IDs "
            "first, or use removal_policy=RETAIN to keep it"
        ) from None
    logger.info("registration %s %s", registration_id, outcome)
    return outcome


# Create ----------------------------------------------------------------------------------


def _create(
    event: Mapping[str, Any],
    sms: Any,
    spec: RegistrationSpec,
    deadline: Deadline,
    *,
    on_created: Callable[[str], None] | None,
    replacing: str | None,
    checkpoint: Checkpoint | None = None,
) -> tuple[str, Data]:
    definitions = _definitions(sms, spec.registration_type, deadline)
    _validate(definitions, spec.values, spec, suffix="; nothing created")
    token = client_token(
        str(event["StackId"]), str(event["LogicalResourceId"]), str(event["RequestId"])
    )
    created = registrations.create(sms, spec, token, _owner(event), deadline)
    registration_id = str(created["RegistrationId"])
    logger.info("created registration %s (%s)", registration_id, spec.registration_type)
    if on_created is not None:
        on_created(registration_id)
    if created.get("RegistrationStatus") != "CREATED" or created.get("CurrentVersionNumber") != 1:
        # The ClientToken gave back what an earlier delivery of this very request made, and it
        # has moved on (submitted, or a later version): writing again could only break it.
        logger.info(
            "registration %s was made by an earlier delivery; nothing to write", registration_id
        )
        number = int(created.get("CurrentVersionNumber", 1))
        current = registrations.describe_version(sms, registration_id, number, deadline)
        return registration_id, registrations.attributes(created, current)
    writer = _Writer(sms, registration_id, definitions, _work_deadline(deadline))
    try:
        writer.put_all(spec.fields)
        if checkpoint is not None and (spec.associations or spec.submit):
            checkpoint(registration_id)
        _associate(sms, registration_id, spec.associations, None, writer.deadline)
        described: Mapping[str, Any] = created
        version = {"VersionNumber": 1, "RegistrationVersionStatus": registrations.DRAFT}
        if spec.submit:
            if checkpoint is not None and spec.associations:
                checkpoint(registration_id)
            version = _submit(sms, registration_id, writer)
            # Submitting moves the registration's status too.
            described = registrations.describe(sms, registration_id, writer.deadline) or created
    except Exception as error:
        done = _made_by_another_delivery(sms, registration_id, error, deadline)
        if done is not None:
            return registration_id, done
        what = writer.explain(error, len(spec.fields))
        outcome = discard(sms, registration_id, deadline, left_for_rollback=not replacing)
        raise RegistrationFailed(f"{what}; registration {registration_id} {outcome}") from error
    return registration_id, registrations.attributes(described, version)


def _made_by_another_delivery(
    sms: Any, registration_id: str, error: BaseException, deadline: Deadline
) -> Data | None:
    """The attributes when a conflict comes from a concurrent delivery of this very request.

    Lambda may deliver a Create twice at once; both get the same registration (ClientToken).
    The slower one's write or submit then conflicts with the version the faster one submitted:
    that registration holds the declaration and is the answer, not a draft to delete.
    """
    code = error.code if isinstance(error, registrations.FieldWriteFailed) else None
    if isinstance(error, ClientError):
        code = error_code(error)
    if code != "ConflictException":
        return None
    try:
        described = registrations.describe(sms, registration_id, deadline)
        if described is None or (
            described.get("RegistrationStatus") == "CREATED"
            and described.get("CurrentVersionNumber") == 1
        ):
            return None
        number = int(described.get("CurrentVersionNumber", 1))
        current = registrations.describe_version(sms, registration_id, number, deadline)
    except Exception:
        return None
    logger.info(
        "registration %s was submitted by another delivery of this request", registration_id
    )
    return registrations.attributes(described, current)


def discard(sms: Any, registration_id: str, deadline: Deadline, *, left_for_rollback: bool) -> str:
    """Delete a registration this request made; say what happened, for the FAILED reason."""
    try:
        return registrations.delete(sms, registration_id, deadline)
    except Exception as error:
        logger.error(
            "could not delete half-made registration %s: %s",
            registration_id,
            registrations.safe_error_text(error),
        )
        if left_for_rollback:
            return "not deleted yet; the rollback Delete retries it"
        return f"could not be deleted: delete it by hand (tag {OWNER_TAG_KEY})"


# Update ----------------------------------------------------------------------------------


class _Update:
    """One Update of an existing registration of the same type."""

    def __init__(
        self,
        event: Mapping[str, Any],
        sms: Any,
        spec: RegistrationSpec,
        old: RegistrationSpec | None,
        registration: dict[str, Any],
        deadline: Deadline,
    ) -> None:
        self.event = event
        self.sms = sms
        self.spec = spec
        self.old = old
        self.registration = registration
        self.deadline = deadline
        self.id = str(registration["RegistrationId"])

    def run(self) -> tuple[str, Data]:
        sms, spec, deadline = self.sms, self.spec, self.deadline
        number = int(self.registration.get("CurrentVersionNumber", 1))
        version = registrations.describe_version(sms, self.id, number, deadline)
        status = str(self.registration.get("RegistrationStatus", ""))
        version_status = str(version.get("RegistrationVersionStatus", ""))
        current = registrations.field_values(sms, self.id, number, deadline)
        previously = self.old.paths if self.old is not None else ()
        changes = registrations.diff_values(spec.fields, current, previously)
        held = registrations.associations(sms, self.id, deadline)
        submit_now = spec.submit and version_status == registrations.DRAFT
        if changes.empty and not submit_now:
            # The current version already holds the declaration: no write but tags and
            # associations (a rollback to what the registration holds writes nothing at all).
            logger.info("registration %s version %d holds the declaration", self.id, number)
            self._tags()
            _associate(sms, self.id, spec.associations, held, deadline)
            return self.id, registrations.attributes(self.registration, version)
        plan = registrations.update_plan(status, version_status)
        if plan == registrations.UNDER_REVIEW or plan is None:
            shown = version_status if plan else f"{status}/{version_status}"
            rule = (
                "the service accepts no change until the review ends"
                if plan
                else "this release does not know how to change it"
            )
            raise RegistrationFailed(
                f"registration {self.id} version {number} is {shown}: {rule}; nothing written"
            )
        definitions = _definitions(sms, spec.registration_type, deadline)
        if plan == registrations.EDIT_DRAFT:
            deletes = registrations.deletable(changes.drops, definitions)
            kept = {p: v for p, v in current.items() if p not in deletes}
            effective = {**kept, **spec.values}
            puts: Sequence[FieldValue] = changes.puts
        else:
            deletes, effective, puts = [], spec.values, spec.fields
        _validate(definitions, effective, spec, suffix="; nothing written")
        self._tags()
        logger.info(
            "registration %s version %d is %s: %s, %d puts, %d deletes%s",
            self.id,
            number,
            version_status,
            plan,
            len(puts),
            len(deletes),
            ", submit" if spec.submit else "",
        )
        writer = _Writer(sms, self.id, definitions, _work_deadline(deadline))
        try:
            if plan == registrations.DISCARD_THEN_NEW_VERSION:
                registrations.discard(sms, self.id, writer.deadline)
            if plan != registrations.EDIT_DRAFT:
                version = registrations.create_version(sms, self.id, writer.deadline)
                number = int(version.get("VersionNumber", number + 1))
                logger.info("registration %s: new version %d", self.id, number)
            writer.put_all(puts)
            writer.delete_all(deletes)
            _associate(sms, self.id, spec.associations, held, writer.deadline)
            if spec.submit:
                version = _submit(sms, self.id, writer)
            described = None
            if spec.submit or plan != registrations.EDIT_DRAFT:  # the statuses moved
                described = registrations.describe(sms, self.id, writer.deadline)
        except Exception as error:
            what = writer.explain(error, len(puts) + len(deletes))
            raise RegistrationFailed(
                f"{what}; registration {self.id} version {number} may hold part of the change; "
                "the rollback writes the previous declaration back"
            ) from error
        version.setdefault("VersionNumber", number)
        return self.id, registrations.attributes(described or self.registration, version)

    def _tags(self) -> None:
        arn = str(self.registration["RegistrationArn"])
        current = read_tags(self.sms, arn, self.deadline)
        desired = registrations.desired_tags(current, self.spec, _owner(self.event))
        changed, removed = reconcile_tags(self.sms, arn, current, desired, self.deadline)
        if changed or removed:
            logger.info("tags of %s: set %s, removed %s", self.id, changed, removed)


# Shared ----------------------------------------------------------------------------------


class _Writer:
    """Puts and deletes field values until done or out of time, counting what it wrote."""

    def __init__(
        self,
        sms: Any,
        registration_id: str,
        definitions: Sequence[Mapping[str, Any]],
        deadline: Deadline,
    ) -> None:
        self.sms = sms
        self.registration_id = registration_id
        self.definitions = definitions
        self.deadline = deadline
        self.written = 0

    def put_all(self, values: Sequence[FieldValue]) -> None:
        for value in values:
            self._check_time()
            kind = field_type(self.definitions, value.path)
            registrations.put_value(self.sms, self.registration_id, value, kind, self.deadline)
            self.written += 1
            logger.info("put %s", value.path)

    def delete_all(self, paths: Sequence[str]) -> None:
        for path in paths:
            self._check_time()
            outcome = registrations.delete_value(
                self.sms, self.registration_id, path, self.deadline
            )
            self.written += 1
            logger.info("delete %s: %s", path, outcome)

    def _check_time(self) -> None:
        if self.deadline.remaining() <= 0:
            raise _OutOfTime()

    def explain(self, error: BaseException, total: int) -> str:
        """The failure as a reason: what failed and how many writes were made."""
        count = f"{self.written} of {total} field writes made"
        if isinstance(error, NotAwaited):
            return f"{error}; {count}"
        if isinstance(error, (_OutOfTime, RetriesExhausted)):
            return f"out of time: {count}"
        return f"{registrations.safe_error_text(error)}; {count}"


def _submit(sms: Any, registration_id: str, writer: _Writer) -> dict[str, Any]:
    if writer.written:
        time.sleep(SUBMIT_SETTLE_SECONDS)
    submitted = registrations.submit(sms, registration_id, writer.deadline)
    logger.info(
        "submitted registration %s version %s: %s",
        registration_id,
        submitted.get("VersionNumber"),
        submitted.get("RegistrationVersionStatus"),
    )
    return submitted


def _associate(
    sms: Any,
    registration_id: str,
    declared: Sequence[str],
    held: Sequence[Mapping[str, Any]] | None,
    deadline: Deadline,
) -> None:
    """Associate the declared resources not associated yet (``held``: None to list them)."""
    if not declared:
        return
    if held is None:
        held = registrations.associations(sms, registration_id, deadline)
    for resource in registrations.missing_associations(declared, held):
        outcome = registrations.associate(sms, registration_id, resource, deadline)
        logger.info("association of %s with %s: %s", resource, registration_id, outcome)


def _definitions(sms: Any, registration_type: str, deadline: Deadline) -> list[dict[str, Any]]:
    try:
        return registrations.definitions(sms, registration_type, deadline)
    except Exception as error:
        raise RegistrationFailed(
            f"RegistrationType {registration_type}: could not read its field definitions "
            f"({registrations.safe_error_text(error)}); nothing written"
        ) from error


def _validate(
    definitions: Sequence[Mapping[str, Any]],
    values: Mapping[str, FieldValue],
    spec: RegistrationSpec,
    *,
    suffix: str,
) -> None:
    problems = check_fields(
        definitions, values, submit=spec.submit, registration_type=spec.registration_type
    )
    if problems:
        for line in problem_lines(problems):
            logger.error("%s: %s", spec.registration_type, line)
        raise RegistrationFailed(failure_reason(problems, spec.registration_type, suffix=suffix))


def _work_deadline(deadline: Deadline) -> Deadline:
    return deadline.sooner(deadline.remaining() - CLEANUP_RESERVE_SECONDS)


def _owner(event: Mapping[str, Any]) -> str:
    return owner_mark(str(event["StackId"]), str(event["LogicalResourceId"]))


def _parse(properties: Mapping[str, Any]) -> RegistrationSpec:
    try:
        return parse_properties(properties)
    except RegistrationValidationError as error:
        raise RegistrationFailed(str(error)) from None


def _parse_or_none(properties: Mapping[str, Any] | None) -> RegistrationSpec | None:
    try:
        return parse_properties(properties or {})
    except RegistrationValidationError:
        return None
