"""What ``status`` shows of a brand profile (boto3 ``endusermessaging``), never a value.

``status bp-...``, a profile's ARN, or ``--stack``'s ``Custom::SmsBrandProfile`` resources.

For each profile: its name, status, deletion protection and tags (key and value; the owner tag
``cdk-sms-registration:owner`` holds the owner mark of the resource that made it); its
attributes by name, kind (TEXT, IMAGE, DOCUMENT) and category, and for IMAGE and DOCUMENT the
content type and size; the registrations made from it (ListRegistrationsFromBrandProfile: ID,
type, whether smartMatch was used); its jobs, newest first (ListJobs by brandProfileId: ID,
status, operation type, error code, and the resources each made, from GetJob when the list
leaves them out).

Attribute values are business data and never leave the service: a TEXT attribute is never read
on its own (ListBrandProfileAttributes carries no value), GetBrandProfileAttribute is called only
for IMAGE and DOCUMENT attributes, for their size, and its download URL is dropped unread.
Descriptions (the model marks them sensitive) and a job's error message (which may quote a
value) are not shown either.

A profile needs action when its status is not ACTIVE (BLOCKED, PAUSED, CANCELLED, FAILED) or its
newest job FAILED.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .cli_aws import CommandFailed, pages

#: The most ListBrandProfileAttributes, ListJobs and ListRegistrationsFromBrandProfile answer.
PAGE_SIZE = 100
ACTIVE = "ACTIVE"
FAILED = "FAILED"
_MEDIA_KINDS = frozenset({"IMAGE", "DOCUMENT"})
_ARN = re.compile(r"^arn:[^:]+:end-user-messaging:([^:]*):[^:]*:brand-profile/(.+)$")
_ID_PREFIX = "bp-"

JsonDict = dict[str, Any]


def is_brand_profile(target: str) -> bool:
    """Whether a ``status`` argument names a brand profile (``bp-...`` or its ARN)."""
    return target.startswith(_ID_PREFIX) or _ARN.match(target) is not None


def _profile_id(target: str, region: str | None) -> str:
    """The ID of ``target``; an ARN of another region fails, naming the ``--region`` to pass."""
    match = _ARN.match(target)
    if match is None:
        return target
    arn_region, profile_id = match.groups()
    if region and arn_region and arn_region != region:
        raise CommandFailed(
            f"{target}: the brand profile is in {arn_region}, the command runs in {region}: "
            f"pass --region {arn_region}"
        )
    return profile_id


def brand_profile_report(eum: Any, target: str) -> JsonDict:
    """What ``status`` shows of one brand profile (names, kinds and sizes; never a value)."""
    profile_id = _profile_id(target, eum.meta.region_name)
    profile = eum.get_brand_profile(brandProfileId=profile_id)
    profile_id = str(profile["brandProfileId"])
    arn = str(profile["brandProfileArn"])
    tags = {
        str(t["key"]): str(t["value"])
        for t in eum.list_tags_for_resource(resourceArn=arn).get("tags") or []
    }
    attributes = [
        _attribute(eum, profile_id, summary)
        for summary in pages(
            eum.list_brand_profile_attributes,
            "brandProfileAttributes",
            token_name="nextToken",
            brandProfileId=profile_id,
            maxResults=PAGE_SIZE,
        )
    ]
    registrations = [
        {
            "RegistrationId": made.get("registrationId"),
            "RegistrationType": made.get("registrationType"),
            "SmartMatchUsed": made.get("smartMatchUsed"),
            "CreatedAt": made.get("createdAt"),
        }
        for made in pages(
            eum.list_registrations_from_brand_profile,
            "registrationAssociations",
            token_name="nextToken",
            brandProfileId=profile_id,
            maxResults=PAGE_SIZE,
        )
    ]
    listed = pages(
        eum.list_jobs,
        "jobs",
        token_name="nextToken",
        brandProfileId=profile_id,
        maxResults=PAGE_SIZE,
    )
    jobs = sorted((_job(eum, summary) for summary in listed), key=_newest_first)
    status = str(profile.get("status"))
    return {
        "BrandProfileId": profile_id,
        "BrandProfileArn": arn,
        "BrandProfileName": profile.get("brandProfileName"),
        "Status": status,
        "NeedsAction": status != ACTIVE or bool(jobs and jobs[0]["Status"] == FAILED),
        "DeletionProtection": profile.get("deletionProtectionEnabled"),
        "Tags": dict(sorted(tags.items())),
        "Attributes": attributes,
        "Registrations": registrations,
        "Jobs": jobs,
    }


def _attribute(eum: Any, profile_id: str, summary: Mapping[str, Any]) -> JsonDict:
    """An attribute's name, kind, category and (IMAGE, DOCUMENT) media type and size."""
    name, kind = str(summary["attributeName"]), str(summary["attributeType"])
    shown: JsonDict = {
        "AttributeName": name,
        "AttributeType": kind,
        "Category": summary.get("category"),
        "MediaContentType": None,
        "MediaSizeBytes": None,
    }
    if kind in _MEDIA_KINDS:
        held = eum.get_brand_profile_attribute(brandProfileId=profile_id, attributeName=name)
        shown["MediaContentType"] = held.get("mediaContentType")
        shown["MediaSizeBytes"] = held.get("mediaSizeBytes")
    return shown


