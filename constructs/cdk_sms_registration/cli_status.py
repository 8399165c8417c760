"""``python -m cdk_sms_registration status (ID... | --stack STACK) [--json]``.

An ID is a registration's (``registration-...``) or a brand profile's (``bp-...`` or its ARN).
For each registration: its status; the current, approved and latest denied versions with their
statuses; the denied reasons with their documentation links; per-field denied reasons and
feedback (field paths and the service's text, never a field's value); its associations. For each
brand profile: see ``cli_status_profiles`` (attributes by name and kind, never a value; the
registrations made from it; its jobs). ``--stack`` finds the stack's ``Custom::SmsRegistration``
and ``Custom::SmsBrandProfile`` resources with CloudFormation's ListStackResources (every page).
Exit code: 0 when nothing needs action, 1 while something does (a registration
REQUIRES_UPDATES, REQUIRES_AUTHENTICATION, or its current version DENIED; a brand profile not
ACTIVE or whose newest job FAILED), 2 on an error.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdk_sms_registration_handler.brand_profile_contract import (
    RESOURCE_TYPE as PROFILE_RESOURCE_TYPE,
)
from cdk_sms_registration_handler.registration_contract import PAGE_SIZE, RESOURCE_TYPE

from .cli_aws import (
    BRAND_PROFILE_SERVICE,
    SMS_SERVICE,
    CommandFailed,
    add_region_option,
    client,
    describe_error,
    is_aws_error,
    pages,
    say,
)
from .cli_status_profiles import brand_profile_report, is_brand_profile, render_brand_profile

COMMAND = "status"
#: Registration statuses that wait for the user, not for AWS.
ACTION_STATUSES = frozenset({"REQUIRES_UPDATES", "REQUIRES_AUTHENTICATION"})
DENIED = "DENIED"
#: Resource statuses whose physical ID no longer names a registration or profile.
_GONE = frozenset({"DELETE_COMPLETE", "CREATE_FAILED"})
#: The stack resources ``--stack`` reports, and the service each is read from.
_SERVICES = {RESOURCE_TYPE: SMS_SERVICE, PROFILE_RESOURCE_TYPE: BRAND_PROFILE_SERVICE}
#: Where the permissions ``status`` needs are listed (an AccessDenied names it).
PERMISSIONS_DOC = 'README.md ("Permissions of status")'

JsonDict = dict[str, Any]


def add_parser(commands: Any) -> None:
    """Add the ``status`` command."""
    parser = commands.add_parser(
        COMMAND,
        help="show registrations' review status and brand profiles, their jobs and registrations",
        description=(
            "Show registrations' status, versions, denied reasons, per-field feedback and "
            "associations, and brand profiles' status, tags, attributes (names and kinds, never "
            "values), the registrations made from them and their jobs (your AWS credentials and "
            "region). Exit code 1 while any needs action (REQUIRES_UPDATES, "
            "REQUIRES_AUTHENTICATION, a DENIED current version; a profile not ACTIVE or whose "
            "newest job FAILED), 2 on an error."
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "ids",
        nargs="*",
        default=[],
        metavar="ID",
        help="a registration ID (registration-...) or a brand profile ID (bp-...) or ARN",
    )
    which.add_argument(
        "--stack", metavar="STACK", help="every registration and brand profile of a stack"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    add_region_option(parser)


def run(arguments: argparse.Namespace) -> int:
    """Report every registration and brand profile; 1 when one needs action."""
    if not arguments.ids and not arguments.stack:
        raise CommandFailed("give registration or brand profile IDs, or --stack STACK")
    targets: list[tuple[str, str, str | None]] = [
        (PROFILE_RESOURCE_TYPE if is_brand_profile(target) else RESOURCE_TYPE, target, None)
        for target in dict.fromkeys(arguments.ids)
    ]
    if arguments.stack:
        cloudformation = client("cloudformation", arguments.region)
        targets = [*stack_resources(cloudformation, arguments.stack)]
        if not targets:
            kinds = f"{RESOURCE_TYPE} or {PROFILE_RESOURCE_TYPE}"
            say(f"stack {arguments.stack} has no {kinds} resources")
    clients: dict[str, Any] = {}
    reports: dict[str, list[JsonDict]] = {RESOURCE_TYPE: [], PROFILE_RESOURCE_TYPE: []}
    shown = []
    for resource_type, target, logical_id in targets:
        service = _SERVICES[resource_type]
        if service not in clients:
            clients[service] = client(service, arguments.region)
        api = clients[service]
        profile = resource_type == PROFILE_RESOURCE_TYPE
        try:
            report = (
                brand_profile_report(api, target) if profile else registration_report(api, target)
            )
        except Exception as error:
            if not is_aws_error(error):
                raise
            raise CommandFailed(failure_text(error, target, api)) from None
        if logical_id is not None:
            report["LogicalResourceId"] = logical_id
        reports[resource_type].append(report)
        shown.append(render_brand_profile(report) if profile else render(report))
    if arguments.json:
        found = {
            "Registrations": reports[RESOURCE_TYPE],
            "BrandProfiles": reports[PROFILE_RESOURCE_TYPE],
        }
        print(json.dumps(found, indent=2, default=str))
    else:
        print("\n\n".join(shown))
    return 1 if any(r["NeedsAction"] for found in reports.values() for r in found) else 0


def failure_text(error: BaseException, subject: str, api: Any) -> str:
    """One line for a refused status call, naming the fix of a denial or a wrong region."""
    text = describe_error(error, subject)
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    if code in ("AccessDeniedException", "AccessDenied"):
        return f"{text}: allow the read permissions in {PERMISSIONS_DOC}"
    if code == "ResourceNotFoundException":
        region = getattr(getattr(api, "meta", None), "region_name", None)
        return f"{text}: none in {region}; if it is in another region, pass --region"
    return text


def stack_resources(cloudformation: Any, stack: str) -> list[tuple[str, str, str | None]]:
    """(resource type, physical ID, logical ID) of the stack's registrations and profiles."""
    try:
        resources = list(
            pages(
                cloudformation.list_stack_resources,
                "StackResourceSummaries",
                progress=lambda count, items: say(f"stack {stack}: page {count} ({items} so far)"),
                StackName=stack,
            )
        )
    except Exception as error:
        if not is_aws_error(error):
            raise
        raise CommandFailed(failure_text(error, f"stack {stack}", cloudformation)) from None
    return [
        (str(r["ResourceType"]), str(r["PhysicalResourceId"]), str(r["LogicalResourceId"]))
        for r in resources
        if r.get("ResourceType") in _SERVICES
        and r.get("PhysicalResourceId")
        and r.get("ResourceStatus") not in _GONE
    ]


