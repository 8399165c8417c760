"""``python -m cdk_sms_registration status (REGISTRATION_ID... | --stack STACK) [--json]``.

For each registration: its status; the current, approved and latest denied versions with their
statuses; the denied reasons with their documentation links; per-field denied reasons and
feedback (field paths and the service's text, never a field's value); its associations.
``--stack`` finds the stack's ``Custom::SmsRegistration`` resources with CloudFormation's
ListStackResources (every page). Exit code: 0 when no registration needs action, 1 while one
does (REQUIRES_UPDATES, REQUIRES_AUTHENTICATION, or its current version DENIED), 2 on an error.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdk_sms_registration_handler.registration_contract import PAGE_SIZE, RESOURCE_TYPE

from .cli_aws import (
    SMS_SERVICE,
    CommandFailed,
    add_region_option,
    client,
    describe_error,
    is_aws_error,
    pages,
    say,
)

COMMAND = "status"
#: Registration statuses that wait for the user, not for AWS.
ACTION_STATUSES = frozenset({"REQUIRES_UPDATES", "REQUIRES_AUTHENTICATION"})
DENIED = "DENIED"
#: Resource statuses whose physical ID no longer names a registration.
_GONE = frozenset({"DELETE_COMPLETE", "CREATE_FAILED"})

JsonDict = dict[str, Any]


def add_parser(commands: Any) -> None:
    """Add the ``status`` command."""
    parser = commands.add_parser(
        COMMAND,
        help="show registrations' review status, denied reasons and field feedback",
        description=(
            "Show registrations' status, versions, denied reasons, per-field feedback and "
            "associations (your AWS credentials and region). Exit code 1 while any needs "
            "action (REQUIRES_UPDATES, REQUIRES_AUTHENTICATION, a DENIED current version), "
            "2 on an error."
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("registration_ids", nargs="*", default=[], metavar="REGISTRATION_ID")
    which.add_argument("--stack", metavar="STACK", help="every registration of a stack")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    add_region_option(parser)


def run(arguments: argparse.Namespace) -> int:
    """Report every registration; 1 when one needs action."""
    if not arguments.registration_ids and not arguments.stack:
        raise CommandFailed("give REGISTRATION_IDs or --stack STACK")
    sms = client(SMS_SERVICE, arguments.region)
    targets: list[tuple[str, str | None]] = [
        (rid, None) for rid in dict.fromkeys(arguments.registration_ids)
    ]
    if arguments.stack:
        cloudformation = client("cloudformation", arguments.region)
        targets = [*stack_registrations(cloudformation, arguments.stack)]
    if not targets:
        say(f"stack {arguments.stack} has no {RESOURCE_TYPE} resources")
    reports = []
    for registration_id, logical_id in targets:
        try:
            report = registration_report(sms, registration_id)
        except Exception as error:
            if not is_aws_error(error):
                raise
            raise CommandFailed(describe_error(error, registration_id)) from None
        if logical_id is not None:
            report["LogicalResourceId"] = logical_id
        reports.append(report)
    if arguments.json:
        print(json.dumps({"Registrations": reports}, indent=2, default=str))
    else:
        print("\n\n".join(render(report) for report in reports))
    return 1 if any(report["NeedsAction"] for report in reports) else 0


def stack_registrations(cloudformation: Any, stack: str) -> list[tuple[str, str]]:
    """(physical ID, logical ID) of the stack's registrations, from every page."""
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
        raise CommandFailed(describe_error(error, f"stack {stack}")) from None
    return [
        (str(r["PhysicalResourceId"]), str(r["LogicalResourceId"]))
        for r in resources
        if r.get("ResourceType") == RESOURCE_TYPE
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
