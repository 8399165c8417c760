"""The contract of ``Custom::SmsRegistration``: its properties, attributes and their syntax.

The CDK construct writes these property names and the handler reads them; both import them
from here (standard library only). CloudFormation hands every scalar to the handler as a string
(``Submit: "true"``) and hand-written templates make mistakes a construct would catch, so
``parse_properties`` checks everything. Field values are personal and business data: every
error names the property or field path and the rule, never the value.

Template shape (``Fields`` is a list, in the order the values are written)::

    Type: Custom::SmsRegistration
    DeletionPolicy: Retain              # registrations are precious; the construct's default
    UpdateReplacePolicy: Retain
    Properties:
      ServiceToken: !ImportValue SmsRegistrationAttachmentServiceToken
      RegistrationType: US_TOLL_FREE_REGISTRATION
      Fields:
        - Path: companyInfo.companyName
          Text: Example Corp                       # TEXT, or one SELECT choice
        - Path: messagingUseCase.useCaseCategory
          Choices: [ACCOUNT_NOTIFICATIONS]         # SELECT choices
        - Path: messagingUseCase.optInImage
          AttachmentId: !GetAtt OptIn.RegistrationAttachmentId   # ATTACHMENT
      Associations: [phone-0123456789abcdef0123456789abcdef]     # optional
      Submit: true                                 # optional, default false
      Tags: [{Key: team, Value: messaging}]        # optional
      BrandProfileId: !GetAtt Brand.BrandProfileId # optional: the service prefills the draft
      SmartMatch: true                             # optional, with BrandProfileId; default true

Property names never change once shipped: Delete and rollback events carry older shapes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .resource_contract import MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS, read_tag_list

RESOURCE_TYPE = "Custom::SmsRegistration"

# Properties (release 1 shape).
SERVICE_TOKEN = "ServiceToken"
#: CloudFormation's own property (how long it waits for an answer); passed through, unused.
SERVICE_TIMEOUT = "ServiceTimeout"
REGISTRATION_TYPE = "RegistrationType"
FIELDS = "Fields"
ASSOCIATIONS = "Associations"
SUBMIT = "Submit"
TAGS = "Tags"
#: Release 3: the brand profile the service prefills the draft from, at Create only.
BRAND_PROFILE_ID = "BrandProfileId"
SMART_MATCH = "SmartMatch"
KNOWN_PROPERTIES = (
    SERVICE_TOKEN,
    SERVICE_TIMEOUT,
    REGISTRATION_TYPE,
    FIELDS,
    ASSOCIATIONS,
    SUBMIT,
    TAGS,
    BRAND_PROFILE_ID,
    SMART_MATCH,
)

# The keys of one entry of Fields: a Path and exactly one value.
FIELD_PATH = "Path"
FIELD_TEXT = "Text"
FIELD_CHOICES = "Choices"
FIELD_ATTACHMENT_ID = "AttachmentId"
FIELD_VALUE_KEYS = (FIELD_TEXT, FIELD_CHOICES, FIELD_ATTACHMENT_ID)
FIELD_KEYS = (FIELD_PATH, *FIELD_VALUE_KEYS)

#: MaxResults of every Describe/List call (the registration APIs' largest page).
PAGE_SIZE = 100

# Attributes (Fn::GetAtt); Ref returns the registration ID.
ATTR_ID = "RegistrationId"
ATTR_ARN = "RegistrationArn"
ATTR_STATUS = "RegistrationStatus"
ATTR_VERSION_NUMBER = "VersionNumber"
ATTR_VERSION_STATUS = "VersionStatus"
ATTRIBUTES = (ATTR_ID, ATTR_ARN, ATTR_STATUS, ATTR_VERSION_NUMBER, ATTR_VERSION_STATUS)

#: Tag keys under this prefix belong to the handler (its marks), never to users.
HANDLER_TAG_PREFIX = "cdk-sms-registration:"
#: The handler's mark on every registration it creates: a digest of StackId and
#: LogicalResourceId, so that it and operators can tell which resource made a registration.
OWNER_TAG_KEY = f"{HANDLER_TAG_PREFIX}owner"
#: The service allows 200 tags per registration; the handler keeps one for its mark.
MAX_USER_TAGS = 199

# The service's syntax (botocore's model of pinpoint-sms-voice-v2).
REGISTRATION_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_]{1,64}")
FIELD_PATH_PATTERN = re.compile(r"[A-Za-z0-9_.]{1,100}")
#: Registration, attachment and association resource IDs or ARNs.
RESOURCE_ID_PATTERN = re.compile(r"[A-Za-z0-9_:/-]{1,256}")
MAX_TEXT_CHARS = 2048
MAX_CHOICES = 100
MAX_CHOICE_CHARS = 256

_TRUE = ("true",)
_FALSE = ("false", "")


class RegistrationValidationError(ValueError):
    """A registration declaration breaks a rule; the message names the path, never the value."""


@dataclass(frozen=True)
class FieldValue:
    """One declared (or current) value of a registration field: exactly one of three kinds.

    ``text`` is a TEXT value, or a single choice when the service defines the field as SELECT;
    ``choices`` are SELECT choices; ``attachment_id`` names an attachment (ID or ARN). The
    values are kept out of ``repr`` so that they never reach a log line or a traceback.
    """

    path: str
    text: str | None = field(default=None, repr=False)
    choices: tuple[str, ...] | None = field(default=None, repr=False)
    attachment_id: str | None = None

    def __post_init__(self) -> None:
        given = sum(value is not None for value in (self.text, self.choices, self.attachment_id))
        if given != 1:
            raise RegistrationValidationError(
                f"{FIELDS}[{self.path}]: needs exactly one of {', '.join(FIELD_VALUE_KEYS)}"
            )

    @property
    def kind(self) -> str:
        """The property key of this value: Text, Choices or AttachmentId."""
        if self.text is not None:
            return FIELD_TEXT
        return FIELD_CHOICES if self.choices is not None else FIELD_ATTACHMENT_ID

    @property
    def strings(self) -> tuple[str, ...]:
        """The value as strings: one text, the choices, or the attachment ID."""
        if self.choices is not None:
            return self.choices
        return (self.text if self.text is not None else str(self.attachment_id),)

    def to_property(self) -> dict[str, Any]:
        """The entry of ``Fields`` that declares this value."""
        value: Any = list(self.choices) if self.choices is not None else self.strings[0]
        return {FIELD_PATH: self.path, self.kind: value}


@dataclass(frozen=True)
class RegistrationSpec:
    """One registration as the template declares it."""

    registration_type: str
    fields: tuple[FieldValue, ...] = ()
    associations: tuple[str, ...] = ()
    submit: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    #: Create only: CreateRegistrationsFromBrandProfile makes the draft, prefilled.
    brand_profile_id: str | None = None
    smart_match: bool = True

    @property
    def values(self) -> dict[str, FieldValue]:
        """The declared values by field path, in declaration order."""
        return {value.path: value for value in self.fields}

    @property
    def paths(self) -> tuple[str, ...]:
        """The declared field paths, in declaration order."""
        return tuple(value.path for value in self.fields)

    def service_tags(self, owner: str) -> dict[str, str]:
        """The tags the registration carries on the service: the user's plus the owner mark."""
        return {**self.tags, OWNER_TAG_KEY: owner}


