"""The contract of ``Custom::SmsRegistrationAttachment``: its properties and attributes.

The CDK construct writes these property names and the handler reads them; both import them
from here. CloudFormation hands every scalar to the handler as a string and hand-written
templates make mistakes a construct would catch, so ``parse_properties`` checks everything and
names the property and the rule in its error. Property names never change once shipped: Delete
and rollback events carry the shapes of older releases.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .document_rules import (
    DEFAULT_MAX_SIZE_BYTES,
    AttachmentValidationError,
    check_max_size_setting,
)

RESOURCE_TYPE = "Custom::SmsRegistrationAttachment"

# Properties (release 1 shape).
SERVICE_TOKEN = "ServiceToken"
#: CloudFormation's own property (how long it waits for an answer); passed through, unused.
SERVICE_TIMEOUT = "ServiceTimeout"
ATTACHMENT_URL = "AttachmentUrl"
ATTACHMENT_VERSION_ID = "AttachmentVersionId"
TAGS = "Tags"
MAX_SIZE_BYTES = "MaxSizeBytes"
KNOWN_PROPERTIES = (
    SERVICE_TOKEN,
    SERVICE_TIMEOUT,
    ATTACHMENT_URL,
    ATTACHMENT_VERSION_ID,
    TAGS,
    MAX_SIZE_BYTES,
)

# Attributes (Fn::GetAtt); Ref returns the attachment ID.
ATTR_ID = "RegistrationAttachmentId"
ATTR_ARN = "RegistrationAttachmentArn"
ATTR_STATUS = "AttachmentStatus"
ATTR_CREATED = "CreatedTimestamp"

#: The handler tags every attachment with ``<source fingerprint>:<owner mark>``: the fingerprint
#: tells an Update whether the attachment already holds the requested document (a rollback), the
#: owner mark (a digest of StackId and LogicalResourceId) which resource made it, and the tag's
#: presence is what the handler's IAM policy requires before it deletes, tags or untags.
SOURCE_TAG_KEY = "cdk-sms-registration:source"
#: Separates the source fingerprint from the owner mark in the tag's value.
OWNER_SEPARATOR = ":"

#: The service allows 200 tags per attachment; one is the source tag.
MAX_USER_TAGS = 199
MAX_TAG_KEY_CHARS = 128
MAX_TAG_VALUE_CHARS = 256
MAX_URL_CHARS = 2048
#: What the service accepts as an attachment ID (botocore's RegistrationAttachmentIdOrArn).
ATTACHMENT_ID_PATTERN = re.compile(r"[A-Za-z0-9_:/-]{1,256}")
S3_URL_PREFIX = "s3://"


@dataclass(frozen=True)
class AttachmentSpec:
    """One attachment as the template declares it."""

    bucket: str
    key: str
    version_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES

    @property
    def url(self) -> str:
        """The ``s3://bucket/key`` URL the service reads."""
        return f"{S3_URL_PREFIX}{self.bucket}/{self.key}"

    @property
    def display_name(self) -> str:
        """The source as people read it in error messages."""
        suffix = f" (version {self.version_id})" if self.version_id else ""
        return f"{self.url}{suffix}"

    @property
    def source_fingerprint(self) -> str:
        """A stable digest of what the attachment holds: bucket, key and version."""
        source = "\0".join((self.bucket, self.key, self.version_id or ""))
        return hashlib.sha256(source.encode("utf-8")).hexdigest()

    def same_source(self, other: AttachmentSpec) -> bool:
        """Whether both specs name the same document, so no new attachment is needed."""
        return self.source_fingerprint == other.source_fingerprint

    def service_tags(self, owner: str) -> dict[str, str]:
        """The tags the attachment carries on the service: the user's plus the source tag."""
        return {**self.tags, SOURCE_TAG_KEY: source_tag_value(self.source_fingerprint, owner)}


def owner_mark(stack_id: str, logical_id: str) -> str:
    r"""Which resource made an attachment: a digest of the stack's ID and the logical ID.

    Operators find what a resource made by computing it: ``sha256("<StackId>\n<LogicalId>")``,
    first 32 hex characters.
    """
    digest = hashlib.sha256(f"{stack_id}\n{logical_id}".encode())
    return digest.hexdigest()[:32]


def source_tag_value(fingerprint: str, owner: str) -> str:
    """The source tag's value: ``<fingerprint>:<owner mark>`` (97 characters)."""
    return f"{fingerprint}{OWNER_SEPARATOR}{owner}"


def read_source_tag(value: str | None) -> tuple[str | None, str | None]:
    """The (fingerprint, owner mark) of a source tag value; release 0.1 values have no owner."""
    if value is None:
        return None, None
    fingerprint, _, owner = value.partition(OWNER_SEPARATOR)
    return fingerprint, owner or None


