"""What each CloudFormation request does to a ``Custom::SmsRegistration``.

Runs under ``lifecycle_guard`` (placeholders, the checks before and after answering, rollbacks
that never fail); the service calls are in ``registrations``, the Update decisions in
``registration_plan``, the rules in ``registration_rules``. Plain functions of (event, SMS
client, deadline) return the physical ID and the response Data, or raise ``RegistrationFailed``
whose message is the FAILED reason: head first, field paths and codes only, never a value.

- Create: validate against the service's definitions (nothing is made when the declaration is
  wrong) -> CreateRegistration -> put every field -> associations (verified) -> submit when
  asked; CloudFormation is asked before associating and before submitting (the service refuses
  to delete a registration after either). A failure after CreateRegistration deletes the draft
  and the reason says so; a conflict because a concurrent delivery of the same request
  submitted it answers that registration.
- Update: reconcile, don't replay. Read what the service holds (type, status, the current and
  the latest APPROVED version and their values, associations, tags) and let
  ``registration_plan.decide`` say which writes close the gap; OldResourceProperties only say
  which fields were dropped. A registration of another type (or gone) is replaced, through the
  Create path's checks; a rollback never replaces, creates a version, submits or associates.
- Delete: only a registration whose owner tag names this resource, and never when the owner
  cannot be read; already gone is success; a refusal says the statuses and what to do.
- Never waits for a review; stops writing with time left to clean up, and says how many
  fields it wrote.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from . import registration_plan, registration_prefill, registrations
from .attachments import client_token, error_code, read_tags, reconcile_tags
from .lifecycle_guard import (
    Answer,
    NotAwaited,
    Refused,
    Request,
    RequestFailed,
    discarded_text,
)
from .registration_contract import (
    OWNER_TAG_KEY,
    RESOURCE_ID_PATTERN,
    FieldValue,
    RegistrationSpec,
    RegistrationValidationError,
    parse_properties,
)
from .registration_plan import Observed, Plan
from .registration_rules import check_fields, failure_reason, field_type, problem_lines
from .resource_contract import owner_mark
from .retries import Deadline, RetriesExhausted

logger = logging.getLogger(__name__)

#: Reported: the service may miss fields put just before a submit; wait this long first.
SUBMIT_SETTLE_SECONDS = 2.0
#: Time kept back from writing for the cleanup of a failed Create (a throttled Delete).
CLEANUP_RESERVE_SECONDS = 30.0
#: How often a forward Update that is still writing asks CloudFormation again.
CHECKPOINT_EVERY_SECONDS = 5.0

Data = dict[str, str]

__all__ = [
    "NotAwaited",
    "RegistrationFailed",
    "RegistrationLifecycle",
    "create",
    "delete",
    "update",
]


class RegistrationFailed(RequestFailed):
    """A failure whose message is the reason CloudFormation shows (no field values)."""


class _OutOfTime(Exception):
    """The deadline for writes has come."""


#: Called with a registration's ID before each step that cannot be undone by deleting the
#: draft (associating a number, submitting); raises NotAwaited to stop there.
Checkpoint = Callable[[str], None]


F = TypeVar("F", bound=Callable[..., Any])


def _safe(function: F) -> F:
    """Let only RegistrationFailed out: any other error becomes one with a value-free reason."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (RegistrationFailed, Refused):
            raise
        except NotAwaited as error:
            raise RegistrationFailed(str(error)) from None
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
    profiles: Callable[[], Any] | None = None,
) -> tuple[str, Data]:
    """Create, write, associate and submit as declared."""
    """Create: returns (registration ID, attributes).

    ``on_created`` gets the new registration's ID as soon as the service made it, so that any
    later FAILED answer (a timeout included) names it and the rollback deletes it.
    ``checkpoint`` runs before associating and before submitting: once a number is associated
    or the version is under review, the service refuses to delete the registration.
    """
    spec = _parse(event["ResourceProperties"])
    return _create(
        event,
        sms,
        spec,
        deadline,
        on_created=on_created,
        replacing=None,
        checkpoint=checkpoint,
        profiles=profiles,
    )


