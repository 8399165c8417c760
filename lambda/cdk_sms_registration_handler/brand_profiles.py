"""Brand profiles on the service (``endusermessaging``): the calls, each retried in the deadline.

Every List call reads every page. Attribute values are business data: errors and log lines
carry attribute names, operations and error codes, never a value nor the service's message
text (which may quote one).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .attachments import error_code
from .brand_profile_contract import (
    ATTR_ARN,
    ATTR_ID,
    MAX_MEDIA_BYTES,
    AttributeSpec,
    BrandProfileSpec,
)
from .retries import CALL_SECONDS, Deadline, call_with_retries

logger = logging.getLogger(__name__)

#: The largest page of the List calls (botocore's MaxResults).
PAGE_SIZE = 100
#: CreateBrandProfileAttributes takes at most 10 attributes per call (botocore's list max).
ATTRIBUTES_PER_CALL = 10
#: Bodies per CreateBrandProfileAttributes call: a large document goes alone, so one request
#: never holds more than one 5 MB body (base64 in JSON: about 8 MB) in the function's memory.
BODY_BYTES_PER_CALL = 6 * 1024 * 1024
_GONE = ("ResourceNotFoundException", "ValidationException")


class ProfileInUse(Exception):
    """The service refuses to delete the profile (ConflictException)."""


@dataclass(frozen=True)
class HeldAttribute:
    """One attribute as the service holds it; the text is kept out of ``repr``."""

    name: str
    attribute_type: str
    description: str | None = field(default=None, repr=False)
    category: str | None = None
    text: str | None = field(default=None, repr=False)
    media_size: int | None = None
    download_url: str | None = field(default=None, repr=False)


def safe_error_text(error: BaseException) -> str:
    """An error as a FAILED reason may show it: the operation and the code, no message."""
    if isinstance(error, ClientError):
        operation = getattr(error, "operation_name", "") or "a call"
        return f"{operation} failed ({error_code(error)})"
    if isinstance(error, ProfileInUse):
        return "ConflictException"
    return type(error).__name__


def _all_pages(
    call: Callable[..., Any], key: str, deadline: Deadline, what: str, **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page_params = {**params, "maxResults": PAGE_SIZE, **({"nextToken": token} if token else {})}
        page: dict[str, Any] = call_with_retries(
            functools.partial(call, **page_params), deadline, what=what
        )
        items.extend(page.get(key, []))
        token = page.get("nextToken")
        if not token:
            return items


# Profiles --------------------------------------------------------------------------------


def get(eum: Any, profile_id: str, deadline: Deadline) -> dict[str, Any] | None:
    """The profile, or None when the service does not know it."""
    try:
        profile: dict[str, Any] = call_with_retries(
            lambda: eum.get_brand_profile(brandProfileId=profile_id),
            deadline,
            what="GetBrandProfile",
        )
    except ClientError as error:
        if error_code(error) in _GONE:
            return None
        raise
    return profile


def create(
    eum: Any, spec: BrandProfileSpec, token: str, owner: str, deadline: Deadline
) -> dict[str, Any]:
    """CreateBrandProfile, tagged with the owner mark; deletion protection comes last."""
    tags = [{"key": key, "value": value} for key, value in spec.service_tags(owner).items()]
    created: dict[str, Any] = call_with_retries(
        lambda: eum.create_brand_profile(
            brandProfileName=spec.name,
            # Off until every attribute is written: a failed Create must be able to delete it.
            deletionProtectionEnabled=False,
            tags=tags,
            clientToken=token,
        ),
        deadline,
        what="CreateBrandProfile",
    )
    return created


def update(eum: Any, profile_id: str, deadline: Deadline, **changes: Any) -> dict[str, Any]:
    """UpdateBrandProfile with the changed members (name, deletion protection)."""
    updated: dict[str, Any] = call_with_retries(
        lambda: eum.update_brand_profile(brandProfileId=profile_id, **changes),
        deadline,
        what="UpdateBrandProfile",
    )
    return updated


def delete(eum: Any, profile_id: str, deadline: Deadline) -> str:
    """DeleteBrandProfile; gone already counts as deleted."""
    try:
        call_with_retries(
            lambda: eum.delete_brand_profile(brandProfileId=profile_id),
            deadline,
            what="DeleteBrandProfile",
        )
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return "already gone"
        if error_code(error) == "ConflictException":
            raise ProfileInUse() from None
        raise
    return "deleted"


# Attributes ------------------------------------------------------------------------------


def list_attributes(eum: Any, profile_id: str, deadline: Deadline) -> dict[str, HeldAttribute]:
    """The profile's attributes by name: types, descriptions and categories (no values)."""
    listed = _all_pages(
        eum.list_brand_profile_attributes,
        "brandProfileAttributes",
        deadline,
        "ListBrandProfileAttributes",
        brandProfileId=profile_id,
    )
    return {
        str(item["attributeName"]): HeldAttribute(
            name=str(item["attributeName"]),
            attribute_type=str(item["attributeType"]),
            description=item.get("description"),
            category=item.get("category"),
        )
        for item in listed
    }


def read_attribute(
    eum: Any, profile_id: str, held: HeldAttribute, deadline: Deadline
) -> HeldAttribute:
    """The attribute with its value (TEXT) or its media size and download URL."""
    got: dict[str, Any] = call_with_retries(
        lambda: eum.get_brand_profile_attribute(brandProfileId=profile_id, attributeName=held.name),
        deadline,
        what="GetBrandProfileAttribute",
    )
    size = got.get("mediaSizeBytes")
    return HeldAttribute(
        name=held.name,
        attribute_type=str(got.get("attributeType", held.attribute_type)),
        description=got.get("description", held.description),
        category=got.get("category", held.category),
        text=got.get("attributeValue"),
        media_size=int(size) if size is not None else None,
        download_url=got.get("mediaDownloadUrl"),
    )