# Syntax checks, shared with the construct (which skips values only known at deploy) --------


def check_registration_type(value: object, where: str = REGISTRATION_TYPE) -> str:
    """A registration type name: 1-64 letters, digits and underscores."""
    if not isinstance(value, str) or not REGISTRATION_TYPE_PATTERN.fullmatch(value):
        raise RegistrationValidationError(
            f"{where}: is required, 1-64 characters of letters, digits and _ "
            "(like US_TOLL_FREE_REGISTRATION)"
        )
    return value


def check_field_path(value: object, where: str) -> str:
    """A field path: 1-100 letters, digits, _ and dots (like companyInfo.companyName)."""
    if not isinstance(value, str) or not FIELD_PATH_PATTERN.fullmatch(value):
        raise RegistrationValidationError(
            f"{where}: a field path must be 1-100 characters of letters, digits, _ and . "
            "(like companyInfo.companyName)"
        )
    return value


def check_text(value: object, where: str) -> str:
    """A text value: a string of 1-2048 characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT_CHARS:
        raise RegistrationValidationError(
            f"{where}: a text value must be a string of 1-{MAX_TEXT_CHARS} characters"
        )
    return value


def check_choices(value: object, where: str) -> tuple[str, ...]:
    """SELECT choices: 1-100 distinct strings of 1-256 characters."""
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_CHOICES:
        raise RegistrationValidationError(
            f"{where}: choices must be a list of 1-{MAX_CHOICES} strings"
        )
    for position, choice in enumerate(value, start=1):
        check_choice(choice, f"{where} choice {position}")
    if len(set(value)) != len(value):
        raise RegistrationValidationError(f"{where}: choices must not repeat")
    return tuple(value)


def check_choice(value: object, where: str) -> str:
    """One SELECT choice: a string of 1-256 characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CHOICE_CHARS:
        raise RegistrationValidationError(
            f"{where}: must be a string of 1-{MAX_CHOICE_CHARS} characters"
        )
    return value


