"""Registrations on the service: the calls, each retried within the invocation's deadline.

Every Describe and List call reads every page. Field values are personal data: errors and log
lines carry field paths, error codes and the service's reason codes, never a value nor the
service's message text (which may quote one).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .attachments import error_code
from .registration_contract import (
    ATTR_ARN,
    ATTR_ID,
    ATTR_STATUS,
    ATTR_VERSION_NUMBER,
    ATTR_VERSION_STATUS,
    HANDLER_TAG_PREFIX,
    PAGE_SIZE,
    FieldValue,
    RegistrationSpec,
)
from .registration_rules import ATTACHMENT, REQUIRED, SELECT, TEXT
from .retries import Deadline, call_with_retries

logger = logging.getLogger(__name__)

#: The largest page every Describe and List call of the service allows.
#: The event name's service part is botocore's hyphenated service ID.
_DEFINITIONS_EVENT = "after-call.{service}.DescribeRegistrationFieldDefinitions"
_RAW_DEFINITIONS_HOOK = "cdk-sms-registration-raw-field-definitions"

DRAFT = "DRAFT"
DELETED = "DELETED"


class FieldWriteFailed(Exception):
    """The service refused one field value; the message names the path and the error code."""

    def __init__(self, path: str, error: ClientError) -> None:
        self.path = path
        self.code = error_code(error)
        self.reason = str(error.response.get("Reason", ""))
        response: dict[str, Any] = dict(error.response)
        named = [str(f.get("Name")) for f in response.get("Fields") or [] if f.get("Name")]
        detail = f" {self.reason}" if self.reason else ""
        detail += f" on {', '.join(named)}" if named else ""
        super().__init__(f"the service refused field {path} ({self.code}{detail})")


class RegistrationInUse(Exception):
    """The service refuses to delete the registration (ConflictException)."""

    def __init__(self, error: ClientError) -> None:
        self.reason = str(error.response.get("Reason", ""))
        super().__init__(self.reason or "ConflictException")


def safe_error_text(error: BaseException) -> str:
    """An error as a FAILED reason may show it: codes and reasons, no service message text."""
    if isinstance(error, ClientError):
        reason = error.response.get("Reason")
        operation = getattr(error, "operation_name", "") or "a call"
        return f"{operation} failed ({error_code(error)}{f' {reason}' if reason else ''})"
    if isinstance(error, (FieldWriteFailed, RegistrationInUse, AssociatedElsewhere)):
        return str(error)
    return type(error).__name__


# Reading ---------------------------------------------------------------------------------


def _all_pages(
    call: Callable[..., Any], key: str, deadline: Deadline, what: str, **params: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every item under ``key`` across pages, and the first page (for its other members)."""
    items: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    token: str | None = None
    while True:
        page_params = {**params, "MaxResults": PAGE_SIZE, **({"NextToken": token} if token else {})}
        page: dict[str, Any] = call_with_retries(
            functools.partial(call, **page_params), deadline, what=what
        )
        first = page if first is None else first
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items, first


def describe(sms: Any, registration_id: str, deadline: Deadline) -> dict[str, Any] | None:
    """The registration, or None when the service does not know it."""
    try:
        response = call_with_retries(
            lambda: sms.describe_registrations(RegistrationIds=[registration_id]),
            deadline,
            what="DescribeRegistrations",
        )
    except ClientError as error:
        if error_code(error) in ("ResourceNotFoundException", "ValidationException"):
            return None
        raise
    found: list[dict[str, Any]] = response.get("Registrations", [])
    return found[0] if found else None


def describe_version(
    sms: Any, registration_id: str, version_number: int, deadline: Deadline
) -> dict[str, Any]:
    """One version of the registration (its status, history and denied reasons)."""
    response = call_with_retries(
        lambda: sms.describe_registration_versions(
            RegistrationId=registration_id, VersionNumbers=[version_number]
        ),
        deadline,
        what="DescribeRegistrationVersions",
    )
    versions: list[dict[str, Any]] = response.get("RegistrationVersions", [])
    if not versions:
        return {"VersionNumber": version_number}
    return versions[0]


