"""Registrations in the fake SMS service: state, operations, review controls.

``FakeSmsService`` owns one ``FakeRegistrations`` as ``service.registrations`` and hands it the
registration operations (and Tag/Untag/ListTagsForResource on ``registration/`` ARNs); requests
and responses go through the service's pipeline (model validation, faults, rate limits, region
from the signature). Definitions come from ``fake_registration_types``.

Behaviour (from ../shared/reference/registration-facts.md; where AWS is silent, the choice is
written here):

- Registration IDs ``registration-<32 hex>``; ARNs
  ``arn:aws:sms-voice:<region>:<account>:registration/<id>``; regional like attachments.
  ``CreateRegistration`` is idempotent per (region, ClientToken) and starts version 1 DRAFT,
  status CREATED.
- Put/Delete field values only while the current version is DRAFT (ConflictException
  EDIT_REGISTRATION_FIELD_VALUES_NOT_ALLOWED); Delete only non-REQUIRED fields (ValidationException
  REGISTRATION_FIELD_CANNOT_BE_DELETED), a field without a value -> ResourceNotFoundException.
  Values are checked against the definitions (ValidationException FIELD_VALIDATION_FAILED with
  Fields [{Name: path, Message}] / UNKNOWN_REGISTRATION_FIELD / UNKNOWN_REGISTRATION_TYPE);
  an attachment must exist in the region (else ResourceNotFoundException) and be UPLOAD_COMPLETE.
  Error messages name paths and rules, never values. DISALLOWED conditional values are accepted
  by Put (the review denies them).
- Submit only a DRAFT current version with every ASSOCIATE_BEFORE_SUBMIT association present
  (ConflictException SUBMIT_REGISTRATION_VERSION_NOT_ALLOWED). Missing REQUIRED fields
  (conditional rules evaluated) or DISALLOWED values: the submit succeeds and the version is
  denied ``auto_deny_seconds`` later (DeniedReasons MISSING_REQUIRED_FIELDS /
  CONDITIONAL_FIELD_NOT_ALLOWED listing paths; per-field DeniedReason on disallowed values).
- Registration status: CREATED -> SUBMITTED (submit) -> AWS_REVIEWING / REVIEWING /
  REQUIRES_AUTHENTICATION (``start_review``) -> COMPLETE or PROVISIONING (``approve``) or
  REQUIRES_UPDATES (deny, when no version was ever approved; COMPLETE otherwise). Discard ->
  COMPLETE if a version was approved, else REQUIRES_UPDATES if one was denied, else CREATED.
  Version: DRAFT -> SUBMITTED -> (review statuses) -> APPROVED (the previously approved one
  becomes ARCHIVED) / DENIED; SUBMITTED -> DISCARDED.
- CreateRegistrationVersion only when the current version is DENIED, APPROVED, DISCARDED or
  REVOKED (ConflictException CREATE_REGISTRATION_VERSION_NOT_ALLOWED); the new DRAFT starts empty
  unless ``new_version_copies_values``. DiscardRegistrationVersion only when SUBMITTED
  (DISCARD_REGISTRATION_VERSION_NOT_ALLOWED).
- DeleteRegistration: not under review (registration AWS_REVIEWING, REVIEWING,
  REQUIRES_AUTHENTICATION, PROVISIONING or version in a review status) and not while
  associations whose DisassociationBehavior is DISASSOCIATE_ALL_* exist (toll-free: release the
  number with ``release_phone_number``, which CLOSES the registration) -> ConflictException
  RESOURCE_DELETION_NOT_ALLOWED. A deleted registration is ResourceNotFoundException, or status
  DELETED in Describe when the service's ``deleted_visibility`` is ``"status_deleted"``.
- Associations: phone numbers made with ``add_phone_number`` (ResourceType = number type, e.g.
  TOLL_FREE) or other registrations (ResourceType = their registration type); must match a
  SupportedAssociation of the type (else ValidationException INVALID_REGISTRATION_ASSOCIATION);
  duplicates or a number already on another registration -> ConflictException
  RESOURCE_ALREADY_ASSOCIATED; ASSOCIATE_AFTER_COMPLETE needs status COMPLETE
  (REGISTRATION_NOT_COMPLETE).
- Lists keep creation/definition order (versions ascending) and paginate at the service's
  ``default_page_size`` (NextToken/MaxResults).
- ``ConditionalBehavior``: emitted (unless ``emit_conditional_behavior`` is False) and validated
  when the service model has the member; when the model lacks it (an old botocore), it is still
  sent as raw JSON and left out of validation: see ``model_without_conditional_behavior`` and
  ``write_model_without_conditional_behavior`` (an ``AWS_DATA_PATH`` for an "old boto3").

Test controls (Python, thread-safe; also ``POST /_control/registrations/<method>`` with the
keyword arguments as a JSON object, answering ``{"result": ...}`` or ``{"error": ...}`` with
400 bad arguments, 404 unknown registration or action, 409 a transition not allowed):
see ``CONTROL_ACTIONS`` and each method's docstring.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import botocore.loaders
from botocore.model import ServiceModel, StringShape, StructureShape

from .fake_registration_types import builtin_types
from .fake_sms import (
    MAX_TAGS_PER_RESOURCE,
    REGISTRATION_OPERATIONS,
    SERVICE_NAME,
    ApiError,
    FakeSmsService,
    JsonDict,
    _check_tag_keys,
    _decode_token,
    _encode_token,
    _tag_list,
    load_service_model,
    validate_shape,
)

__all__ = [
    "CONTROL_ACTIONS",
    "CONTROL_PREFIX",
    "REGISTRATION_ID_RE",
    "REGISTRATION_OPERATIONS",
    "REGISTRATION_RATE_LIMITS",
    "FakeRegistrations",
    "field_behavior",
    "model_without_conditional_behavior",
    "write_model_without_conditional_behavior",
]

REGISTRATION_ID_RE: Final = re.compile(r"registration-[0-9a-f]{32}")
PHONE_NUMBER_ID_PREFIX: Final = "phone-"
REGISTRATION_RESOURCE: Final = "registration"
PHONE_NUMBER_RESOURCE: Final = "phone-number"
CONTROL_PREFIX: Final = "/_control/registrations/"
DEFAULT_AUTO_DENY_SECONDS: Final = 0.3
# The real default quota: about one request per second per account per operation.
REGISTRATION_RATE_LIMITS: Final = {operation: 1.0 for operation in REGISTRATION_OPERATIONS}
TAG_OPERATIONS: Final = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})
FIELD_DEFINITIONS: Final = "DescribeRegistrationFieldDefinitions"
CONDITIONAL_MEMBER: Final = "ConditionalBehavior"
VALUE_KEYS: Final = ("TextValue", "SelectChoices", "RegistrationAttachmentId")
VALUE_KEY_BY_TYPE: Final = {
    "TEXT": "TextValue",
    "SELECT": "SelectChoices",
    "ATTACHMENT": "RegistrationAttachmentId",
}
REVIEW_VERSION_STATUSES: Final = frozenset(
    {"AWS_REVIEWING", "REVIEWING", "REQUIRES_AUTHENTICATION", "REQUIRES_OFFLINE_REVIEW"}
)
REVIEW_REGISTRATION_STATUSES: Final = frozenset(
    {"AWS_REVIEWING", "REVIEWING", "REQUIRES_AUTHENTICATION", "PROVISIONING"}
)
REGISTRATION_STATUS_FOR_REVIEW: Final = {
    "AWS_REVIEWING": "AWS_REVIEWING",
    "REVIEWING": "REVIEWING",
    "REQUIRES_AUTHENTICATION": "REQUIRES_AUTHENTICATION",
    "REQUIRES_OFFLINE_REVIEW": "REVIEWING",
}
NEW_VERSION_ALLOWED_AFTER: Final = frozenset({"DENIED", "APPROVED", "DISCARDED", "REVOKED"})
BLOCKS_DELETE: Final = frozenset(
    {"DISASSOCIATE_ALL_CLOSES_REGISTRATION", "DISASSOCIATE_ALL_ALLOWS_DELETE_REGISTRATION"}
)
HISTORY_KEYS: Final = {
    "DRAFT": "DraftTimestamp",
    "SUBMITTED": "SubmittedTimestamp",
    "AWS_REVIEWING": "AwsReviewingTimestamp",
    "REVIEWING": "ReviewingTimestamp",
    "REQUIRES_AUTHENTICATION": "RequiresAuthenticationTimestamp",
    "APPROVED": "ApprovedTimestamp",
    "DISCARDED": "DiscardedTimestamp",
    "DENIED": "DeniedTimestamp",
    "REVOKED": "RevokedTimestamp",
    "ARCHIVED": "ArchivedTimestamp",
}
DEFAULT_DENIED_REASON: Final = {
    "Reason": "INCOMPLETE_INFORMATION",
    "ShortDescription": "The registration was denied by the reviewer.",
}
CONTROL_ACTIONS: Final = frozenset(
    {
        "registration",
        "live_registrations",
        "field_values",
        "writes",
        "write_counts",
        "write_log",
        "start_review",
        "approve",
        "deny",
        "force_status",
        "add_phone_number",
        "release_phone_number",
        "add_registration_type",
        "configure",
        "set_rate_limits",
    }
)
_SETTINGS: Final = (
    "auto_deny_seconds",
    "new_version_copies_values",
    "strict_registration_ids",
    "emit_conditional_behavior",
    "mark_attachments_in_use",
    "max_live_registrations",
)
_ARN_RE = re.compile(r"arn:aws:sms-voice:([^:]+):([^:]+):([a-z-]+)/(.+)")


def _now() -> float:
    return round(time.time(), 3)


# --------------------------------------------------------------------------- state


@dataclasses.dataclass
class _Version:
    number: int
    status: str
    history: dict[str, float]
    values: dict[str, JsonDict] = dataclasses.field(default_factory=dict)
    field_feedback: dict[str, JsonDict] = dataclasses.field(default_factory=dict)
    denied_reasons: list[JsonDict] = dataclasses.field(default_factory=list)
    feedback: str | None = None
    aws_review: bool = False
    auto_deny_at: float | None = None

    def move(self, status: str) -> None:
        self.status = status
        key = HISTORY_KEYS.get(status)
        if key is not None:
            self.history[key] = _now()

    def info(self) -> JsonDict:
        """The RegistrationVersionInformation view."""
        info: JsonDict = {
            "VersionNumber": self.number,
            "RegistrationVersionStatus": self.status,
            "RegistrationVersionStatusHistory": dict(self.history),
        }
        if self.denied_reasons:
            info["DeniedReasons"] = copy.deepcopy(self.denied_reasons)
        if self.feedback is not None:
            info["Feedback"] = self.feedback
        return info


@dataclasses.dataclass
class _Registration:
    id: str
    arn: str
    region: str
    type: str
    client_token: str
    created: float
    tags: dict[str, str]
    versions: list[_Version]
    status: str = "CREATED"
    approved: int | None = None
    latest_denied: int | None = None
    associations: list[JsonDict] = dataclasses.field(default_factory=list)
    deleted: bool = False
    writes: int = 0
    write_log: list[JsonDict] = dataclasses.field(default_factory=list)

    @property
    def current(self) -> _Version:
        return self.versions[-1]

    def version(self, number: int) -> _Version | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None

    def ids(self) -> JsonDict:
        return {"RegistrationArn": self.arn, "RegistrationId": self.id}

    def info(self) -> JsonDict:
        """The RegistrationInformation view (Describe, Delete)."""
        info: JsonDict = {
            **self.ids(),
            "RegistrationType": self.type,
            "RegistrationStatus": self.status,
            "CurrentVersionNumber": self.current.number,
            "CreatedTimestamp": self.created,
        }
        if self.approved is not None:
            info["ApprovedVersionNumber"] = self.approved
        if self.latest_denied is not None:
            info["LatestDeniedVersionNumber"] = self.latest_denied
        return info


@dataclasses.dataclass
class _PhoneNumber:
    id: str
    arn: str
    region: str
    phone_number: str
    iso_country_code: str
    number_type: str
    registration_id: str | None = None


@dataclasses.dataclass(frozen=True)
class _Type:
    definition: JsonDict
    sections: list[JsonDict]
    fields: list[JsonDict]

    @property
    def name(self) -> str:
        return str(self.definition["RegistrationType"])

    def field(self, path: str) -> JsonDict | None:
        return next((f for f in self.fields if f["FieldPath"] == path), None)

    def association(self, resource_type: str, iso: str | None) -> JsonDict | None:
        for supported in self.definition.get("SupportedAssociations", []):
            iso_ok = iso is None or supported.get("IsoCountryCode", iso) == iso
            if supported["ResourceType"] == resource_type and iso_ok:
                return dict(supported)
        return None


# --------------------------------------------------------------------------- helpers


def _not_found(resource_type: str, resource_id: str, what: str | None = None) -> ApiError:
    return ApiError(
        "ResourceNotFoundException",
        f"{what or resource_type.capitalize()} {resource_id} not found",
        ResourceType=resource_type,
        ResourceId=resource_id,
    )


def _conflict(reason: str, record: _Registration, message: str) -> ApiError:
    return ApiError(
        "ConflictException",
        f"Registration {record.id}: {message}",
        Reason=reason,
        ResourceType=REGISTRATION_RESOURCE,
        ResourceId=record.id,
    )


def _invalid(reason: str, message: str, name: str | None = None) -> ApiError:
    members: JsonDict = {"Reason": reason}
    if name is not None:
        members["Fields"] = [{"Name": name, "Message": message}]
    return ApiError("ValidationException", message, **members)


def _field_error(path: str, message: str) -> ApiError:
    return _invalid("FIELD_VALIDATION_FAILED", f"{path}: {message}", path)


def _current_strings(value: JsonDict | None) -> list[str]:
    if value is None:
        return []
    if "SelectChoices" in value:
        return list(value["SelectChoices"])
    return [str(value.get("TextValue", value.get("RegistrationAttachmentId")))]


def _condition_holds(condition: JsonDict, values: Mapping[str, JsonDict]) -> bool:
    """EQUALS: the value is exactly the first of Values; IN: any choice among Values."""
    current = _current_strings(values.get(condition["DependsOnFieldPath"]))
    wanted = list(condition.get("Values", []))
    operator = condition["Operator"]
    if operator in ("EQUALS", "NOT_EQUALS"):
        equal = bool(wanted) and current == wanted[:1]
        return equal if operator == "EQUALS" else not equal
    if operator in ("IN", "NOT_IN"):
        found = any(item in wanted for item in current)
        return found if operator == "IN" else not found
    if operator == "HAS_VALUE":
        return bool(current)
    if operator == "NO_VALUE":
        return not current
    raise ValueError(f"unknown condition operator {operator!r}")


def field_behavior(definition: JsonDict, values: Mapping[str, JsonDict]) -> str:
    """REQUIRED / OPTIONAL / DISALLOWED for ``definition`` given the version's ``values``."""
    requirement = str(definition["FieldRequirement"])
    behavior = definition.get(CONDITIONAL_MEMBER)
    if requirement != "CONDITIONAL":
        return requirement
    if behavior is None:
        return "OPTIONAL"
    for rule in behavior["Rules"]:
        if all(_condition_holds(c, values) for c in rule["Conditions"]):
            return str(rule["RuleBehavior"])
    return str(behavior["DefaultBehavior"])