def registration_report(sms: Any, registration_id: str) -> JsonDict:
    """What ``status`` shows of one registration (field paths and feedback, no values)."""
    found = sms.describe_registrations(RegistrationIds=[registration_id]).get("Registrations")
    if not found:
        raise CommandFailed(f"{registration_id}: the service has no such registration")
    registration: Mapping[str, Any] = found[0]
    numbers = {
        "Current": registration.get("CurrentVersionNumber"),
        "Approved": registration.get("ApprovedVersionNumber"),
        "LatestDenied": registration.get("LatestDeniedVersionNumber"),
    }
    wanted = sorted({n for n in numbers.values() if isinstance(n, int)})
    versions = {
        v["VersionNumber"]: v
        for v in pages(
            sms.describe_registration_versions,
            "RegistrationVersions",
            RegistrationId=registration_id,
            VersionNumbers=wanted,
            MaxResults=PAGE_SIZE,
        )
    }
    denied_number = numbers["LatestDenied"]
    denied = versions.get(denied_number, {}) if isinstance(denied_number, int) else {}
    feedback = (
        field_feedback(sms, registration_id, denied_number)
        if isinstance(denied_number, int)
        else []
    )
    associations = [
        {key: a[key] for key in ("ResourceType", "ResourceId", "ResourceArn") if key in a}
        for a in pages(
            sms.list_registration_associations,
            "RegistrationAssociations",
            RegistrationId=registration_id,
            MaxResults=PAGE_SIZE,
        )
    ]
    shown_versions = {
        role: {
            "VersionNumber": number,
            "Status": versions.get(number, {}).get("RegistrationVersionStatus"),
        }
        for role, number in numbers.items()
        if isinstance(number, int)
    }
    status = str(registration.get("RegistrationStatus"))
    current_status = shown_versions.get("Current", {}).get("Status")
    return {
        "RegistrationId": registration.get("RegistrationId"),
        "RegistrationArn": registration.get("RegistrationArn"),
        "RegistrationType": registration.get("RegistrationType"),
        "RegistrationStatus": status,
        "NeedsAction": status in ACTION_STATUSES or current_status == DENIED,
        "Versions": shown_versions,
        "DeniedReasons": list(denied.get("DeniedReasons") or []),
        "Feedback": denied.get("Feedback"),
        "FieldFeedback": feedback,
        "Associations": associations,
    }