def media_digest(url: str, deadline: Deadline) -> str | None:
    """The sha256 of the media the service holds, from its download URL; None if unreadable.

    The URL is the service's own (pre-signed), fetched without credentials. Unreadable means
    "not known to be the same", so the declared body is written again.
    """
    if not url.startswith(("https://", "http://")):
        return None
    timeout = max(1.0, min(float(CALL_SECONDS), deadline.remaining()))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(MAX_MEDIA_BYTES + 1)
    except OSError as error:
        logger.warning("media download failed (%s): writing the body again", type(error).__name__)
        return None
    return hashlib.sha256(body).hexdigest()


def _entry(spec: AttributeSpec, body: bytes | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"attributeName": spec.name, "attributeType": spec.attribute_type}
    if spec.is_media:
        entry["attachmentBody"] = body
    else:
        entry["attributeValue"] = spec.text
    if spec.description is not None:
        entry["description"] = spec.description
    if spec.category is not None:
        entry["category"] = spec.category
    return entry


def batches(specs: Sequence[AttributeSpec], sizes: Mapping[str, int]) -> list[list[AttributeSpec]]:
    """Attributes in calls of at most 10, and at most ``BODY_BYTES_PER_CALL`` of bodies."""
    out: list[list[AttributeSpec]] = []
    current: list[AttributeSpec] = []
    current_bytes = 0
    for spec in specs:
        size = sizes.get(spec.name, 0)
        if current and (
            len(current) == ATTRIBUTES_PER_CALL or current_bytes + size > BODY_BYTES_PER_CALL
        ):
            out.append(current)
            current, current_bytes = [], 0
        current.append(spec)
        current_bytes += size
    if current:
        out.append(current)
    return out


def create_attributes(
    eum: Any,
    profile_id: str,
    specs: Sequence[AttributeSpec],
    bodies: Mapping[str, bytes],
    token: str,
    deadline: Deadline,
) -> None:
    """One CreateBrandProfileAttributes call (its ClientToken: this request and these names)."""
    names = "\0".join(spec.name for spec in specs)
    batch_token = hashlib.sha256(f"{token}\0{names}".encode()).hexdigest()
    entries = [_entry(spec, bodies.get(spec.name)) for spec in specs]
    call_with_retries(
        lambda: eum.create_brand_profile_attributes(
            brandProfileId=profile_id, attributes=entries, clientToken=batch_token
        ),
        deadline,
        what="CreateBrandProfileAttributes",
    )


def update_attribute(
    eum: Any,
    profile_id: str,
    spec: AttributeSpec,
    body: bytes | None,
    deadline: Deadline,
    *,
    value: bool,
) -> None:
    """UpdateBrandProfileAttribute: the value (when ``value``), description and category."""
    members: dict[str, Any] = {}
    if value:
        members.update({"attachmentBody": body} if spec.is_media else {"attributeValue": spec.text})
    # An empty description clears one (the model allows 0 characters).
    members["description"] = spec.description or ""
    if spec.category is not None:
        members["category"] = spec.category
    call_with_retries(
        lambda: eum.update_brand_profile_attribute(
            brandProfileId=profile_id, attributeName=spec.name, **members
        ),
        deadline,
        what="UpdateBrandProfileAttribute",
    )


def delete_attribute(eum: Any, profile_id: str, name: str, deadline: Deadline) -> str:
    """DeleteBrandProfileAttribute; gone already counts as deleted."""
    try:
        call_with_retries(
            lambda: eum.delete_brand_profile_attribute(
                brandProfileId=profile_id, attributeName=name
            ),
            deadline,
            what="DeleteBrandProfileAttribute",
        )
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return "already gone"
        raise
    return "deleted"


# Tags ------------------------------------------------------------------------------------


def read_tags(eum: Any, arn: str, deadline: Deadline) -> dict[str, str]:
    """The profile's tags on the service."""
    response = call_with_retries(
        lambda: eum.list_tags_for_resource(resourceArn=arn), deadline, what="ListTagsForResource"
    )
    return {tag["key"]: tag["value"] for tag in response.get("tags", [])}


def reconcile_tags(
    eum: Any, arn: str, current: Mapping[str, str], desired: Mapping[str, str], deadline: Deadline
) -> tuple[list[str], list[str]]:
    """Make the profile's tags equal ``desired``; return the keys set and the keys removed."""
    removed = sorted(key for key in current if key not in desired and not key.startswith("aws:"))
    changed = sorted(key for key, value in desired.items() if current.get(key) != value)
    if removed:
        call_with_retries(
            lambda: eum.untag_resource(resourceArn=arn, tagKeys=removed),
            deadline,
            what="UntagResource",
        )
    if changed:
        tags = [{"key": key, "value": desired[key]} for key in changed]
        call_with_retries(
            lambda: eum.tag_resource(resourceArn=arn, tags=tags), deadline, what="TagResource"
        )
    return changed, removed


def attributes(profile: Mapping[str, Any]) -> dict[str, str]:
    """The resource attributes CloudFormation stores for Fn::GetAtt (no attribute value)."""
    return {ATTR_ID: str(profile["brandProfileId"]), ATTR_ARN: str(profile["brandProfileArn"])}