def _filtered(
    items: list[JsonDict],
    filters: Sequence[JsonDict],
    getters: Mapping[str, Callable[[JsonDict], Sequence[str]]],
    enums: Mapping[str, frozenset[str]] | None = None,
) -> list[JsonDict]:
    for item_filter in filters:
        name, wanted = item_filter["Name"], set(item_filter["Values"])
        allowed = (enums or {}).get(name)
        if allowed is not None and wanted - allowed:
            raise _invalid(
                "INVALID_FILTER_VALUES", f"Unknown {name} values {sorted(wanted - allowed)}"
            )
        get = getters[name]
        items = [item for item in items if wanted & set(get(item))]
    return items


def _raw_model_without_conditional_behavior() -> JsonDict:
    raw = copy.deepcopy(
        botocore.loaders.create_loader().load_service_model(SERVICE_NAME, "service-2")
    )
    raw["shapes"]["RegistrationFieldDefinition"]["members"].pop(CONDITIONAL_MEMBER, None)
    return dict(raw)


def model_without_conditional_behavior() -> ServiceModel:
    """botocore's model with ``RegistrationFieldDefinition.ConditionalBehavior`` removed."""
    return ServiceModel(_raw_model_without_conditional_behavior(), service_name=SERVICE_NAME)


def write_model_without_conditional_behavior(data_path: Path) -> Path:
    """Write that model under ``data_path`` and return it: an ``AWS_DATA_PATH`` for old boto3.

    A botocore session with this data path (``AWS_DATA_PATH`` or the ``data_path`` config
    variable) parses ``DescribeRegistrationFieldDefinitions`` as a botocore without
    ``ConditionalBehavior`` would: the member is dropped from the parsed response.
    """
    version = load_service_model().api_version
    target = data_path / SERVICE_NAME / version / "service-2.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_raw_model_without_conditional_behavior()))
    return data_path