def keep_raw_definitions(sms: Any) -> None:
    """Make ``sms`` return field definitions as the service sent them, unknown members kept.

    botocore drops members its model does not know, so a Lambda runtime whose boto3 predates
    ``ConditionalBehavior`` would never see the conditional rules. This hook replaces the
    parsed definitions with the raw JSON of the response body (same shape, nothing dropped).
    Registering twice is harmless (one unique ID).
    """
    service = sms.meta.service_model.service_id.hyphenize()
    sms.meta.events.register(
        _DEFINITIONS_EVENT.format(service=service),
        _use_raw_definitions,
        unique_id=_RAW_DEFINITIONS_HOOK,
    )


def _use_raw_definitions(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
    try:
        body = json.loads(http_response.content)
    except Exception:  # no body (a stubbed response) or not JSON: keep what botocore parsed
        return
    raw = body.get("RegistrationFieldDefinitions") if isinstance(body, dict) else None
    parsed_definitions = parsed.get("RegistrationFieldDefinitions")
    if (
        isinstance(raw, list)
        and isinstance(parsed_definitions, list)
        and len(raw) == len(parsed_definitions)
    ):
        parsed["RegistrationFieldDefinitions"] = raw


def definitions(sms: Any, registration_type: str, deadline: Deadline) -> list[dict[str, Any]]:
    """Every field definition of the type (every page), ``ConditionalBehavior`` included."""
    keep_raw_definitions(sms)
    found, _ = _all_pages(
        sms.describe_registration_field_definitions,
        "RegistrationFieldDefinitions",
        deadline,
        "DescribeRegistrationFieldDefinitions",
        RegistrationType=registration_type,
    )
    return found


def field_values(
    sms: Any, registration_id: str, version_number: int, deadline: Deadline
) -> dict[str, FieldValue]:
    """The values of one version (every page), by field path."""
    found, _ = _all_pages(
        sms.describe_registration_field_values,
        "RegistrationFieldValues",
        deadline,
        "DescribeRegistrationFieldValues",
        RegistrationId=registration_id,
        VersionNumber=version_number,
    )
    values: dict[str, FieldValue] = {}
    for entry in found:
        value = _field_value(entry)
        if value is not None:
            values[value.path] = value
    return values


def _field_value(entry: Mapping[str, Any]) -> FieldValue | None:
    path = str(entry.get("FieldPath", ""))
    if entry.get("SelectChoices"):
        return FieldValue(path, choices=tuple(str(c) for c in entry["SelectChoices"]))
    if entry.get("TextValue"):
        return FieldValue(path, text=str(entry["TextValue"]))
    if entry.get("RegistrationAttachmentId"):
        return FieldValue(path, attachment_id=str(entry["RegistrationAttachmentId"]))
    return None


def associations(sms: Any, registration_id: str, deadline: Deadline) -> list[dict[str, Any]]:
    """The registration's associated resources (every page)."""
    found, _ = _all_pages(
        sms.list_registration_associations,
        "RegistrationAssociations",
        deadline,
        "ListRegistrationAssociations",
        RegistrationId=registration_id,
    )
    return found


# Comparing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueChanges:
    """What to write so that a version holds the declaration."""

    #: Declared values the version does not hold yet, in declaration order.
    puts: tuple[FieldValue, ...] = ()
    #: Paths declared before but no longer, that the version still holds.
    drops: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the version already holds the declaration."""
        return not self.puts and not self.drops


def same_value(declared: FieldValue, current: FieldValue | None) -> bool:
    """Whether the service's value is the declared one (text as a single choice included)."""
    if current is None:
        return False
    if declared.attachment_id is not None:
        held = current.attachment_id
        return held is not None and _same_resource(declared.attachment_id, held)
    if declared.choices is not None:
        return current.choices is not None and sorted(current.choices) == sorted(declared.choices)
    return current.text == declared.text or current.choices == (declared.text,)


def _same_resource(one: str, other: str) -> bool:
    """IDs and ARNs name the same resource when one is the other's last path part."""
    return one == other or one.endswith(f"/{other}") or other.endswith(f"/{one}")


def diff_values(
    declared: Sequence[FieldValue],
    current: Mapping[str, FieldValue],
    previously_declared: Iterable[str] = (),
) -> ValueChanges:
    """The writes that make ``current`` hold ``declared``.

    Fields never declared are left alone (someone may fill them in the console); fields the
    previous declaration had and this one dropped are removed when the version holds them.
    """
    puts = tuple(value for value in declared if not same_value(value, current.get(value.path)))
    now = {value.path for value in declared}
    drops = tuple(
        dict.fromkeys(path for path in previously_declared if path not in now and path in current)
    )
    return ValueChanges(puts, drops)


def deletable(drops: Iterable[str], field_definitions: Sequence[Mapping[str, Any]]) -> list[str]:
    """The dropped paths the service lets us delete: all but REQUIRED fields."""
    required = {
        d.get("FieldPath") for d in field_definitions if d.get("FieldRequirement") == REQUIRED
    }
    return [path for path in drops if path not in required]


def missing_associations(
    declared: Iterable[str], current: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Declared resources not associated yet (an ID matches its ARN too)."""
    held = [str(a.get(key)) for a in current for key in ("ResourceId", "ResourceArn") if a.get(key)]
    return [
        resource
        for resource in declared
        if not any(_same_resource(resource, other) for other in held)
    ]


# Writing ---------------------------------------------------------------------------------


def create(
    sms: Any, spec: RegistrationSpec, token: str, owner: str, deadline: Deadline
) -> dict[str, Any]:
    """CreateRegistration, tagged with the user's tags and the owner mark."""
    tags = [{"Key": key, "Value": value} for key, value in spec.service_tags(owner).items()]
    response: dict[str, Any] = call_with_retries(
        lambda: sms.create_registration(
            RegistrationType=spec.registration_type, Tags=tags, ClientToken=token
        ),
        deadline,
        what="CreateRegistration",
    )
    return response


def put_arguments(value: FieldValue, field_type: str | None) -> dict[str, Any]:
    """The value member of PutRegistrationFieldValue for the field's type.

    A text for a SELECT field is its single choice; without a known type the value's own
    kind decides.
    """
    if field_type == SELECT or (field_type is None and value.choices is not None):
        return {"SelectChoices": list(value.choices or (value.text or "",))}
    if field_type == ATTACHMENT or (field_type is None and value.attachment_id is not None):
        return {"RegistrationAttachmentId": value.attachment_id or value.text}
    if field_type == TEXT or value.text is not None:
        return {"TextValue": value.text}
    return {"SelectChoices": list(value.choices or ())}


def put_value(
    sms: Any,
    registration_id: str,
    value: FieldValue,
    field_type: str | None,
    deadline: Deadline,
) -> None:
    """PutRegistrationFieldValue; a refusal raises FieldWriteFailed naming the path only."""
    arguments = put_arguments(value, field_type)
    try:
        call_with_retries(
            lambda: sms.put_registration_field_value(
                RegistrationId=registration_id, FieldPath=value.path, **arguments
            ),
            deadline,
            what=f"PutRegistrationFieldValue {value.path}",
        )
    except ClientError as error:
        raise FieldWriteFailed(value.path, error) from error


def delete_value(sms: Any, registration_id: str, path: str, deadline: Deadline) -> str:
    """DeleteRegistrationFieldValue; say what happened (the service keeps required fields)."""
    try:
        call_with_retries(
            lambda: sms.delete_registration_field_value(
                RegistrationId=registration_id, FieldPath=path
            ),
            deadline,
            what=f"DeleteRegistrationFieldValue {path}",
        )
    except ClientError as error:
        if error.response.get("Reason") == "REGISTRATION_FIELD_CANNOT_BE_DELETED":
            return "kept (the service does not delete this field)"
        if error_code(error) == "ResourceNotFoundException":
            return "already empty"
        raise FieldWriteFailed(path, error) from error
    return "deleted"


class AssociatedElsewhere(Exception):
    """The resource is associated with another registration: this one cannot have it."""


def associate(sms: Any, registration_id: str, resource_id: str, deadline: Deadline) -> str:
    """CreateRegistrationAssociation, verified by reading the associations; say what happened.

    RESOURCE_ALREADY_ASSOCIATED is success only when this registration's own associations show
    the resource (a concurrent delivery made it); another registration holding it raises
    AssociatedElsewhere. Some types associate only once the registration is complete (10DLC
    numbers): REGISTRATION_NOT_COMPLETE defers it to a deploy after completion.
    """
    try:
        call_with_retries(
            lambda: sms.create_registration_association(
                RegistrationId=registration_id, ResourceId=resource_id
            ),
            deadline,
            what="CreateRegistrationAssociation",
        )
    except ClientError as error:
        reason = error.response.get("Reason")
        if reason == "REGISTRATION_NOT_COMPLETE":
            return "deferred until the registration is complete (deploy again then)"
        if reason != "RESOURCE_ALREADY_ASSOCIATED":
            raise
        if missing_associations([resource_id], associations(sms, registration_id, deadline)):
            raise AssociatedElsewhere(
                f"{resource_id} is associated with another registration (ConflictException "
                "RESOURCE_ALREADY_ASSOCIATED): release it there first, or associate another one"
            ) from None
        return "already associated"
    return "associated"


def submit(sms: Any, registration_id: str, deadline: Deadline) -> dict[str, Any]:
    """SubmitRegistrationVersion of the current DRAFT version."""
    response: dict[str, Any] = call_with_retries(
        lambda: sms.submit_registration_version(RegistrationId=registration_id),
        deadline,
        what="SubmitRegistrationVersion",
    )
    return response


def create_version(sms: Any, registration_id: str, deadline: Deadline) -> dict[str, Any]:
    """CreateRegistrationVersion: a new, possibly empty, DRAFT version."""
    response: dict[str, Any] = call_with_retries(
        lambda: sms.create_registration_version(RegistrationId=registration_id),
        deadline,
        what="CreateRegistrationVersion",
    )
    return response


def discard(sms: Any, registration_id: str, deadline: Deadline) -> dict[str, Any]:
    """DiscardRegistrationVersion of the current SUBMITTED version."""
    response: dict[str, Any] = call_with_retries(
        lambda: sms.discard_registration_version(RegistrationId=registration_id),
        deadline,
        what="DiscardRegistrationVersion",
    )
    return response


def delete(sms: Any, registration_id: str, deadline: Deadline) -> str:
    """DeleteRegistration; say what happened. Gone already counts as deleted.

    A ValidationException means the ID is none the service could have made (a placeholder
    CloudFormation generated): nothing to delete. A conflict raises RegistrationInUse.
    """
    try:
        call_with_retries(
            lambda: sms.delete_registration(RegistrationId=registration_id),
            deadline,
            what="DeleteRegistration",
        )
    except ClientError as error:
        code = error_code(error)
        if code == "ResourceNotFoundException":
            return "already gone"
        if code == "ValidationException":
            return "not a registration the service knows; nothing to delete"
        if code == "ConflictException":
            raise RegistrationInUse(error) from error
        raise
    return "deleted"


def desired_tags(current: Mapping[str, str], spec: RegistrationSpec, owner: str) -> dict[str, str]:
    """The tags a registration should carry: the user's, the owner mark, other handler marks."""
    marks = {key: value for key, value in current.items() if key.startswith(HANDLER_TAG_PREFIX)}
    return {**marks, **spec.service_tags(owner)}


def attributes(
    registration: Mapping[str, Any], version: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The resource attributes CloudFormation stores for Fn::GetAtt (no field values)."""
    version = version or {}
    number = version.get("VersionNumber", registration.get("CurrentVersionNumber", ""))
    return {
        ATTR_ID: str(registration["RegistrationId"]),
        ATTR_ARN: str(registration["RegistrationArn"]),
        ATTR_STATUS: str(registration.get("RegistrationStatus", "")),
        ATTR_VERSION_NUMBER: str(number),
        ATTR_VERSION_STATUS: str(version.get("RegistrationVersionStatus", "")),
    }