@_safe
def update(
    event: Mapping[str, Any],
    sms: Any,
    deadline: Deadline,
    *,
    rolling_back: bool = False,
    checkpoint: Checkpoint | None = None,
    profiles: Callable[[], Any] | None = None,
) -> tuple[str, Data]:
    """Reconcile with what the service holds (a new ID is a replacement)."""
    """Update: returns (physical ID, attributes); a new ID means a replacement.

    ``rolling_back``: the stack is rolling back, so nothing is created, submitted, discarded
    past restoring or associated. ``checkpoint`` runs before associating and before
    submitting (with the registration's ID: the one CloudFormation holds, or the replacement).
    """
    registration_id = str(event["PhysicalResourceId"])
    spec = _parse(event["ResourceProperties"])
    old = _parse_or_none(event.get("OldResourceProperties"))
    registration = registrations.describe(sms, registration_id, deadline)
    if registration is None or registration.get("RegistrationStatus") == registrations.DELETED:
        why = f"registration {registration_id} is gone from the service"
    elif registration.get("RegistrationType") != spec.registration_type:
        # The service's type decides, not OldResourceProperties: a rollback of a failed type
        # change finds the original type and keeps the registration.
        why = (
            f"registration {registration_id} is a {registration.get('RegistrationType')}, "
            f"not a {spec.registration_type}"
        )
    else:
        return _Update(
            event, sms, spec, old, registration, deadline, rolling_back, checkpoint
        ).run()
    if rolling_back:
        # A rollback never creates a registration: CloudFormation keeps the ID it had.
        logger.warning("rollback: %s; not replaced (deploy again to replace it)", why)
        return registration_id, _known_attributes(registration, registration_id)
    logger.info("%s: replacing it", why)
    if checkpoint is not None:
        # A cancelled forward Update must not make a registration its rollback never learns of.
        checkpoint(registration_id)
    return _create(
        event,
        sms,
        spec,
        deadline,
        on_created=None,
        replacing=registration_id,
        checkpoint=checkpoint,
        profiles=profiles,
    )