# --------------------------------------------------------------------------- the store


class FakeRegistrations:
    """Registration state and operations of one ``FakeSmsService`` (``service.registrations``).

    Settings (plain attributes; ``reset()`` restores them): ``auto_deny_seconds`` (0.3),
    ``new_version_copies_values`` (False), ``strict_registration_ids`` (False: an ID not shaped
    ``registration-<32 hex>`` is ResourceNotFoundException; True: ValidationException),
    ``emit_conditional_behavior`` (True), ``mark_attachments_in_use`` (False: True makes
    attachments referenced by a live registration's values answer ConflictException on delete),
    ``max_live_registrations`` (None, or a quota -> ServiceQuotaExceededException).
    """

    def __init__(self, service: FakeSmsService) -> None:
        self._service = service
        self._lock = service._lock
        self._registrations: dict[str, _Registration] = {}
        self._by_token: dict[tuple[str, str], str] = {}
        self._phone_numbers: dict[str, _PhoneNumber] = {}
        self._types: dict[str, _Type] = {}
        self._referenced: set[str] = set()
        self.auto_deny_seconds = DEFAULT_AUTO_DENY_SECONDS
        self.new_version_copies_values = False
        self.strict_registration_ids = False
        self.emit_conditional_behavior = True
        self.mark_attachments_in_use = False
        self.max_live_registrations: int | None = None
        self._handlers: dict[str, Callable[[JsonDict, str], JsonDict]] = {
            "CreateRegistration": self._create_registration,
            "DescribeRegistrations": self._describe_registrations,
            "DescribeRegistrationTypeDefinitions": self._type_definitions,
            "DescribeRegistrationSectionDefinitions": self._section_definitions,
            "DescribeRegistrationFieldDefinitions": self._field_definitions,
            "DescribeRegistrationFieldValues": self._field_values,
            "DescribeRegistrationVersions": self._versions,
            "ListRegistrationAssociations": self._list_associations,
            "TagResource": self._tag,
            "UntagResource": self._untag,
            "ListTagsForResource": self._list_tags,
        }
        self._writers: dict[str, Callable[[_Registration, JsonDict, str], JsonDict]] = {
            "DeleteRegistration": self._delete_registration,
            "PutRegistrationFieldValue": self._put_value,
            "DeleteRegistrationFieldValue": self._delete_value,
            "CreateRegistrationVersion": self._create_version,
            "SubmitRegistrationVersion": self._submit,
            "DiscardRegistrationVersion": self._discard,
            "CreateRegistrationAssociation": self._associate,
        }
        self.reset()

    # ----------------------------------------------------------------- wiring

    def reset(self) -> None:
        """Forget registrations, phone numbers and added types; restore the settings."""
        with self._lock:
            self.auto_deny_seconds = DEFAULT_AUTO_DENY_SECONDS
            self.new_version_copies_values = False
            self.strict_registration_ids = False
            self.emit_conditional_behavior = True
            self.mark_attachments_in_use = False
            self.max_live_registrations = None
            self._registrations.clear()
            self._by_token.clear()
            self._phone_numbers.clear()
            self._release_referenced(set())
            self._types = {}
            for definition in builtin_types():
                self.add_registration_type(definition)

    def handles(self, operation: str, request: JsonDict) -> bool:
        """Whether ``operation`` is a registration one (tags: on a ``registration/`` ARN)."""
        if operation in REGISTRATION_OPERATIONS:
            return True
        arn = request.get("ResourceArn")
        return operation in TAG_OPERATIONS and isinstance(arn, str) and ":registration/" in arn

    def dispatch(self, operation: str, request: JsonDict, region: str) -> JsonDict:
        """Answer one validated registration request (raises ``ApiError``)."""
        with self._lock:
            writer = self._writers.get(operation)
            if writer is None:
                return self._handlers[operation](request, region)
            record = self._registration(request["RegistrationId"], region)
            return self._counted(
                record, operation, request, lambda: writer(record, request, region)
            )

    def modeled_view(self, operation: str, result: JsonDict) -> JsonDict:
        """``result`` as the service model can validate it (raw ConditionalBehavior left out)."""
        if operation != FIELD_DEFINITIONS:
            return result
        shape = self._service.model.shape_for("RegistrationFieldDefinition")
        if CONDITIONAL_MEMBER in cast(StructureShape, shape).members:
            return result
        return {
            **result,
            "RegistrationFieldDefinitions": [
                {k: v for k, v in item.items() if k != CONDITIONAL_MEMBER}
                for item in result["RegistrationFieldDefinitions"]
            ],
        }

    def _counted(
        self,
        record: _Registration,
        operation: str,
        request: JsonDict,
        action: Callable[[], JsonDict],
    ) -> JsonDict:
        entry: JsonDict = {"Operation": operation, "Error": None}
        entry.update({k: request[k] for k in ("FieldPath", "ResourceId") if k in request})
        record.write_log.append(entry)
        try:
            result = action()
        except ApiError as error:
            entry["Error"] = error.code
            raise
        record.writes += 1
        return result

    # ----------------------------------------------------------------- lookups

    def _type(self, name: str) -> _Type:
        found = self._types.get(name)
        if found is None:
            raise _invalid(
                "UNKNOWN_REGISTRATION_TYPE", f"Unknown registration type {name}", "RegistrationType"
            )
        return found

    def _field(self, rtype: _Type, path: str) -> JsonDict:
        definition = rtype.field(path)
        if definition is None:
            raise _invalid(
                "UNKNOWN_REGISTRATION_FIELD",
                f"{path} is not a field of {rtype.name}",
                "FieldPath",
            )
        return definition

    def _sections(self, rtype: _Type, paths: Sequence[str]) -> None:
        known = {s["SectionPath"] for s in rtype.sections}
        unknown = [p for p in paths if p not in known]
        if unknown:
            raise _invalid(
                "UNKNOWN_REGISTRATION_SECTION",
                f"{', '.join(unknown)} not a section of {rtype.name}",
                "SectionPath",
            )

    def _find(self, id_or_arn: str, region: str | None = None) -> _Registration | None:
        key = id_or_arn
        if id_or_arn.startswith("arn:"):
            match = _ARN_RE.fullmatch(id_or_arn)
            if match is None or match.group(3) != REGISTRATION_RESOURCE:
                return None
            if match.group(2) != self._service.account:
                return None
            key = match.group(4)
        record = self._registrations.get(key)
        if record is None or (region is not None and record.region != region):
            return None
        if record.arn != id_or_arn and record.id != id_or_arn:
            return None
        self._refresh(record)
        return record

    def _registration(
        self, id_or_arn: str, region: str, *, show_deleted: bool = False
    ) -> _Registration:
        registration_id = id_or_arn.rsplit("/", 1)[-1]
        if self.strict_registration_ids and not REGISTRATION_ID_RE.fullmatch(registration_id):
            raise _invalid(
                "INVALID_PARAMETER",
                f"{id_or_arn} is not a registration ID (registration-<32 hex>)",
                "RegistrationId",
            )
        record = self._find(id_or_arn, region)
        if record is None or (record.deleted and not show_deleted):
            raise _not_found(REGISTRATION_RESOURCE, id_or_arn, "Registration")
        return record

    def _known(self, id_or_arn: str) -> _Registration:
        record = self._find(id_or_arn)
        if record is None:
            raise KeyError(f"no registration {id_or_arn}")
        return record

    def _show_deleted(self) -> bool:
        return self._service.deleted_visibility == "status_deleted"

    def _page(self, request: JsonDict, key: str, items: list[JsonDict]) -> JsonDict:
        start = _decode_token(request["NextToken"]) if "NextToken" in request else 0
        end = start + int(request.get("MaxResults", self._service.default_page_size))
        result: JsonDict = {key: items[start:end]}
        if end < len(items):
            result["NextToken"] = _encode_token(end)
        return result

    def _enum(self, shape_name: str) -> frozenset[str]:
        shape = self._service.model.shape_for(shape_name)
        assert isinstance(shape, StringShape)
        return frozenset(shape.enum)

    # ----------------------------------------------------------------- state machine

    def _refresh(self, record: _Registration) -> None:
        """Apply a due automatic denial of an incomplete submission."""
        version = record.current
        if version.auto_deny_at is None or time.monotonic() < version.auto_deny_at:
            return
        version.auto_deny_at = None
        if version.status != "SUBMITTED":
            return
        rtype = self._types[record.type]
        missing, disallowed = self._problems(rtype, version.values)
        reasons: list[JsonDict] = []
        if missing:
            reasons.append(
                {
                    "Reason": "MISSING_REQUIRED_FIELDS",
                    "ShortDescription": "Required fields are missing.",
                    "LongDescription": f"Missing: {', '.join(missing)}",
                }
            )
        if disallowed:
            reasons.append(
                {
                    "Reason": "CONDITIONAL_FIELD_NOT_ALLOWED",
                    "ShortDescription": "Conditional field not allowed.",
                    "LongDescription": f"Not allowed: {', '.join(disallowed)}",
                }
            )
        feedback = {path: {"DeniedReason": "Conditional field not allowed"} for path in disallowed}
        self._deny(record, reasons, feedback, None)

    @staticmethod
    def _problems(rtype: _Type, values: Mapping[str, JsonDict]) -> tuple[list[str], list[str]]:
        missing: list[str] = []
        disallowed: list[str] = []
        for definition in rtype.fields:
            path = definition["FieldPath"]
            behavior = field_behavior(definition, values)
            if behavior == "REQUIRED" and path not in values:
                missing.append(path)
            elif behavior == "DISALLOWED" and path in values:
                disallowed.append(path)
        return missing, disallowed

    def _deny(
        self,
        record: _Registration,
        reasons: list[JsonDict],
        field_feedback: Mapping[str, JsonDict],
        feedback: str | None,
    ) -> None:
        version = record.current
        version.auto_deny_at = None
        version.move("DENIED")
        version.denied_reasons = reasons
        version.field_feedback = {path: dict(item) for path, item in field_feedback.items()}
        version.feedback = feedback
        record.latest_denied = version.number
        record.status = "COMPLETE" if record.approved is not None else "REQUIRES_UPDATES"

    def _check_reviewable(self, record: _Registration, action: str) -> _Version:
        version = record.current
        if version.status != "SUBMITTED" and version.status not in REVIEW_VERSION_STATUSES:
            raise ValueError(
                f"cannot {action} {record.id}: version {version.number} is {version.status}"
            )
        version.auto_deny_at = None
        return version

    def _referenced_attachments(self) -> set[str]:
        return {
            value["RegistrationAttachmentId"]
            for record in self._registrations.values()
            if not record.deleted
            for version in record.versions
            for value in version.values.values()
            if "RegistrationAttachmentId" in value
        }

    def _update_attachment_use(self) -> None:
        if self.mark_attachments_in_use or self._referenced:
            self._release_referenced(
                self._referenced_attachments() if self.mark_attachments_in_use else set()
            )

    def _release_referenced(self, now_referenced: set[str]) -> None:
        for attachment_id in self._referenced | now_referenced:
            if self._service.attachment(attachment_id) is not None:
                self._service.set_in_use(attachment_id, attachment_id in now_referenced)
        self._referenced = now_referenced

    # ----------------------------------------------------------------- operations

    def _create_registration(self, request: JsonDict, region: str) -> JsonDict:
        rtype = self._type(request["RegistrationType"])
        token = request.get("ClientToken") or uuid.uuid4().hex
        tags = {tag["Key"]: tag["Value"] for tag in request.get("Tags", [])}
        _check_tag_keys(list(tags))
        existing = self._by_token.get((region, token))
        if existing is not None:
            record = self._registrations[existing]
        else:
            live = sum(1 for r in self._registrations.values() if not r.deleted)
            limit = self.max_live_registrations
            if limit is not None and live >= limit:
                raise ApiError(
                    "ServiceQuotaExceededException",
                    f"At most {limit} registrations per account",
                    Reason="REGISTRATIONS_PER_ACCOUNT",
                )
            registration_id = f"registration-{uuid.uuid4().hex}"
            record = _Registration(
                id=registration_id,
                arn=(
                    f"arn:aws:sms-voice:{region}:{self._service.account}:"
                    f"{REGISTRATION_RESOURCE}/{registration_id}"
                ),
                region=region,
                type=rtype.name,
                client_token=token,
                created=_now(),
                tags=tags,
                versions=[_Version(1, "DRAFT", {"DraftTimestamp": _now()})],
            )
            self._registrations[record.id] = record
            self._by_token[(region, token)] = record.id

        def result() -> JsonDict:
            info = record.info()
            info.pop("ApprovedVersionNumber", None)
            info.pop("LatestDeniedVersionNumber", None)
            return {**info, "Tags": _tag_list(record.tags)}

        return self._counted(record, "CreateRegistration", request, result)

    def _describe_registrations(self, request: JsonDict, region: str) -> JsonDict:
        ids: list[str] = request.get("RegistrationIds") or []
        show = self._show_deleted()
        if ids:
            records = [self._registration(i, region, show_deleted=show) for i in ids]
        else:
            records = [
                r
                for r in list(self._registrations.values())
                if self._find(r.id, region) is not None and (show or not r.deleted)
            ]
        infos = _filtered(
            [r.info() for r in records],
            request.get("Filters", []),
            {
                "registration-type": lambda i: [i["RegistrationType"]],
                "registration-status": lambda i: [i["RegistrationStatus"]],
            },
            {"registration-status": self._enum("RegistrationStatus")},
        )
        if ids:
            return {"Registrations": infos}
        return self._page(request, "Registrations", infos)

    def _delete_registration(
        self, record: _Registration, request: JsonDict, region: str
    ) -> JsonDict:
        version = record.current
        if record.status in REVIEW_REGISTRATION_STATUSES or version.status in (
            REVIEW_VERSION_STATUSES
        ):
            raise _conflict(
                "RESOURCE_DELETION_NOT_ALLOWED",
                record,
                f"under review (status {record.status}, version {version.status}); "
                "wait until the review ends",
            )
        rtype = self._types[record.type]
        blocking = [
            a
            for a in record.associations
            if (rtype.association(a["ResourceType"], a.get("IsoCountryCode")) or {}).get(
                "DisassociationBehavior"
            )
            in BLOCKS_DELETE
        ]
        if blocking:
            raise _conflict(
                "RESOURCE_DELETION_NOT_ALLOWED",
                record,
                f"{len(blocking)} associated resources; release or disassociate them first",
            )
        for association in record.associations:
            number = self._phone_numbers.get(association["ResourceId"])
            if number is not None:
                number.registration_id = None
        record.associations = []
        record.deleted = True
        record.status = "DELETED"
        self._update_attachment_use()
        return record.info()

    def _type_definitions(self, request: JsonDict, region: str) -> JsonDict:
        names: list[str] = request.get("RegistrationTypes") or []
        types = [self._type(n) for n in names] if names else list(self._types.values())

        def supported(key: str) -> Callable[[JsonDict], list[str]]:
            return lambda d: [a[key] for a in d.get("SupportedAssociations", []) if key in a]

        definitions = _filtered(
            [copy.deepcopy(t.definition) for t in types],
            request.get("Filters", []),
            {
                "supported-association-resource-type": supported("ResourceType"),
                "supported-association-iso-country-code": supported("IsoCountryCode"),
            },
        )
        return self._page(request, "RegistrationTypeDefinitions", definitions)

    def _section_definitions(self, request: JsonDict, region: str) -> JsonDict:
        rtype = self._type(request["RegistrationType"])
        paths: list[str] = request.get("SectionPaths") or []
        self._sections(rtype, paths)
        sections = [
            copy.deepcopy(s) for s in rtype.sections if not paths or s["SectionPath"] in paths
        ]
        page = self._page(request, "RegistrationSectionDefinitions", sections)
        return {"RegistrationType": rtype.name, **page}

    def _field_definitions(self, request: JsonDict, region: str) -> JsonDict:
        rtype = self._type(request["RegistrationType"])
        section = request.get("SectionPath")
        if section is not None:
            self._sections(rtype, [section])
        paths: list[str] = request.get("FieldPaths") or []
        for path in paths:
            self._field(rtype, path)
        fields = [
            copy.deepcopy(f)
            for f in rtype.fields
            if (section is None or f["SectionPath"] == section)
            and (not paths or f["FieldPath"] in paths)
        ]
        if not self.emit_conditional_behavior:
            for item in fields:
                item.pop(CONDITIONAL_MEMBER, None)
        page = self._page(request, "RegistrationFieldDefinitions", fields)
        return {"RegistrationType": rtype.name, **page}

    def _put_value(self, record: _Registration, request: JsonDict, region: str) -> JsonDict:
        version = self._draft(record)
        path = request["FieldPath"]
        definition = self._field(self._types[record.type], path)
        given = [key for key in VALUE_KEYS if key in request]
        if not given:
            raise _invalid("MISSING_PARAMETER", f"{path}: set one of {', '.join(VALUE_KEYS)}")
        if len(given) > 1:
            raise _invalid("PARAMETERS_CANNOT_BE_USED_TOGETHER", f"{path}: set only one of {given}")
        value = self._checked_value(definition, given[0], request[given[0]], region)
        version.values[path] = value
        self._update_attachment_use()
        return {**record.ids(), "VersionNumber": version.number, "FieldPath": path, **value}

    def _draft(self, record: _Registration) -> _Version:
        version = record.current
        if version.status != "DRAFT":
            raise _conflict(
                "EDIT_REGISTRATION_FIELD_VALUES_NOT_ALLOWED",
                record,
                f"version {version.number} is {version.status}; values change only in a DRAFT",
            )
        return version

    def _checked_value(self, definition: JsonDict, key: str, raw: Any, region: str) -> JsonDict:
        path, field_type = definition["FieldPath"], definition["FieldType"]
        expected = VALUE_KEY_BY_TYPE[field_type]
        if key != expected:
            raise _field_error(path, f"a {field_type} field takes {expected}, not {key}")
        if field_type == "TEXT":
            rules = definition["TextValidation"]
            if not rules["MinLength"] <= len(raw) <= rules["MaxLength"]:
                raise _field_error(
                    path,
                    f"length {len(raw)} is outside {rules['MinLength']}-{rules['MaxLength']}",
                )
            if not re.fullmatch(rules["Pattern"], raw):
                raise _field_error(path, f"does not match the pattern {rules['Pattern']}")
            return {"TextValue": raw}
        if field_type == "SELECT":
            rules = definition["SelectValidation"]
            if not rules["MinChoices"] <= len(raw) <= rules["MaxChoices"]:
                raise _field_error(
                    path,
                    f"{len(raw)} choices, allowed {rules['MinChoices']}-{rules['MaxChoices']}",
                )
            unknown = [i for i, choice in enumerate(raw) if choice not in rules["Options"]]
            if unknown:
                raise _field_error(path, f"choices at positions {unknown} are not options")
            if len(set(raw)) != len(raw):
                raise _field_error(path, "the same choice is given twice")
            return {"SelectChoices": list(raw)}
        attachment = self._service.attachment(raw)
        if attachment is None or attachment["Deleted"] or attachment["Region"] != region:
            raise _not_found("registration-attachment", raw, "Registration attachment")
        if attachment["AttachmentStatus"] != "UPLOAD_COMPLETE":
            raise _field_error(
                path,
                f"attachment {attachment['RegistrationAttachmentId']} is "
                f"{attachment['AttachmentStatus']}, not UPLOAD_COMPLETE",
            )
        return {"RegistrationAttachmentId": attachment["RegistrationAttachmentId"]}

    def _delete_value(self, record: _Registration, request: JsonDict, region: str) -> JsonDict:
        version = self._draft(record)
        path = request["FieldPath"]
        definition = self._field(self._types[record.type], path)
        if definition["FieldRequirement"] == "REQUIRED":
            raise _invalid(
                "REGISTRATION_FIELD_CANNOT_BE_DELETED",
                f"{path} is REQUIRED; only optional values can be deleted",
                "FieldPath",
            )
        value = version.values.pop(path, None)
        if value is None:
            raise _not_found(REGISTRATION_RESOURCE, record.id, f"Value of {path} in registration")
        version.field_feedback.pop(path, None)
        self._update_attachment_use()
        return {**record.ids(), "VersionNumber": version.number, "FieldPath": path, **value}

    def _version_number(self, record: _Registration, number: int) -> _Version:
        version = record.version(number)
        if version is None:
            raise _invalid(
                "UNKNOWN_REGISTRATION_VERSION",
                f"Registration {record.id} has no version {number}",
                "VersionNumber",
            )
        return version

    def _field_values(self, request: JsonDict, region: str) -> JsonDict:
        record = self._registration(request["RegistrationId"], region)
        version = self._version_number(record, request.get("VersionNumber", record.current.number))
        rtype = self._types[record.type]
        section = request.get("SectionPath")
        if section is not None:
            self._sections(rtype, [section])
        paths: list[str] = request.get("FieldPaths") or []
        for path in paths:
            self._field(rtype, path)
        items: list[JsonDict] = []
        for definition in rtype.fields:
            path = definition["FieldPath"]
            value = version.values.get(path)
            if value is None or (section is not None and definition["SectionPath"] != section):
                continue
            if paths and path not in paths:
                continue
            items.append(
                {"FieldPath": path, **copy.deepcopy(value), **version.field_feedback.get(path, {})}
            )
        page = self._page(request, "RegistrationFieldValues", items)
        return {**record.ids(), "VersionNumber": version.number, **page}

    def _versions(self, request: JsonDict, region: str) -> JsonDict:
        record = self._registration(request["RegistrationId"], region)
        numbers: list[int] = request.get("VersionNumbers") or []
        versions = (
            [self._version_number(record, n) for n in numbers] if numbers else record.versions
        )
        infos = _filtered(
            [v.info() for v in versions],
            request.get("Filters", []),
            {"registration-version-status": lambda i: [i["RegistrationVersionStatus"]]},
            {"registration-version-status": self._enum("RegistrationVersionStatus")},
        )
        return {**record.ids(), **self._page(request, "RegistrationVersions", infos)}

    @staticmethod
    def _version_result(record: _Registration, version: _Version) -> JsonDict:
        info = version.info()
        return {
            **record.ids(),
            "VersionNumber": version.number,
            "RegistrationVersionStatus": version.status,
            "RegistrationVersionStatusHistory": info["RegistrationVersionStatusHistory"],
        }

    def _create_version(self, record: _Registration, request: JsonDict, region: str) -> JsonDict:
        current = record.current
        if current.status not in NEW_VERSION_ALLOWED_AFTER:
            raise _conflict(
                "CREATE_REGISTRATION_VERSION_NOT_ALLOWED",
                record,
                f"version {current.number} is {current.status}; a new version needs it "
                f"{', '.join(sorted(NEW_VERSION_ALLOWED_AFTER))}",
            )
        values = copy.deepcopy(current.values) if self.new_version_copies_values else {}
        version = _Version(current.number + 1, "DRAFT", {"DraftTimestamp": _now()}, values)
        record.versions.append(version)
        return self._version_result(record, version)

    def _submit(self, record: _Registration, request: JsonDict, region: str) -> JsonDict:
        version = record.current
        if version.status != "DRAFT":
            raise _conflict(
                "SUBMIT_REGISTRATION_VERSION_NOT_ALLOWED",
                record,
                f"version {version.number} is {version.status}; only a DRAFT can be submitted",
            )
        rtype = self._types[record.type]
        for supported in rtype.definition.get("SupportedAssociations", []):
            if supported["AssociationBehavior"] != "ASSOCIATE_BEFORE_SUBMIT":
                continue
            if not any(a["ResourceType"] == supported["ResourceType"] for a in record.associations):
                raise _conflict(
                    "SUBMIT_REGISTRATION_VERSION_NOT_ALLOWED",
                    record,
                    f"associate a {supported['ResourceType']} resource before submitting",
                )
        missing, disallowed = self._problems(rtype, version.values)
        if missing or disallowed:
            version.auto_deny_at = time.monotonic() + self.auto_deny_seconds
        version.aws_review = bool(request.get("AwsReview", False))
        version.move("SUBMITTED")
        record.status = "SUBMITTED"
        return {**self._version_result(record, version), "AwsReview": version.aws_review}

    def _discard(self, record: _Registration, request: JsonDict, region: str) -> JsonDict:
        version = record.current
        if version.status != "SUBMITTED":
            raise _conflict(
                "DISCARD_REGISTRATION_VERSION_NOT_ALLOWED",
                record,
                f"version {version.number} is {version.status}; only SUBMITTED can be discarded",
            )
        version.auto_deny_at = None
        version.move("DISCARDED")
        if record.approved is not None:
            record.status = "COMPLETE"
        else:
            record.status = "REQUIRES_UPDATES" if record.latest_denied else "CREATED"
        return self._version_result(record, version)

    def _associate(self, record: _Registration, request: JsonDict, region: str) -> JsonDict:
        resource_id: str = request["ResourceId"]
        association = self._resource(resource_id, region)
        supported = self._types[record.type].association(
            association["ResourceType"], association.get("IsoCountryCode")
        )
        if supported is None or supported["AssociationBehavior"] == "ASSOCIATE_ON_APPROVAL":
            raise _invalid(
                "INVALID_REGISTRATION_ASSOCIATION",
                f"{record.type} cannot be associated with a {association['ResourceType']}",
                "ResourceId",
            )
        if supported["AssociationBehavior"] == "ASSOCIATE_AFTER_COMPLETE" and (
            record.status != "COMPLETE"
        ):
            raise _conflict(
                "REGISTRATION_NOT_COMPLETE",
                record,
                f"status is {record.status}; associate after the registration is COMPLETE",
            )
        number = self._phone_numbers.get(association["ResourceId"])
        taken = number is not None and number.registration_id is not None
        if taken or any(a["ResourceId"] == association["ResourceId"] for a in record.associations):
            raise _conflict(
                "RESOURCE_ALREADY_ASSOCIATED",
                record,
                f"{association['ResourceId']} is already associated with a registration",
            )
        if number is not None:
            number.registration_id = record.id
        record.associations.append(association)
        return {**record.ids(), "RegistrationType": record.type, **association}

    def _resource(self, id_or_arn: str, region: str) -> JsonDict:
        """The association metadata of a phone number or registration (ID or ARN)."""
        number = next(
            (
                n
                for n in self._phone_numbers.values()
                if id_or_arn in (n.id, n.arn) and n.region == region
            ),
            None,
        )
        if number is not None:
            return {
                "ResourceArn": number.arn,
                "ResourceId": number.id,
                "ResourceType": number.number_type,
                "IsoCountryCode": number.iso_country_code,
                "PhoneNumber": number.phone_number,
            }
        other = self._find(id_or_arn, region)
        if other is not None and not other.deleted:
            return {"ResourceArn": other.arn, "ResourceId": other.id, "ResourceType": other.type}
        kind = PHONE_NUMBER_RESOURCE if PHONE_NUMBER_ID_PREFIX in id_or_arn else "registration"
        raise _not_found(kind, id_or_arn, "Resource")

    def _list_associations(self, request: JsonDict, region: str) -> JsonDict:
        record = self._registration(request["RegistrationId"], region)
        associations = _filtered(
            [dict(a) for a in record.associations],
            request.get("Filters", []),
            {
                "resource-type": lambda a: [a["ResourceType"]],
                "iso-country-code": lambda a: [a.get("IsoCountryCode", "")],
            },
        )
        page = self._page(request, "RegistrationAssociations", associations)
        return {**record.ids(), "RegistrationType": record.type, **page}

    def _tag(self, request: JsonDict, region: str) -> JsonDict:
        new_tags = {tag["Key"]: tag["Value"] for tag in request["Tags"]}
        _check_tag_keys(list(new_tags))
        record = self._registration(request["ResourceArn"], region)
        merged = {**record.tags, **new_tags}
        if len(merged) > MAX_TAGS_PER_RESOURCE:
            raise ApiError(
                "ServiceQuotaExceededException",
                f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags",
                Reason="TAGS_PER_RESOURCE",
            )
        record.tags = merged
        return {}

    def _untag(self, request: JsonDict, region: str) -> JsonDict:
        keys: list[str] = request["TagKeys"]
        _check_tag_keys(keys)
        record = self._registration(request["ResourceArn"], region)
        for key in keys:
            record.tags.pop(key, None)
        return {}

    def _list_tags(self, request: JsonDict, region: str) -> JsonDict:
        record = self._registration(request["ResourceArn"], region)
        return {"ResourceArn": record.arn, "Tags": _tag_list(record.tags)}

    # ----------------------------------------------------------------- test controls

    def registration(self, id_or_arn: str) -> JsonDict | None:
        """Snapshot of one registration (deleted ones too), or None.

        Keys: the Describe fields (RegistrationId, RegistrationArn, RegistrationType,
        RegistrationStatus, CurrentVersionNumber, ApprovedVersionNumber?,
        LatestDeniedVersionNumber?, CreatedTimestamp) plus Region, ClientToken, Tags (dict),
        Deleted, Associations (list), Writes (successful write calls), WriteLog (every write call
        that reached the registration: Operation, FieldPath/ResourceId, Error code or None) and
        Versions: [{VersionNumber, RegistrationVersionStatus, RegistrationVersionStatusHistory,
        DeniedReasons?, Feedback?, AwsReview, AutoDenyPending, Values {path: value},
        FieldFeedback {path: {DeniedReason?, Feedback?}}}].
        """
        with self._lock:
            record = self._find(id_or_arn)
            return None if record is None else self._snapshot(record)

    def live_registrations(self) -> list[JsonDict]:
        """Snapshots of every registration not deleted, in creation order."""
        with self._lock:
            records = [r for r in list(self._registrations.values()) if not r.deleted]
            return [self._snapshot(r) for r in records if self._find(r.id) is not None]

    def field_values(
        self, id_or_arn: str, version_number: int | None = None
    ) -> dict[str, JsonDict]:
        """``{path: {TextValue | SelectChoices | RegistrationAttachmentId}}`` of a version."""
        with self._lock:
            record = self._known(id_or_arn)
            version = record.version(version_number or record.current.number)
            if version is None:
                raise KeyError(f"{record.id} has no version {version_number}")
            return copy.deepcopy(version.values)

    def writes(self, id_or_arn: str) -> int:
        """Successful write calls (create, delete, put/delete value, versions, association)."""
        with self._lock:
            return self._known(id_or_arn).writes

    def write_counts(self) -> dict[str, int]:
        """``{registration ID: successful write calls}`` for every registration ever created."""
        with self._lock:
            return {r.id: r.writes for r in self._registrations.values()}

    def write_log(self, id_or_arn: str) -> list[JsonDict]:
        """Every write call that reached the registration, failed ones with their Error code."""
        with self._lock:
            return copy.deepcopy(self._known(id_or_arn).write_log)

    def start_review(self, id_or_arn: str, version_status: str = "REVIEWING") -> JsonDict:
        """Move a SUBMITTED (or in-review) current version into a review status.

        ``version_status``: AWS_REVIEWING, REVIEWING, REQUIRES_AUTHENTICATION or
        REQUIRES_OFFLINE_REVIEW; the registration follows (offline review shows REVIEWING).
        Cancels a pending automatic denial. Returns the snapshot.
        """
        if version_status not in REGISTRATION_STATUS_FOR_REVIEW:
            raise ValueError(f"{version_status!r} is not one of {list(REVIEW_VERSION_STATUSES)}")
        with self._lock:
            record = self._known(id_or_arn)
            self._check_reviewable(record, "start a review of").move(version_status)
            record.status = REGISTRATION_STATUS_FOR_REVIEW[version_status]
            return self._snapshot(record)

    def approve(self, id_or_arn: str, provisioning: bool = False) -> JsonDict:
        """Approve the SUBMITTED or in-review current version: registration COMPLETE.

        ``provisioning=True`` leaves the registration PROVISIONING (``force_status`` moves it on).
        A previously approved version becomes ARCHIVED. Returns the snapshot.
        """
        with self._lock:
            record = self._known(id_or_arn)
            version = self._check_reviewable(record, "approve")
            if record.approved is not None:
                archived = record.version(record.approved)
                if archived is not None:
                    archived.move("ARCHIVED")
            version.move("APPROVED")
            record.approved = version.number
            record.status = "PROVISIONING" if provisioning else "COMPLETE"
            return self._snapshot(record)

    def deny(
        self,
        id_or_arn: str,
        reasons: Sequence[Mapping[str, str]] | None = None,
        field_feedback: Mapping[str, Mapping[str, str]] | None = None,
        feedback: str | None = None,
    ) -> JsonDict:
        """Deny the SUBMITTED or in-review current version.

        ``reasons``: DeniedReasons items ({Reason, ShortDescription, LongDescription?,
        DocumentationTitle?, DocumentationLink?}; default one INCOMPLETE_INFORMATION);
        ``field_feedback``: {field path: {DeniedReason?, Feedback?}} shown by
        DescribeRegistrationFieldValues; ``feedback``: the version's Feedback. The registration
        becomes REQUIRES_UPDATES (COMPLETE if a version was approved before). Returns the snapshot.
        """
        denied = [dict(r) for r in reasons] if reasons is not None else [DEFAULT_DENIED_REASON]
        shape = self._service.model.shape_for("RegistrationDeniedReasonInformation")
        problems = [p for reason in denied for p in validate_shape(shape, reason)]
        if problems:
            raise ValueError(f"bad denied reasons: {problems}")
        per_field = {path: dict(item) for path, item in (field_feedback or {}).items()}
        for path, item in per_field.items():
            if not set(item) <= {"DeniedReason", "Feedback"}:
                raise ValueError(f"field feedback of {path} takes DeniedReason and Feedback")
        with self._lock:
            record = self._known(id_or_arn)
            rtype = self._types[record.type]
            unknown = [path for path in per_field if rtype.field(path) is None]
            if unknown:
                raise ValueError(f"{unknown} are not fields of {record.type}")
            self._check_reviewable(record, "deny")
            self._deny(record, denied, per_field, feedback)
            return self._snapshot(record)

    def force_status(
        self,
        id_or_arn: str,
        registration_status: str | None = None,
        version_status: str | None = None,
    ) -> JsonDict:
        """Set the registration and/or current version status directly (no rules checked)."""
        with self._lock:
            record = self._known(id_or_arn)
            if registration_status is not None:
                if registration_status not in self._enum("RegistrationStatus"):
                    raise ValueError(f"{registration_status!r} is not a RegistrationStatus")
                record.status = registration_status
            if version_status is not None:
                if version_status not in self._enum("RegistrationVersionStatus"):
                    raise ValueError(f"{version_status!r} is not a RegistrationVersionStatus")
                record.current.auto_deny_at = None
                record.current.move(version_status)
            return self._snapshot(record)

    def add_phone_number(
        self,
        number_type: str = "TOLL_FREE",
        iso_country_code: str = "US",
        phone_number: str | None = None,
        region: str = "us-east-1",
    ) -> JsonDict:
        """A phone number that CreateRegistrationAssociation accepts (by ID or ARN).

        Returns {PhoneNumberId, PhoneNumberArn, PhoneNumber, IsoCountryCode, NumberType, Region}.
        """
        with self._lock:
            number_id = f"{PHONE_NUMBER_ID_PREFIX}{uuid.uuid4().hex}"
            number = _PhoneNumber(
                id=number_id,
                arn=(
                    f"arn:aws:sms-voice:{region}:{self._service.account}:"
                    f"{PHONE_NUMBER_RESOURCE}/{number_id}"
                ),
                region=region,
                phone_number=phone_number or f"+1833555{len(self._phone_numbers):04d}",
                iso_country_code=iso_country_code,
                number_type=number_type,
            )
            self._phone_numbers[number.id] = number
            return {
                "PhoneNumberId": number.id,
                "PhoneNumberArn": number.arn,
                "PhoneNumber": number.phone_number,
                "IsoCountryCode": number.iso_country_code,
                "NumberType": number.number_type,
                "Region": number.region,
            }

    def release_phone_number(self, id_or_arn: str) -> JsonDict | None:
        """Release a number: it leaves its registration, which CLOSES when its last
        DISASSOCIATE_ALL_CLOSES_REGISTRATION association goes. Returns that registration's
        snapshot, or None."""
        with self._lock:
            number = next(
                (n for n in self._phone_numbers.values() if id_or_arn in (n.id, n.arn)), None
            )
            if number is None:
                raise KeyError(f"no phone number {id_or_arn}")
            del self._phone_numbers[number.id]
            if number.registration_id is None:
                return None
            record = self._registrations[number.registration_id]
            gone = [a for a in record.associations if a["ResourceId"] == number.id]
            record.associations = [a for a in record.associations if a not in gone]
            rtype = self._types[record.type]
            closes = any(
                (rtype.association(a["ResourceType"], a.get("IsoCountryCode")) or {}).get(
                    "DisassociationBehavior"
                )
                == "DISASSOCIATE_ALL_CLOSES_REGISTRATION"
                for a in gone
            )
            if closes and not record.associations:
                record.status = "CLOSED"
            return self._snapshot(record)

    def add_registration_type(self, definition: Mapping[str, Any]) -> None:
        """Serve another registration type (replacing one of the same name).

        ``definition``: {RegistrationType, DisplayHints, SupportedAssociations?, Sections,
        Fields} in the wire shapes (see ``fake_registration_types.registration_type``); each
        part is checked against the service model (ValueError).
        """
        type_definition: JsonDict = copy.deepcopy(dict(definition))
        sections = list(type_definition.pop("Sections", []))
        fields = list(type_definition.pop("Fields", []))
        model = self._service.model
        problems = validate_shape(model.shape_for("RegistrationTypeDefinition"), type_definition)
        for section in sections:
            problems += validate_shape(model.shape_for("RegistrationSectionDefinition"), section)
        section_paths = {s.get("SectionPath") for s in sections}
        field_shape = cast(StructureShape, model.shape_for("RegistrationFieldDefinition"))
        raw_conditional = CONDITIONAL_MEMBER not in field_shape.members
        for field in fields:
            problems += [
                problem
                for problem in validate_shape(field_shape, field)
                if not (raw_conditional and CONDITIONAL_MEMBER in problem)
            ]
            if field.get("SectionPath") not in section_paths:
                problems.append(f"{field.get('FieldPath')}: section not declared")
            elif not str(field.get("FieldPath")).startswith(f"{field['SectionPath']}."):
                problems.append(f"{field.get('FieldPath')}: not under its section")
        if problems:
            raise ValueError(f"bad registration type definition: {problems}")
        with self._lock:
            self._types[type_definition["RegistrationType"]] = _Type(
                type_definition, sections, fields
            )

    def configure(self, **settings: Any) -> JsonDict:
        """Change settings by name (see the class docstring); returns all settings."""
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}; known: {list(_SETTINGS)}")
        with self._lock:
            for name, value in settings.items():
                setattr(self, name, value)
            if "mark_attachments_in_use" in settings:
                self._update_attachment_use()
            return {name: getattr(self, name) for name in _SETTINGS}

    def set_rate_limits(self, limits: Mapping[str, float]) -> None:
        """The service's ``set_rate_limits`` (e.g. ``REGISTRATION_RATE_LIMITS``)."""
        self._service.set_rate_limits(limits)

    def _snapshot(self, record: _Registration) -> JsonDict:
        snapshot = record.info()
        snapshot.update(
            Region=record.region,
            ClientToken=record.client_token,
            Tags=dict(record.tags),
            Deleted=record.deleted,
            Associations=copy.deepcopy(record.associations),
            Writes=record.writes,
            WriteLog=copy.deepcopy(record.write_log),
            Versions=[
                {
                    **version.info(),
                    "AwsReview": version.aws_review,
                    "AutoDenyPending": version.auto_deny_at is not None,
                    "Values": copy.deepcopy(version.values),
                    "FieldFeedback": copy.deepcopy(version.field_feedback),
                }
                for version in record.versions
            ],
        )
        return snapshot

    # ----------------------------------------------------------------- HTTP control

    def control(self, method: str, path: str, body: bytes) -> tuple[int, JsonDict]:
        """Answer ``POST /_control/registrations/<action>`` (JSON keyword arguments)."""
        name = path.removeprefix(CONTROL_PREFIX).split("?", 1)[0].replace("-", "_")
        if not path.startswith(CONTROL_PREFIX) or name not in CONTROL_ACTIONS:
            return 404, {"error": f"unknown control {path}; known: {sorted(CONTROL_ACTIONS)}"}
        if method not in ("POST", "GET", "PUT"):
            return 405, {"error": f"{method} is not supported; use POST"}
        try:
            kwargs = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            return 400, {"error": f"body is not JSON: {exc}"}
        if not isinstance(kwargs, dict):
            return 400, {"error": "body must be a JSON object of keyword arguments"}
        action = getattr(self, name)
        try:
            inspect.signature(action).bind(**kwargs)
        except TypeError as exc:
            return 400, {"error": f"{name}: {exc}"}
        try:
            return 200, {"result": action(**kwargs)}
        except KeyError as exc:
            return 404, {"error": str(exc.args[0]) if exc.args else name}
        except (ValueError, TypeError) as exc:
            return 409 if isinstance(exc, ValueError) else 400, {"error": str(exc)}
