"""What an Update writes to a registration: the declaration against what the service holds.

Pure decisions, no calls (Kubernetes-style: desired vs observed gives an explicit plan; the
lifecycle applies it). ``OldResourceProperties`` only break ties: they say which fields the
previous declaration had, so a field dropped from the declaration is removed.

The version that counts is the current one, except that a DISCARDED current version holds
nothing; the latest APPROVED version holds the declaration too (the registration stands on it
while a newer version is a draft or waits for review). The rules, in order (docs/reconcile.md
has them as a table):

1. The current version holds the declaration: nothing to write; a DRAFT is submitted when the
   declaration asks (never by a rollback). ``Submit: false`` never withdraws a submission.
2. The latest APPROVED version holds it: a newer SUBMITTED version is discarded (that restores
   the approved one: no new version, no submit); a newer version under review is left (a
   forward Update fails, a rollback succeeds with a warning); anything else needs no write.
3. Otherwise the declaration must be written: a DRAFT is edited (only the changes, dropped
   optional fields deleted); a SUBMITTED version is discarded and a new version made; an
   APPROVED, DENIED, REVOKED, ARCHIVED or DISCARDED one gets a new version with the full set;
   under review, PROVISIONING or CLOSED: a forward Update fails before any write. A rollback
   never creates a version, never submits and never discards what it cannot restore: what it
   cannot do it leaves, with SUCCESS and a warning (a FAILED rollback wedges the stack).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from .registration_contract import FieldValue, RegistrationSpec
from .registrations import ValueChanges, diff_values

DRAFT = "DRAFT"
SUBMITTED = "SUBMITTED"
APPROVED = "APPROVED"
DISCARDED = "DISCARDED"
#: Version statuses under review: the service accepts no change, nothing can be discarded.
REVIEW_VERSION_STATUSES = frozenset(
    {"AWS_REVIEWING", "REVIEWING", "REQUIRES_AUTHENTICATION", "REQUIRES_OFFLINE_REVIEW"}
)
REVIEW_REGISTRATION_STATUSES = frozenset({"AWS_REVIEWING", "REVIEWING", "REQUIRES_AUTHENTICATION"})
#: A new version may be created: the current one is done and not under review.
NEW_VERSION_STATUSES = frozenset({APPROVED, "DENIED", DISCARDED, "REVOKED", "ARCHIVED"})

# What the plan does.
NOTHING = "nothing to write"
SUBMIT = "submit the DRAFT version"
EDIT_DRAFT = "edit the DRAFT version"
NEW_VERSION = "create a new version"
DISCARD_THEN_NEW_VERSION = "discard the submitted version, then create a new one"
DISCARD_TO_APPROVED = "discard the submitted version: the approved one holds the declaration"
#: A rollback: what it cannot do without creating, submitting or losing a submission is left.
LEAVE = "leave it as it is"
#: A forward Update the service cannot take now: FAILED before any write.
REFUSE = "refuse"

#: What each registration status means for the user, in a few words.
REGISTRATION_STATUS_WORDS: Mapping[str, str] = {
    "CREATED": "not submitted yet",
    "SUBMITTED": "submitted, waiting for review",
    "AWS_REVIEWING": "under review by AWS",
    "REVIEWING": "under review by carriers or the regulator",
    "REQUIRES_AUTHENTICATION": "waiting for you to complete an authentication AWS asked for",
    "PROVISIONING": "approved, AWS is provisioning it",
    "COMPLETE": "approved and active",
    "REQUIRES_UPDATES": "denied, it needs changes",
    "CLOSED": "closed: its phone number or sender ID was released",
    "DELETED": "deleted",
}
#: What each version status means for the user, in a few words.
VERSION_STATUS_WORDS: Mapping[str, str] = {
    DRAFT: "a draft",
    SUBMITTED: "submitted, not yet in review",
    "AWS_REVIEWING": "under review by AWS",
    "REVIEWING": "under review by carriers or the regulator",
    "REQUIRES_AUTHENTICATION": "waiting for your authentication",
    "REQUIRES_OFFLINE_REVIEW": "waiting for an offline review",
    APPROVED: "approved",
    DISCARDED: "discarded",
    "DENIED": "denied",
    "REVOKED": "revoked by AWS",
    "ARCHIVED": "archived, a later version replaced it",
}


@dataclasses.dataclass(frozen=True)
class Observed:
    """What the service holds for one registration of the declared type."""

    registration_id: str
    registration_status: str
    version_number: int
    version_status: str
    #: The current version's values by field path.
    values: Mapping[str, FieldValue]
    #: The latest APPROVED version, when it is not the current one, and its values.
    approved_number: int | None = None
    approved_values: Mapping[str, FieldValue] | None = None


@dataclasses.dataclass(frozen=True)
class Plan:
    """The writes that make the service hold the declaration, or why there are none."""

    action: str
    why: str
    #: Values to put (into the DRAFT, or the full set into a new version).
    puts: tuple[FieldValue, ...] = ()
    #: Dropped paths to delete from the DRAFT (the lifecycle keeps the REQUIRED ones).
    drops: tuple[str, ...] = ()
    submit: bool = False
    #: Said in a warning: the declaration asked for something this plan does not do.
    warning: str | None = None

    @property
    def discards(self) -> bool:
        """Whether the plan discards the SUBMITTED version."""
        return self.action in (DISCARD_THEN_NEW_VERSION, DISCARD_TO_APPROVED)

    @property
    def new_version(self) -> bool:
        """Whether the plan creates a version."""
        return self.action in (NEW_VERSION, DISCARD_THEN_NEW_VERSION)

    @property
    def writes_fields(self) -> bool:
        """Whether the plan puts or deletes field values."""
        return self.action in (EDIT_DRAFT, NEW_VERSION, DISCARD_THEN_NEW_VERSION)


def status_words(registration_status: str, version_number: int, version_status: str) -> str:
    """The pair of statuses in words: each pair reads differently."""
    registration = REGISTRATION_STATUS_WORDS.get(
        registration_status, "a status new to this release"
    )
    version = VERSION_STATUS_WORDS.get(version_status, "a status new to this release")
    return (
        f"registration {registration_status} ({registration}), "
        f"version {version_number} {version_status} ({version})"
    )


def changes(
    declared: RegistrationSpec, values: Mapping[str, FieldValue], previously: Iterable[str]
) -> ValueChanges:
    """What to write so that ``values`` hold the declaration."""
    return diff_values(declared.fields, values, previously)


def holds(
    declared: RegistrationSpec, values: Mapping[str, FieldValue] | None, previously: Iterable[str]
) -> bool:
    """Whether a version with these values holds the declaration."""
    return values is not None and changes(declared, values, tuple(previously)).empty


def current_holds(
    observed: Observed, declared: RegistrationSpec, previously: Iterable[str]
) -> bool:
    """Whether the current version holds the declaration (a DISCARDED one holds nothing)."""
    return observed.version_status != DISCARDED and holds(declared, observed.values, previously)


def decide(
    observed: Observed,
    declared: RegistrationSpec,
    previously: Iterable[str],
    *,
    rolling_back: bool,
) -> Plan:
    """The plan for an Update of a registration of the declared type."""
    previously = tuple(previously)
    number, status = observed.version_number, observed.version_status
    registration_status = observed.registration_status
    where = f"registration {observed.registration_id} version {number}"
    if current_holds(observed, declared, previously):
        if status == DRAFT and declared.submit:
            if rolling_back:
                return Plan(
                    LEAVE,
                    f"{where} DRAFT holds the declaration",
                    warning="a rollback does not submit: deploy again to submit it",
                )
            return Plan(SUBMIT, f"{where} DRAFT holds the declaration", submit=True)
        return Plan(NOTHING, f"{where} ({status}) holds the declaration")
    approved = observed.approved_number
    if holds(declared, observed.approved_values, previously):
        held = f"approved version {approved} holds the declaration"
        if status == SUBMITTED:
            return Plan(DISCARD_TO_APPROVED, f"{held}; {where} is SUBMITTED")
        if status in REVIEW_VERSION_STATUSES:
            return _cannot(
                rolling_back,
                f"{where} is {status} with other values: {held}, and the service accepts no "
                "change until the review ends",
            )
        return Plan(NOTHING, f"{held}; {where} ({status}) left as it is")
    # Neither holds it: the declaration has to be written.
    pair = status_words(registration_status, number, status)
    if registration_status == "CLOSED":
        return _cannot(
            rolling_back,
            f"registration {observed.registration_id} is CLOSED (its phone number or sender ID "
            "was released): it takes no new version; remove it from the stack, or declare a "
            "new registration",
        )
    if status == "REQUIRES_AUTHENTICATION" or registration_status == "REQUIRES_AUTHENTICATION":
        return _cannot(
            rolling_back,
            f"{where}: {pair}: complete the authentication (see `python -m "
            "cdk_sms_registration status`), then deploy again",
        )
    if status in REVIEW_VERSION_STATUSES or registration_status in REVIEW_REGISTRATION_STATUSES:
        return _cannot(
            rolling_back,
            f"{where} is {status}: the service accepts no change until the review ends",
        )
    if registration_status == "PROVISIONING":
        return _cannot(
            rolling_back,
            f"{where}: {pair}: change it once the registration is COMPLETE",
        )
    if status == DRAFT:
        wanted = changes(declared, observed.values, previously)
        submit = declared.submit and not rolling_back
        return Plan(
            EDIT_DRAFT,
            f"{where} is a DRAFT",
            puts=wanted.puts,
            drops=wanted.drops,
            submit=submit,
            warning="a rollback does not submit: deploy again to submit it"
            if declared.submit and rolling_back
            else None,
        )
    if status == SUBMITTED:
        if rolling_back:
            return Plan(
                LEAVE,
                f"{where} is SUBMITTED with the values of the update rolled back",
                warning="a rollback does not discard a submission it could only replace with "
                "a new version: deploy the declaration again to change it",
            )
        return Plan(
            DISCARD_THEN_NEW_VERSION,
            f"{where} is SUBMITTED",
            puts=declared.fields,
            submit=declared.submit,
        )
    if status in NEW_VERSION_STATUSES:
        if rolling_back:
            return Plan(
                LEAVE,
                f"{where} is {status}",
                warning="a rollback does not create a version: deploy the declaration again",
            )
        return Plan(
            NEW_VERSION, f"{where} is {status}", puts=declared.fields, submit=declared.submit
        )
    return _cannot(rolling_back, f"{where}: {pair}: this release does not know how to change it")


def _cannot(rolling_back: bool, why: str) -> Plan:
    """Forward: FAILED before any write; a rollback: left as it is, with a warning."""
    if rolling_back:
        return Plan(LEAVE, why, warning="left as it is by the rollback")
    return Plan(REFUSE, why)