@_safe
def delete(event: Mapping[str, Any], sms: Any, deadline: Deadline) -> str:
    """Delete the registration this resource made."""
    """Delete what this resource made; return what happened (already gone is success).

    Raises Refused when the owner cannot be read or the service refuses the delete.
    """
    registration_id = str(event["PhysicalResourceId"])
    if not RESOURCE_ID_PATTERN.fullmatch(registration_id):
        return "not a registration ID; nothing to delete"
    try:
        current = registrations.describe(sms, registration_id, deadline)
        if current is None or current.get("RegistrationStatus") == registrations.DELETED:
            # Gone: a Delete would only be refused by IAM (the owner-tag condition needs tags).
            return "already gone; nothing to delete"
        tags = read_tags(sms, str(current["RegistrationArn"]), deadline)
    except Exception as error:
        # Without the owner mark nothing proves this resource made it: never delete blind.
        raise Refused(
            f"registration {registration_id}: its owner cannot be read: "
            f"{registrations.safe_error_text(error)}; not deleted"
        ) from None
    if tags.get(OWNER_TAG_KEY) != _owner(event):
        logger.warning("registration %s was not made by this resource", registration_id)
        return "not made by this resource; left alone"
    try:
        return registrations.delete(sms, registration_id, deadline)
    except registrations.RegistrationInUse as error:
        status = str(current.get("RegistrationStatus", "in use"))
        raise Refused(
            f"registration {registration_id} is {status}: the service refuses to delete it "
            f"({error}); wait for a review to end, release its phone numbers or sender IDs "
            "first, or use removal_policy=RETAIN to keep it"
        ) from None


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
    profiles: Callable[[], Any] | None = None,
) -> tuple[str, Data]:
    definitions = _definitions(sms, spec.registration_type, deadline)
    prefilled = spec.brand_profile_id is not None
    # A prefilled draft may hold REQUIRED fields the declaration leaves to the profile: the
    # declared values are checked now, the whole draft once written (before any association).
    checked = dataclasses.replace(spec, submit=False) if prefilled else spec
    _validate(definitions, spec.values, checked, suffix="; nothing created")
    token = client_token(
        str(event["StackId"]), str(event["LogicalResourceId"]), str(event["RequestId"])
    )
    if prefilled:
        if profiles is None:
            raise RegistrationFailed("BrandProfileId: no endusermessaging client; nothing created")
        try:
            created = registration_prefill.create_draft(
                profiles(), sms, spec, token, _owner(event), deadline
            )
        except registration_prefill.PrefillFailed as error:
            raise RegistrationFailed(f"{error}; nothing created") from None
    else:
        created = registrations.create(sms, spec, token, _owner(event), deadline)
    registration_id = str(created["RegistrationId"])
    logger.info("created registration %s (%s)", registration_id, spec.registration_type)
    if on_created is not None:
        on_created(registration_id)
    if created.get("RegistrationStatus") == registrations.DELETED:
        # A late delivery of a request whose registration was deleted since (its rollback):
        # the ClientToken gives that one back. Nothing to write, nothing to delete.
        raise RegistrationFailed(
            f"registration {registration_id}, made by an earlier delivery of this request, "
            "was deleted since; nothing made"
        )
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
    if checkpoint is not None:
        writer.checkpoint = functools.partial(checkpoint, registration_id)
    try:
        writer.put_all(spec.fields)
        if prefilled:
            _check_prefilled(sms, registration_id, definitions, spec, writer.deadline)
        if checkpoint is not None and spec.associations:
            checkpoint(registration_id)
        _associate(sms, registration_id, spec.associations, writer.deadline)
        described: Mapping[str, Any] = created
        version = {"VersionNumber": 1, "RegistrationVersionStatus": registrations.DRAFT}
        if spec.submit:
            version = _submit(sms, registration_id, writer, writer.checkpoint)
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


def _check_prefilled(
    sms: Any,
    registration_id: str,
    definitions: Sequence[Mapping[str, Any]],
    spec: RegistrationSpec,
    deadline: Deadline,
) -> None:
    """The draft as the service holds it (prefill and declaration) against the definitions.

    Before any association or submit: a REQUIRED field the profile did not fill fails the
    request now, naming its path, instead of a denial weeks later.
    """
    held = registrations.field_values(sms, registration_id, 1, deadline)
    problems = check_fields(
        definitions, held, submit=spec.submit, registration_type=spec.registration_type
    )
    if problems:
        for line in problem_lines(problems):
            logger.error("%s (prefilled): %s", spec.registration_type, line)
        raise RegistrationFailed(
            failure_reason(
                problems,
                spec.registration_type,
                suffix=" in the draft the brand profile prefilled (declare them in fields)",
            )
        )


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
        return discarded_text("registration", left_for_rollback, OWNER_TAG_KEY)


# Update ----------------------------------------------------------------------------------