def _job(eum: Any, summary: Mapping[str, Any]) -> JsonDict:
    """A job's ID, status, operation, error code and resources (GetJob when the list has none)."""
    if "resources" not in summary:
        summary = eum.get_job(jobId=summary["jobId"])
    return {
        "JobId": summary.get("jobId"),
        "Status": summary.get("status"),
        "OperationType": summary.get("operationType"),
        "ErrorCode": summary.get("errorCode"),
        "CreatedAt": summary.get("createdAt"),
        "UpdatedAt": summary.get("updatedAt"),
        "Resources": [
            {
                "ResourceType": resource.get("resourceType"),
                "ResourceId": resource.get("resourceId"),
                "ResourceArn": resource.get("resourceArn"),
            }
            for resource in summary.get("resources") or []
        ],
    }


def _newest_first(job: Mapping[str, Any]) -> float:
    created = job.get("CreatedAt")
    return -created.timestamp() if isinstance(created, datetime.datetime) else 0.0


def render_brand_profile(report: Mapping[str, Any]) -> str:
    """The readable view of one brand profile report."""
    where = f" [{report['LogicalResourceId']}]" if report.get("LogicalResourceId") else ""
    mark = "NEEDS ACTION" if report["NeedsAction"] else "ok"
    tags: Mapping[str, str] = report["Tags"]
    lines = [
        f"{report['BrandProfileId']}{where}  brand profile",
        _row("name", str(report["BrandProfileName"])),
        _row("status", f"{report['Status']}  ({mark})"),
        _row("deletion protection", "on" if report["DeletionProtection"] else "off"),
        _row("tags", ", ".join(f"{key}={value}" for key, value in tags.items()) or "-"),
    ]
    attributes: Sequence[Mapping[str, Any]] = report["Attributes"]
    lines.append(_row("attributes", str(len(attributes)) if attributes else "-"))
    for attribute in attributes:
        details = [str(attribute["AttributeType"])]
        if attribute.get("Category"):
            details.append(f"category {attribute['Category']}")
        if attribute.get("MediaContentType"):
            details.append(str(attribute["MediaContentType"]))
        if attribute.get("MediaSizeBytes") is not None:
            details.append(f"{attribute['MediaSizeBytes']} bytes")
        lines.append(f"    {attribute['AttributeName']}: {', '.join(details)}")
    made: Sequence[Mapping[str, Any]] = report["Registrations"]
    lines.append(_row("registrations made", str(len(made)) if made else "-"))
    for registration in made:
        how = "smart match" if registration.get("SmartMatchUsed") else "no smart match"
        lines.append(
            f"    {registration['RegistrationId']}: {registration['RegistrationType']} ({how})"
        )
    jobs: Sequence[Mapping[str, Any]] = report["Jobs"]
    lines.append(_row("jobs", f"{len(jobs)}, newest first" if jobs else "-"))
    for job in jobs:
        error = f"  error {job['ErrorCode']}" if job.get("ErrorCode") else ""
        lines.append(f"    {job['JobId']}: {job['Status']}  {job['OperationType']}{error}")
        for resource in job["Resources"]:
            lines.append(f"      made {resource.get('ResourceType')} {resource.get('ResourceId')}")
    return "\n".join(lines)


def _row(label: str, value: str) -> str:
    return f"  {label + ':':<24}{value}".rstrip()