def check_resource_id(value: object, where: str, what: str = "an ID or ARN") -> str:
    """An attachment, registration or origination identity ID or ARN, as the service takes it."""
    if not isinstance(value, str) or not RESOURCE_ID_PATTERN.fullmatch(value):
        raise RegistrationValidationError(
            f"{where}: must be {what}, 1-256 characters of letters, digits, _ : / -"
        )
    return value


def check_tags(tags: Mapping[str, str], property_name: str = TAGS) -> dict[str, str]:
    """The service's tag rules, with the handler's prefix and ``aws:`` kept off limits."""
    if len(tags) > MAX_USER_TAGS:
        raise RegistrationValidationError(
            f"{property_name}: {len(tags)} tags, at most {MAX_USER_TAGS} allowed "
            f"(200 per registration, one kept for {OWNER_TAG_KEY})"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_CHARS:
            raise RegistrationValidationError(
                f"{property_name}: tag key {key!r} must be 1-{MAX_TAG_KEY_CHARS} characters"
            )
        if key.lower().startswith("aws:"):
            raise RegistrationValidationError(
                f"{property_name}: tag key {key!r} uses the reserved prefix aws:"
            )
        if key.startswith(HANDLER_TAG_PREFIX):
            raise RegistrationValidationError(
                f"{property_name}: tag key {key!r} uses the prefix {HANDLER_TAG_PREFIX}, "
                "reserved for the handler's marks"
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_CHARS:
            raise RegistrationValidationError(
                f"{property_name}: value of tag {key!r} must be a string of at most "
                f"{MAX_TAG_VALUE_CHARS} characters"
            )
    return dict(tags)


def check_unique(items: Iterable[str], where: str, what: str) -> None:
    """Reject an item that appears twice (named: paths and IDs are not personal data)."""
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise RegistrationValidationError(f"{where}: {what} {item} appears more than once")
        seen.add(item)


# Parsing the properties of any shipped shape ------------------------------------------------


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _reject_unknown(properties: Mapping[str, Any]) -> None:
    for name in properties:
        if name not in KNOWN_PROPERTIES:
            raise RegistrationValidationError(
                f"{name}: unknown property{_hint(name, KNOWN_PROPERTIES)} "
                f"(known: {', '.join(KNOWN_PROPERTIES[2:])})"
            )


def _parse_field(position: int, entry: object) -> FieldValue:
    if not isinstance(entry, Mapping):
        raise RegistrationValidationError(
            f"{FIELDS}[{position}]: must be a map with {FIELD_PATH} and one of "
            f"{', '.join(FIELD_VALUE_KEYS)}"
        )
    path = check_field_path(entry.get(FIELD_PATH), f"{FIELDS}[{position}].{FIELD_PATH}")
    where = f"{FIELDS}[{path}]"
    for key in entry:
        if key not in FIELD_KEYS:
            raise RegistrationValidationError(
                f"{where}: unknown key {key}{_hint(str(key), FIELD_KEYS)} "
                f"(a field has {FIELD_PATH} and one of {', '.join(FIELD_VALUE_KEYS)})"
            )
    given = [key for key in FIELD_VALUE_KEYS if entry.get(key) is not None]
    if len(given) != 1:
        raise RegistrationValidationError(
            f"{where}: needs exactly one of {', '.join(FIELD_VALUE_KEYS)}"
            + (f", not {' and '.join(given)}" if given else "")
        )
    kind = given[0]
    raw = entry[kind]
    if kind == FIELD_TEXT:
        return FieldValue(path, text=check_text(raw, f"{where}.{FIELD_TEXT}"))
    if kind == FIELD_CHOICES:
        # A hand-written template may give a single choice as a plain string.
        choices = [raw] if isinstance(raw, str) else raw
        return FieldValue(path, choices=check_choices(choices, f"{where}.{FIELD_CHOICES}"))
    attachment = check_resource_id(raw, f"{where}.{FIELD_ATTACHMENT_ID}", "an attachment ID or ARN")
    return FieldValue(path, attachment_id=attachment)


def parse_fields(raw: object) -> tuple[FieldValue, ...]:
    """Read ``Fields``: a list of ``{Path, Text | Choices | AttachmentId}``, paths unique."""
    if raw is None or raw == "":
        return ()
    if isinstance(raw, Mapping):
        raise RegistrationValidationError(
            f"{FIELDS}: must be a list of {{{FIELD_PATH}, {FIELD_TEXT} | {FIELD_CHOICES} | "
            f"{FIELD_ATTACHMENT_ID}}} entries, not a map "
            f"(write - {FIELD_PATH}: companyInfo.companyName / {FIELD_TEXT}: ...)"
        )
    if not isinstance(raw, list):
        raise RegistrationValidationError(f"{FIELDS}: must be a list of field entries")
    fields = tuple(_parse_field(position, entry) for position, entry in enumerate(raw, start=1))
    check_unique((value.path for value in fields), FIELDS, "field path")
    return fields


def parse_associations(raw: object) -> tuple[str, ...]:
    """Read ``Associations``: origination identity or registration IDs (or ARNs), unique."""
    if raw is None or raw == "":
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise RegistrationValidationError(
            f"{ASSOCIATIONS}: must be a list of resource IDs (phone number, sender ID or "
            "registration IDs)"
        )
    associations = tuple(
        check_resource_id(item, f"{ASSOCIATIONS}[{position}]")
        for position, item in enumerate(items, start=1)
    )
    check_unique(associations, ASSOCIATIONS, "resource")
    return associations


def parse_submit(raw: object) -> bool:
    """Read ``Submit``: a boolean, or CloudFormation's "true" / "false"."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in (*_TRUE, *_FALSE):
        return raw.strip().lower() in _TRUE
    raise RegistrationValidationError(f"{SUBMIT}: must be true or false")


def parse_tags(raw: object) -> dict[str, str]:
    """Read ``Tags``: a list of ``{Key, Value}``, like every CloudFormation resource."""
    return check_tags(read_tag_list(raw, RegistrationValidationError))


def parse_properties(properties: Mapping[str, Any]) -> RegistrationSpec:
    """Read the resource properties of any shipped shape into a RegistrationSpec."""
    _reject_unknown(properties)
    return RegistrationSpec(
        registration_type=check_registration_type(properties.get(REGISTRATION_TYPE)),
        fields=parse_fields(properties.get(FIELDS)),
        associations=parse_associations(properties.get(ASSOCIATIONS)),
        submit=parse_submit(properties.get(SUBMIT)),
        tags=parse_tags(properties.get(TAGS)),
        brand_profile_id=parse_brand_profile_id(properties.get(BRAND_PROFILE_ID)),
        smart_match=parse_smart_match(properties),
    )


def parse_brand_profile_id(raw: object) -> str | None:
    """Read ``BrandProfileId``: a brand profile ID (``bp-...``) or ARN, or absent."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not RESOURCE_ID_PATTERN.fullmatch(raw):
        raise RegistrationValidationError(
            f"{BRAND_PROFILE_ID}: must be a brand profile ID (bp-...) or ARN, 1-256 characters "
            "of letters, digits, _ : / -"
        )
    return raw


def parse_smart_match(properties: Mapping[str, Any]) -> bool:
    """Read ``SmartMatch`` (default true); it means something only with ``BrandProfileId``."""
    raw = properties.get(SMART_MATCH)
    if raw is None:
        return True
    if isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.strip().lower() in (*_TRUE, *_FALSE):
        value = raw.strip().lower() in _TRUE
    else:
        raise RegistrationValidationError(f"{SMART_MATCH}: must be true or false")
    if parse_brand_profile_id(properties.get(BRAND_PROFILE_ID)) is None:
        raise RegistrationValidationError(
            f"{SMART_MATCH}: only with {BRAND_PROFILE_ID} (the profile the service prefills from)"
        )
    return value