def field_feedback(sms: Any, registration_id: str, version_number: int) -> list[JsonDict]:
    """Per-field denied reasons and feedback of a version: paths and the service's text only."""
    found = []
    for entry in pages(
        sms.describe_registration_field_values,
        "RegistrationFieldValues",
        RegistrationId=registration_id,
        VersionNumber=version_number,
        MaxResults=PAGE_SIZE,
    ):
        remarks = {k: entry[k] for k in ("DeniedReason", "Feedback") if entry.get(k)}
        if remarks:
            found.append({"FieldPath": entry.get("FieldPath"), **remarks})
    return found


def render(report: Mapping[str, Any]) -> str:
    """The readable view of one report."""
    where = f" [{report['LogicalResourceId']}]" if report.get("LogicalResourceId") else ""
    mark = "NEEDS ACTION" if report["NeedsAction"] else "ok"
    lines = [
        f"{report['RegistrationId']}{where}  {report['RegistrationType']}",
        _row("status", f"{report['RegistrationStatus']}  ({mark})"),
    ]
    versions: Mapping[str, Mapping[str, Any]] = report["Versions"]
    for role, label in (
        ("Current", "current"),
        ("Approved", "approved"),
        ("LatestDenied", "latest denied"),
    ):
        version = versions.get(role)
        shown = f"{version['VersionNumber']}  {version['Status']}" if version else "-"
        lines.append(_row(f"{label} version", shown))
    reasons: Sequence[Mapping[str, Any]] = report["DeniedReasons"]
    if reasons:
        lines.append(_row("denied reasons", ""))
        for reason in reasons:
            lines.append(f"    {reason.get('Reason')}: {reason.get('ShortDescription', '')}")
            for key in ("LongDescription", "DocumentationTitle", "DocumentationLink"):
                if reason.get(key):
                    lines.append(f"      {reason[key]}")
    if report.get("Feedback"):
        lines.append(_row("feedback", str(report["Feedback"])))
    feedback: Sequence[Mapping[str, Any]] = report["FieldFeedback"]
    if feedback:
        lines.append(_row("field feedback", ""))
        for item in feedback:
            text = " - ".join(str(item[k]) for k in ("DeniedReason", "Feedback") if item.get(k))
            lines.append(f"    {item['FieldPath']}: {text}")
    associations: Sequence[Mapping[str, Any]] = report["Associations"]
    lines.append(
        _row(
            "associations",
            ", ".join(f"{a.get('ResourceType')} {a.get('ResourceId')}" for a in associations)
            or "-",
        )
    )
    return "\n".join(lines)


def _row(label: str, value: str) -> str:
    return f"  {label + ':':<24}{value}".rstrip()