def parse_s3_url(url: object, property_name: str = ATTACHMENT_URL) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key, or say what is wrong with it."""
    if not isinstance(url, str) or not url:
        raise AttachmentValidationError(
            f"{property_name}: is required and must be a string like s3://bucket/key"
        )
    if url.lower().startswith(("https://", "http://")):
        raise AttachmentValidationError(
            f"{property_name}: {url!r} is an HTTP URL; give the object as s3://bucket/key"
        )
    if not url.startswith(S3_URL_PREFIX):
        raise AttachmentValidationError(
            f"{property_name}: {url!r} must start with s3:// (s3://bucket/key)"
        )
    if len(url) > MAX_URL_CHARS or any(character.isspace() for character in url):
        raise AttachmentValidationError(
            f"{property_name}: must be at most {MAX_URL_CHARS} characters without spaces"
        )
    bucket, _, key = url[len(S3_URL_PREFIX) :].partition("/")
    if not bucket or not key:
        raise AttachmentValidationError(
            f"{property_name}: {url!r} must name both a bucket and an object key (s3://bucket/key)"
        )
    return bucket, key


def check_tags(tags: Mapping[str, str], property_name: str = TAGS) -> dict[str, str]:
    """Apply the service's tag rules, and keep users off the reserved keys."""
    if len(tags) > MAX_USER_TAGS:
        raise AttachmentValidationError(
            f"{property_name}: {len(tags)} tags, at most {MAX_USER_TAGS} allowed "
            f"(200 per attachment, one kept for {SOURCE_TAG_KEY})"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_CHARS:
            raise AttachmentValidationError(
                f"{property_name}: tag key {key!r} must be 1-{MAX_TAG_KEY_CHARS} characters"
            )
        if key.lower().startswith("aws:"):
            raise AttachmentValidationError(
                f"{property_name}: tag key {key!r} uses the reserved prefix aws:"
            )
        if key == SOURCE_TAG_KEY:
            raise AttachmentValidationError(
                f"{property_name}: tag key {key!r} is reserved for the source fingerprint"
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_CHARS:
            raise AttachmentValidationError(
                f"{property_name}: value of tag {key!r} must be a string of at most "
                f"{MAX_TAG_VALUE_CHARS} characters"
            )
    return dict(tags)


def read_tag_list(raw: object, error: type[ValueError]) -> dict[str, str]:
    """Read a ``Tags`` property, CloudFormation's list of ``{Key, Value}``, into a dict.

    Shared by both resource types; ``error`` is the type's own validation error. The service's
    tag rules are checked afterwards by each type's ``check_tags``.
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        raise error(
            f"{TAGS}: must be a list of {{Key, Value}} entries, not a map "
            "(write - Key: team / Value: messaging)"
        )
    if not isinstance(raw, list):
        raise error(f"{TAGS}: must be a list of {{Key, Value}} entries")
    tags: dict[str, str] = {}
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping) or set(entry) != {"Key", "Value"}:
            raise error(f"{TAGS}: entry {position} must have exactly Key and Value")
        key, value = entry["Key"], entry["Value"]
        if key in tags:
            raise error(f"{TAGS}: tag key {key!r} appears more than once")
        tags[key] = value
    return tags


def _parse_max_size(raw: object) -> int:
    if raw is None or raw == "":
        return DEFAULT_MAX_SIZE_BYTES
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    try:
        return check_max_size_setting(raw)  # type: ignore[arg-type]
    except AttachmentValidationError as error:
        raise AttachmentValidationError(f"{MAX_SIZE_BYTES}: {error}") from None


def _parse_version_id(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise AttachmentValidationError(f"{ATTACHMENT_VERSION_ID}: must be a string")
    return raw


def _reject_unknown(properties: Mapping[str, Any]) -> None:
    for name in properties:
        if name not in KNOWN_PROPERTIES:
            close = difflib.get_close_matches(name, KNOWN_PROPERTIES, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise AttachmentValidationError(
                f"{name}: unknown property{hint} (known: {', '.join(KNOWN_PROPERTIES[2:])})"
            )


def parse_properties(properties: Mapping[str, Any]) -> AttachmentSpec:
    """Read the resource properties of any shipped shape into an AttachmentSpec."""
    _reject_unknown(properties)
    bucket, key = parse_s3_url(properties.get(ATTACHMENT_URL))
    return AttachmentSpec(
        bucket=bucket,
        key=key,
        version_id=_parse_version_id(properties.get(ATTACHMENT_VERSION_ID)),
        tags=check_tags(read_tag_list(properties.get(TAGS), AttachmentValidationError)),
        max_size_bytes=_parse_max_size(properties.get(MAX_SIZE_BYTES)),
    )