class _Update:
    """One Update of an existing registration of the declared type: observe, plan, apply."""

    def __init__(
        self,
        event: Mapping[str, Any],
        sms: Any,
        spec: RegistrationSpec,
        old: RegistrationSpec | None,
        registration: dict[str, Any],
        deadline: Deadline,
        rolling_back: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        self.event = event
        self.sms = sms
        self.spec = spec
        self.registration = registration
        self.deadline = deadline
        self.rolling_back = rolling_back
        self.checkpoint = checkpoint
        self.id = str(registration["RegistrationId"])
        # OldResourceProperties only break ties: the fields the previous declaration had.
        self.previously = tuple(p for p in (old.paths if old else ()) if p not in spec.values)

    def run(self) -> tuple[str, Data]:
        observed, version = self._observe()
        plan = registration_plan.decide(
            observed, self.spec, self.previously, rolling_back=self.rolling_back
        )
        logger.info("registration %s: %s (%s)", self.id, plan.action, plan.why)
        if plan.action == registration_plan.REFUSE:
            raise RegistrationFailed(f"{plan.why}; nothing written")
        if plan.warning:
            logger.warning("registration %s: %s: %s", self.id, plan.why, plan.warning)
        if plan.action in (registration_plan.LEAVE, registration_plan.NOTHING):
            self._tags()
            if plan.action == registration_plan.NOTHING:
                self._associations(self.deadline)
            return self.id, registrations.attributes(self.registration, version)
        return self._apply(plan, observed, version)

    def _observe(self) -> tuple[Observed, dict[str, Any]]:
        """What the service holds: statuses, the current and the latest APPROVED values."""
        sms, deadline = self.sms, self.deadline
        number = int(self.registration.get("CurrentVersionNumber", 1))
        version = registrations.describe_version(sms, self.id, number, deadline)
        values = registrations.field_values(sms, self.id, number, deadline)
        observed = Observed(
            registration_id=self.id,
            registration_status=str(self.registration.get("RegistrationStatus", "")),
            version_number=number,
            version_status=str(version.get("RegistrationVersionStatus", "")),
            values=values,
        )
        approved = self.registration.get("ApprovedVersionNumber")
        if (
            approved is None
            or int(approved) == number
            or registration_plan.current_holds(observed, self.spec, self.previously)
        ):
            return observed, version
        # The registration may stand on an older APPROVED version while a newer one is a
        # draft or waits for review: a declaration it holds needs no new version.
        approved_version = registrations.describe_version(sms, self.id, int(approved), deadline)
        if approved_version.get("RegistrationVersionStatus") != registration_plan.APPROVED:
            return observed, version
        approved_values = registrations.field_values(sms, self.id, int(approved), deadline)
        observed = dataclasses.replace(
            observed, approved_number=int(approved), approved_values=approved_values
        )
        return observed, version

    def _apply(self, plan: Plan, observed: Observed, version: dict[str, Any]) -> tuple[str, Data]:
        sms, spec = self.sms, self.spec
        number = observed.version_number
        deletes: list[str] = []
        definitions: list[dict[str, Any]] = []
        if plan.writes_fields or plan.submit:
            definitions = _definitions(sms, spec.registration_type, self.deadline)
            if plan.action == registration_plan.EDIT_DRAFT or not plan.writes_fields:
                # What the DRAFT will hold: its values, the changes, without the deletes.
                deletes = registrations.deletable(plan.drops, definitions)
                kept = {p: v for p, v in observed.values.items() if p not in deletes}
                effective = {**kept, **spec.values}
            else:
                effective = spec.values  # a new version starts empty
            # Before any write (tags included): a declaration the rules refuse writes nothing.
            _validate(definitions, effective, spec, suffix="; nothing written")
            kept_required = sorted(set(plan.drops) - set(deletes))
            if kept_required and not plan.submit:
                logger.warning(
                    "registration %s: %s no longer declared, but REQUIRED: the DRAFT keeps the "
                    "earlier value (the service does not delete REQUIRED values); declare the "
                    "field again before submitting",
                    self.id,
                    ", ".join(kept_required),
                )
            if plan.submit and kept_required and plan.action == registration_plan.EDIT_DRAFT:
                # The service refuses to delete a REQUIRED value, so the DRAFT still holds the
                # one the stack declared before; submitting would send a value (perhaps an
                # attachment this deploy deletes) that the stack no longer declares.
                raise RegistrationFailed(
                    f"{spec.registration_type}: {', '.join(kept_required)}: REQUIRED, and no "
                    f"longer declared; the DRAFT of registration {self.id} still holds the "
                    "earlier value (the service does not delete REQUIRED values) and a submit "
                    "would send it: declare the field again, or set submit=False; nothing written"
                )
        if self.checkpoint is not None:
            # A forward Update CloudFormation cancelled (a sibling failed) must not discard,
            # make a version or write while its rollback Update restores the registration.
            self.checkpoint(self.id)
        self._tags()
        writer = _Writer(sms, self.id, definitions, _work_deadline(self.deadline))
        if self.checkpoint is not None:
            writer.checkpoint = functools.partial(self.checkpoint, self.id)
        try:
            if (plan.discards or plan.new_version) and self.checkpoint is not None:
                # Again, right before the writes a rollback cannot undo: the tag writes above
                # may have waited out throttling while a sibling failed (found by the
                # 500-history run: a discard and a new version during the rollback).
                self.checkpoint(self.id)
            if plan.discards:
                version = registrations.discard(sms, self.id, writer.deadline)
                logger.info("registration %s: version %d discarded", self.id, number)
            if plan.new_version:
                version = registrations.create_version(sms, self.id, writer.deadline)
                number = int(version.get("VersionNumber", number + 1))
                logger.info("registration %s: new version %d", self.id, number)
            writer.put_all(plan.puts)
            writer.delete_all(deletes)
            self._associations(writer.deadline)
            if plan.submit:
                version = _submit(sms, self.id, writer, writer.checkpoint)
            described = None
            if plan.submit or plan.action != registration_plan.EDIT_DRAFT:
                # The statuses moved: read them for the attributes.
                described = registrations.describe(sms, self.id, writer.deadline)
        except Exception as error:
            what = writer.explain(error, len(plan.puts) + len(deletes))
            raise RegistrationFailed(
                f"{what}; registration {self.id} version {number} may hold part of the change; "
                "the rollback writes the previous declaration back"
            ) from error
        version.setdefault("VersionNumber", number)
        return self.id, registrations.attributes(described or self.registration, version)

    def _associations(self, deadline: Deadline) -> None:
        """The declared associations, verified; a rollback makes none (none can be undone)."""
        if not self.spec.associations:
            return
        held = registrations.associations(self.sms, self.id, deadline)
        missing = registrations.missing_associations(self.spec.associations, held)
        if not missing:
            return
        if self.rolling_back:
            logger.warning(
                "rollback: registration %s not associated with %s (deploy again to associate)",
                self.id,
                ", ".join(missing),
            )
            return
        if self.checkpoint is not None:
            self.checkpoint(self.id)
        for resource in missing:
            outcome = _associate_one(self.sms, self.id, resource, deadline)
            logger.info("association of %s with %s: %s", resource, self.id, outcome)

    def _tags(self) -> None:
        arn = str(self.registration["RegistrationArn"])
        current = read_tags(self.sms, arn, self.deadline)
        desired = registrations.desired_tags(current, self.spec, _owner(self.event))
        changed, removed = reconcile_tags(self.sms, arn, current, desired, self.deadline)
        if changed or removed:
            logger.info("tags of %s: set %s, removed %s", self.id, changed, removed)


def _known_attributes(registration: Mapping[str, Any] | None, registration_id: str) -> Data:
    """Attributes of a registration a rollback leaves as it is (maybe gone)."""
    if registration is None:
        return {"RegistrationId": registration_id}
    return registrations.attributes(registration)


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
        #: Asked again every ``CHECKPOINT_EVERY_SECONDS`` while writing (a forward Update).
        self.checkpoint: Callable[[], None] | None = None
        self._checked_at = time.monotonic()

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
        if self.checkpoint is not None and (
            time.monotonic() - self._checked_at >= CHECKPOINT_EVERY_SECONDS
        ):
            # A cancelled forward Update stops writing soon: its rollback runs meanwhile.
            self.checkpoint()
            self._checked_at = time.monotonic()

    def explain(self, error: BaseException, total: int) -> str:
        """The failure as a reason: what failed and how many writes were made."""
        count = f"{self.written} of {total} field writes made"
        if isinstance(error, (NotAwaited, RegistrationFailed)):
            return f"{error}; {count}"
        if isinstance(error, (_OutOfTime, RetriesExhausted)):
            return f"out of time: {count}"
        return f"{registrations.safe_error_text(error)}; {count}"


def _submit(
    sms: Any, registration_id: str, writer: _Writer, checkpoint: Callable[[], None] | None
) -> dict[str, Any]:
    """Submit, after the settle the written values need; CloudFormation is asked last.

    The check comes after the settle, right before the submit: a sibling failing during the
    settle would otherwise see a registration submitted during its rollback.
    """
    if writer.written:
        time.sleep(SUBMIT_SETTLE_SECONDS)
    if checkpoint is not None:
        checkpoint()
    submitted = registrations.submit(sms, registration_id, writer.deadline)
    logger.info(
        "submitted registration %s version %s: %s",
        registration_id,
        submitted.get("VersionNumber"),
        submitted.get("RegistrationVersionStatus"),
    )
    return submitted


def _associate(sms: Any, registration_id: str, declared: Sequence[str], deadline: Deadline) -> None:
    """Associate the declared resources this registration does not hold yet (a new one)."""
    if not declared:
        return
    held = registrations.associations(sms, registration_id, deadline)
    for resource in registrations.missing_associations(declared, held):
        outcome = _associate_one(sms, registration_id, resource, deadline)
        logger.info("association of %s with %s: %s", resource, registration_id, outcome)


def _associate_one(sms: Any, registration_id: str, resource: str, deadline: Deadline) -> str:
    try:
        return registrations.associate(sms, registration_id, resource, deadline)
    except registrations.AssociatedElsewhere as error:
        raise RegistrationFailed(f"registration {registration_id}: {error}") from None


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


# For lifecycle_guard ----------------------------------------------------------------------


class RegistrationLifecycle:
    """``Custom::SmsRegistration`` for ``lifecycle_guard``."""

    kind = "registration"
    owner_tag = OWNER_TAG_KEY

    def could_be_id(self, physical_id: str) -> bool:
        """The service's registration ID syntax."""
        return RESOURCE_ID_PATTERN.fullmatch(physical_id) is not None

    def create(self, request: Request) -> Answer:
        """Create, write, associate and submit as declared."""
        registration_id, data = create(
            request.event,
            _sms(request),
            request.deadline,
            on_created=request.name,
            checkpoint=_checkpoint(request),
            profiles=_profiles(request),
        )
        return Answer(registration_id, data, made=True)

    def update(self, request: Request) -> Answer:
        """Reconcile with what the service holds (a new ID is a replacement)."""
        registration_id, data = update(
            request.event,
            _sms(request),
            request.deadline,
            rolling_back=request.rolling_back,
            checkpoint=None if request.rolling_back else _checkpoint(request),
            profiles=_profiles(request),
        )
        return Answer(registration_id, data, made=registration_id != request.physical_id)

    def delete(self, request: Request) -> str:
        """Delete the registration this resource made."""
        return delete(request.event, _sms(request), request.deadline)

    def discard(self, request: Request, made_id: str, *, left_for_rollback: bool) -> str:
        """Delete a registration this request made."""
        return discard(
            _sms(request), made_id, request.deadline, left_for_rollback=left_for_rollback
        )


def _sms(request: Request) -> Any:
    return request.clients("pinpoint-sms-voice-v2")


def _profiles(request: Request) -> Callable[[], Any]:
    """The endusermessaging client, made only when a draft is prefilled from a profile."""
    return lambda: request.clients("endusermessaging")


def _checkpoint(request: Request) -> Checkpoint:
    def check(registration_id: str) -> None:
        # The registration CloudFormation already holds (an in-place Update) proves nothing by
        # being held: only the statuses say whether the request is still awaited.
        request.checkpoint(registration_id, in_place=registration_id == request.physical_id)

    return check
