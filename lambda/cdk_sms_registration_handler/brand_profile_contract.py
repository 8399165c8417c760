"""The contract of ``Custom::SmsBrandProfile``: its properties, attributes and their syntax.

A brand profile (AWS End User Messaging, service ``endusermessaging``) holds a company's facts
once: legal name, address, website, logos, letters of authorization. The CDK construct writes
these property names and the handler reads them; both import them from here (standard library
only). CloudFormation hands every scalar to the handler as a string and hand-written templates
make mistakes a construct would catch, so ``parse_properties`` checks everything. Attribute
values are business data: every error names the property or attribute name and the rule,
never the value.

Template shape (``Attributes`` is a list, in the order the attributes are written)::

    Type: Custom::SmsBrandProfile
    DeletionPolicy: Retain              # the construct's default
    UpdateReplacePolicy: Retain
    Properties:
      ServiceToken: !ImportValue SmsRegistrationAttachmentServiceToken
      BrandProfileName: example-corp
      Attributes:
        - Name: legalName
          Text: Example Corp                      # a TEXT attribute
          Description: As on the tax record       # optional
          Category: company                       # optional
        - Name: logo
          Type: IMAGE                             # IMAGE (PNG, JPEG) or DOCUMENT (PDF, PNG, JPEG)
          AttachmentUrl: s3://my-bucket/logo.png  # read by the handler, sent as the body
          AttachmentVersionId: 3HL4kqtJlcpXroDTDmJ  # optional
      DeletionProtection: false                   # optional
      Tags: [{Key: team, Value: messaging}]       # optional

Property names never change once shipped: Delete and rollback events carry older shapes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .document_rules import DEFAULT_MAX_SIZE_BYTES, AttachmentValidationError
from .resource_contract import (
    MAX_TAG_KEY_CHARS,
    MAX_TAG_VALUE_CHARS,
    AttachmentSpec,
    read_tag_list,
)
from .resource_contract import parse_s3_url as _parse_s3_url

RESOURCE_TYPE = "Custom::SmsBrandProfile"

# Properties (release 1 shape).
SERVICE_TOKEN = "ServiceToken"
#: CloudFormation's own property (how long it waits for an answer); passed through, unused.
SERVICE_TIMEOUT = "ServiceTimeout"
BRAND_PROFILE_NAME = "BrandProfileName"
ATTRIBUTES = "Attributes"
DELETION_PROTECTION = "DeletionProtection"
TAGS = "Tags"
KNOWN_PROPERTIES = (
    SERVICE_TOKEN,
    SERVICE_TIMEOUT,
    BRAND_PROFILE_NAME,
    ATTRIBUTES,
    DELETION_PROTECTION,
    TAGS,
)

# The keys of one entry of Attributes: a Name, a Type, and exactly one value.
ATTRIBUTE_NAME = "Name"
ATTRIBUTE_TYPE = "Type"
ATTRIBUTE_TEXT = "Text"
ATTRIBUTE_URL = "AttachmentUrl"
ATTRIBUTE_VERSION_ID = "AttachmentVersionId"
ATTRIBUTE_DESCRIPTION = "Description"
ATTRIBUTE_CATEGORY = "Category"
ATTRIBUTE_KEYS = (
    ATTRIBUTE_NAME,
    ATTRIBUTE_TYPE,
    ATTRIBUTE_TEXT,
    ATTRIBUTE_URL,
    ATTRIBUTE_VERSION_ID,
    ATTRIBUTE_DESCRIPTION,
    ATTRIBUTE_CATEGORY,
)

#: The service's attribute types (botocore's BrandProfileAttributeType).
TEXT = "TEXT"
IMAGE = "IMAGE"
DOCUMENT = "DOCUMENT"
ATTRIBUTE_TYPES = (TEXT, IMAGE, DOCUMENT)
MEDIA_TYPES = (IMAGE, DOCUMENT)
#: What each media type takes, by the document rules' types (a guess: checked on deploy by the
#: handler before the upload, so a wrong one fails with a clear reason instead of the service's).
MEDIA_CONTENT = {IMAGE: ("PNG", "JPEG"), DOCUMENT: ("PDF", "PNG", "JPEG")}

# Attributes (Fn::GetAtt); Ref returns the brand profile ID.
ATTR_ID = "BrandProfileId"
ATTR_ARN = "BrandProfileArn"
ATTRIBUTE_NAMES_OUT = (ATTR_ID, ATTR_ARN)

#: Tag keys under this prefix belong to the handler (its marks), never to users.
HANDLER_TAG_PREFIX = "cdk-sms-registration:"
#: The handler's mark on every profile it creates (the same key as on registrations).
OWNER_TAG_KEY = f"{HANDLER_TAG_PREFIX}owner"
#: CreateBrandProfile takes at most 50 tags (botocore's TagList); one is the owner mark.
MAX_USER_TAGS = 49

# The service's syntax (botocore's model of endusermessaging, API version 2026-09-21).
NAME_PATTERN = re.compile(r"[A-Za-z0-9_ -]*[A-Za-z0-9_-][A-Za-z0-9_ -]*")
MAX_PROFILE_NAME_CHARS = 64
MAX_ATTRIBUTE_NAME_CHARS = 256
MAX_TEXT_CHARS = 4096
MAX_DESCRIPTION_CHARS = 1024
MAX_CATEGORY_CHARS = 64
#: The service's limit of an attachment body (botocore's AttachmentBody: 5 MB).
MAX_MEDIA_BYTES = 5 * 1024 * 1024
#: What the service accepts as a brand profile ID or ARN (botocore's BrandProfileIdOrArn).
BRAND_PROFILE_ID_PATTERN = re.compile(r"[A-Za-z0-9_:/-]{1,256}")

_TRUE = ("true",)
_FALSE = ("false", "")

assert MAX_MEDIA_BYTES == DEFAULT_MAX_SIZE_BYTES  # one document limit for both services


class BrandProfileValidationError(ValueError):
    """A brand profile declaration breaks a rule; the message names the attribute, not values."""


@dataclass(frozen=True)
class AttributeSpec:
    """One declared attribute: TEXT with a value, or IMAGE/DOCUMENT read from an S3 object.

    The text is kept out of ``repr`` so that it never reaches a log line or a traceback.
    """

    name: str
    attribute_type: str
    text: str | None = field(default=None, repr=False)
    source: AttachmentSpec | None = None
    description: str | None = field(default=None, repr=False)
    category: str | None = None

    @property
    def is_media(self) -> bool:
        """An IMAGE or DOCUMENT attribute (its body comes from ``source``)."""
        return self.attribute_type in MEDIA_TYPES

    def same_source(self, other: AttributeSpec) -> bool:
        """Whether both declare the same S3 object (by bucket, key and version)."""
        return (
            self.source is not None
            and other.source is not None
            and self.source.same_source(other.source)
        )


@dataclass(frozen=True)
class BrandProfileSpec:
    """One brand profile as the template declares it."""

    name: str
    attributes: tuple[AttributeSpec, ...] = ()
    deletion_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def by_name(self) -> dict[str, AttributeSpec]:
        """The declared attributes by name, in declaration order."""
        return {attribute.name: attribute for attribute in self.attributes}

    def service_tags(self, owner: str) -> dict[str, str]:
        """The tags the profile carries on the service: the user's plus the owner mark."""
        return {**self.tags, OWNER_TAG_KEY: owner}


# Syntax checks, shared with the construct (which skips values only known at deploy) --------


def check_profile_name(value: object, where: str = BRAND_PROFILE_NAME) -> str:
    """A brand profile name: 1-64 letters, digits, spaces, _ and -, not only spaces."""
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_PROFILE_NAME_CHARS
        or not NAME_PATTERN.fullmatch(value)
    ):
        raise BrandProfileValidationError(
            f"{where}: is required, 1-{MAX_PROFILE_NAME_CHARS} characters of letters, digits, "
            "spaces, _ and - (like example-corp)"
        )
    return value


def check_attribute_name(value: object, where: str) -> str:
    """An attribute name: 1-256 letters, digits, spaces, _ and -, not only spaces."""
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_ATTRIBUTE_NAME_CHARS
        or not NAME_PATTERN.fullmatch(value)
    ):
        raise BrandProfileValidationError(
            f"{where}: an attribute name must be 1-{MAX_ATTRIBUTE_NAME_CHARS} characters of "
            "letters, digits, spaces, _ and - (like legalName)"
        )
    return value


def check_attribute_text(value: object, where: str) -> str:
    """A TEXT attribute's value: a string of 1-4096 characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT_CHARS:
        raise BrandProfileValidationError(
            f"{where}: a text value must be a string of 1-{MAX_TEXT_CHARS} characters"
        )
    return value


def check_attribute_type(value: object, where: str) -> str:
    """TEXT, IMAGE or DOCUMENT."""
    if value not in ATTRIBUTE_TYPES:
        raise BrandProfileValidationError(
            f"{where}: must be one of {', '.join(ATTRIBUTE_TYPES)}"
            + _hint(str(value), ATTRIBUTE_TYPES)
        )
    return str(value)


def check_description(value: object, where: str) -> str:
    """An attribute's description: at most 1024 characters."""
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_CHARS:
        raise BrandProfileValidationError(
            f"{where}: a description must be a string of at most {MAX_DESCRIPTION_CHARS} characters"
        )
    return value


def check_category(value: object, where: str) -> str:
    """An attribute's category: 1-64 characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CATEGORY_CHARS:
        raise BrandProfileValidationError(
            f"{where}: a category must be a string of 1-{MAX_CATEGORY_CHARS} characters"
        )
    return value


def check_unique_names(names: Iterable[str], where: str) -> None:
    """Attribute names must differ, ignoring case.

    Whether the service tells ``LegalName`` from ``legalName`` is not documented: refusing both
    keeps a wrong guess from silently overwriting one with the other.
    """
    seen: dict[str, str] = {}
    for name in names:
        folded = name.casefold()
        if folded in seen:
            same = "appears more than once" if seen[folded] == name else f"and {seen[folded]}"
            raise BrandProfileValidationError(
                f"{where}: attribute {name} {same} (names must differ, ignoring case)"
            )
        seen[folded] = name


def check_tags(tags: Mapping[str, str], property_name: str = TAGS) -> dict[str, str]:
    """The service's tag rules, with the handler's prefix and ``aws:`` kept off limits."""
    if len(tags) > MAX_USER_TAGS:
        raise BrandProfileValidationError(
            f"{property_name}: {len(tags)} tags, at most {MAX_USER_TAGS} allowed "
            f"(CreateBrandProfile takes 50, one kept for {OWNER_TAG_KEY})"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_CHARS:
            raise BrandProfileValidationError(
                f"{property_name}: tag key {key!r} must be 1-{MAX_TAG_KEY_CHARS} characters"
            )
        if key.lower().startswith("aws:"):
            raise BrandProfileValidationError(
                f"{property_name}: tag key {key!r} uses the reserved prefix aws:"
            )
        if key.startswith(HANDLER_TAG_PREFIX):
            raise BrandProfileValidationError(
                f"{property_name}: tag key {key!r} uses the prefix {HANDLER_TAG_PREFIX}, "
                "reserved for the handler's marks"
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_CHARS:
            raise BrandProfileValidationError(
                f"{property_name}: value of tag {key!r} must be a string of at most "
                f"{MAX_TAG_VALUE_CHARS} characters"
            )
    return dict(tags)


def check_brand_profile_id(value: object, where: str) -> str:
    """A brand profile ID or ARN, as the service takes it."""
    if not isinstance(value, str) or not BRAND_PROFILE_ID_PATTERN.fullmatch(value):
        raise BrandProfileValidationError(
            f"{where}: must be a brand profile ID (bp-...) or ARN, 1-256 characters of "
            "letters, digits, _ : / -"
        )
    return value


# Parsing the properties of any shipped shape ------------------------------------------------


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _reject_unknown(properties: Mapping[str, Any]) -> None:
    for name in properties:
        if name not in KNOWN_PROPERTIES:
            raise BrandProfileValidationError(
                f"{name}: unknown property{_hint(name, KNOWN_PROPERTIES)} "
                f"(known: {', '.join(KNOWN_PROPERTIES[2:])})"
            )


def _optional_string(entry: Mapping[str, Any], key: str) -> object:
    value = entry.get(key)
    return None if value is None else value


def _parse_attribute(position: int, entry: object) -> AttributeSpec:
    if not isinstance(entry, Mapping):
        raise BrandProfileValidationError(
            f"{ATTRIBUTES}[{position}]: must be a map with {ATTRIBUTE_NAME} and one of "
            f"{ATTRIBUTE_TEXT}, {ATTRIBUTE_URL}"
        )
    name = check_attribute_name(
        entry.get(ATTRIBUTE_NAME), f"{ATTRIBUTES}[{position}].{ATTRIBUTE_NAME}"
    )
    where = f"{ATTRIBUTES}[{name}]"
    for key in entry:
        if key not in ATTRIBUTE_KEYS:
            raise BrandProfileValidationError(
                f"{where}: unknown key {key}{_hint(str(key), ATTRIBUTE_KEYS)} "
                f"(known: {', '.join(ATTRIBUTE_KEYS)})"
            )
    text, url = entry.get(ATTRIBUTE_TEXT), entry.get(ATTRIBUTE_URL)
    if (text is None) == (url is None):
        raise BrandProfileValidationError(
            f"{where}: needs exactly one of {ATTRIBUTE_TEXT} (a TEXT attribute) and "
            f"{ATTRIBUTE_URL} (an IMAGE or DOCUMENT read from s3://bucket/key)"
        )
    declared_type = entry.get(ATTRIBUTE_TYPE)
    description = _optional_string(entry, ATTRIBUTE_DESCRIPTION)
    category = _optional_string(entry, ATTRIBUTE_CATEGORY)
    common: dict[str, Any] = {
        "description": None
        if description is None
        else check_description(description, f"{where}.{ATTRIBUTE_DESCRIPTION}"),
        "category": None
        if category is None
        else check_category(category, f"{where}.{ATTRIBUTE_CATEGORY}"),
    }
    if text is not None:
        attribute_type = TEXT if declared_type in (None, "") else declared_type
        if attribute_type != TEXT:
            raise BrandProfileValidationError(
                f"{where}: {ATTRIBUTE_TYPE} {attribute_type} takes {ATTRIBUTE_URL}, not "
                f"{ATTRIBUTE_TEXT} (a {ATTRIBUTE_TEXT} value is a TEXT attribute)"
            )
        return AttributeSpec(
            name, TEXT, text=check_attribute_text(text, f"{where}.{ATTRIBUTE_TEXT}"), **common
        )
    attribute_type = check_attribute_type(declared_type, f"{where}.{ATTRIBUTE_TYPE}")
    if attribute_type not in MEDIA_TYPES:
        raise BrandProfileValidationError(
            f"{where}: an {ATTRIBUTE_URL} attribute is IMAGE or DOCUMENT, not {attribute_type}"
        )
    try:
        bucket, key = _parse_s3_url(url, f"{where}.{ATTRIBUTE_URL}")
    except AttachmentValidationError as error:
        raise BrandProfileValidationError(str(error)) from None
    version_id = entry.get(ATTRIBUTE_VERSION_ID)
    if version_id is not None and (not isinstance(version_id, str) or not version_id):
        raise BrandProfileValidationError(
            f"{where}.{ATTRIBUTE_VERSION_ID}: must be a non-empty string"
        )
    source = AttachmentSpec(bucket=bucket, key=key, version_id=version_id or None)
    return AttributeSpec(name, attribute_type, source=source, **common)


def parse_attributes(raw: object) -> tuple[AttributeSpec, ...]:
    """Read ``Attributes``: a list of attribute entries, names unique ignoring case."""
    if raw is None or raw == "":
        return ()
    if isinstance(raw, Mapping):
        raise BrandProfileValidationError(
            f"{ATTRIBUTES}: must be a list of {{{ATTRIBUTE_NAME}, {ATTRIBUTE_TEXT} | "
            f"{ATTRIBUTE_URL}}} entries, not a map (write - {ATTRIBUTE_NAME}: legalName / "
            f"{ATTRIBUTE_TEXT}: ...)"
        )
    if not isinstance(raw, list):
        raise BrandProfileValidationError(f"{ATTRIBUTES}: must be a list of attribute entries")
    attributes = tuple(
        _parse_attribute(position, entry) for position, entry in enumerate(raw, start=1)
    )
    check_unique_names((attribute.name for attribute in attributes), ATTRIBUTES)
    return attributes


def parse_bool(raw: object, property_name: str) -> bool:
    """A boolean, or CloudFormation's "true" / "false"."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in (*_TRUE, *_FALSE):
        return raw.strip().lower() in _TRUE
    raise BrandProfileValidationError(f"{property_name}: must be true or false")


def parse_properties(properties: Mapping[str, Any]) -> BrandProfileSpec:
    """Read the resource properties of any shipped shape into a BrandProfileSpec."""
    _reject_unknown(properties)
    return BrandProfileSpec(
        name=check_profile_name(properties.get(BRAND_PROFILE_NAME)),
        attributes=parse_attributes(properties.get(ATTRIBUTES)),
        deletion_protection=parse_bool(properties.get(DELETION_PROTECTION), DELETION_PROTECTION),
        tags=check_tags(read_tag_list(properties.get(TAGS), BrandProfileValidationError)),
    )
