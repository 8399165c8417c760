"""``python -m cdk_sms_registration definitions TYPE... [--output FILE]``.

Reads each registration type's type, section and field definitions (every page) with the
user's AWS credentials and region, and writes one snapshot (``RegistrationDefinitions``) with
the time and region it was taken. Field definitions are kept as the service sent them, so
``ConditionalBehavior`` survives a botocore that predates it. The only command that needs AWS
before a deploy: ``scaffold`` and the synth read the snapshot offline.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from cdk_sms_registration_handler.registration_contract import (
    PAGE_SIZE,
    RegistrationValidationError,
    check_registration_type,
)

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
from .definitions import RegistrationDefinitions, TypeDefinitions

COMMAND = "definitions"
DEFAULT_OUTPUT = "registration-definitions.json"


def add_parser(commands: Any) -> None:
    """Add the ``definitions`` command."""
    parser = commands.add_parser(
        COMMAND,
        help="save registration types' field definitions from AWS (for scaffold and synth)",
        description=(
            "Read the registration types' type, section and field definitions from AWS (your "
            "credentials and region) and write them to one JSON snapshot. Progress goes to "
            "stderr."
        ),
    )
    parser.add_argument("types", nargs="+", metavar="TYPE", help="like US_TOLL_FREE_REGISTRATION")
    parser.add_argument(
        "--output",
        metavar="FILE",
        help=f"the snapshot to write ('-' for stdout; default {DEFAULT_OUTPUT}); an existing "
        "snapshot keeps the types not fetched now",
    )
    add_region_option(parser)


def run(arguments: argparse.Namespace) -> int:
    """Fetch every type, then write the snapshot; nothing is written when one type fails."""
    names = list(dict.fromkeys(arguments.types))
    for name in names:
        try:
            check_registration_type(name, f"TYPE {name}")
        except RegistrationValidationError as error:
            raise CommandFailed(str(error)) from None
    output = arguments.output or DEFAULT_OUTPUT
    sms = client(SMS_SERVICE, arguments.region)
    # Imported here: the handler's service module needs botocore, which client() just found.
    from cdk_sms_registration_handler.registrations import keep_raw_definitions

    keep_raw_definitions(sms)
    region = str(sms.meta.region_name)
    fetched = {name: fetch_type(sms, name) for name in names}
    kept = _existing(output, region)
    snapshot = RegistrationDefinitions(
        {**kept, **fetched},
        taken_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        region=region,
        source=output,
    ).to_snapshot()
    text = json.dumps(snapshot, indent=2, default=str) + "\n"
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
    fields = sum(len(t.fields) for t in fetched.values())
    say(f"wrote {output}: {len(fetched)} type(s), {fields} field definition(s), region {region}")
    return 0


def fetch_type(sms: Any, name: str) -> TypeDefinitions:
    """One type's definitions, every page; errors name the type and the AWS error code."""

    def progress(what: str) -> Any:
        return lambda count, items: say(f"{name}: {what}: page {count} ({items} so far)")

    try:
        types = list(
            pages(
                sms.describe_registration_type_definitions,
                "RegistrationTypeDefinitions",
                RegistrationTypes=[name],
                MaxResults=PAGE_SIZE,
            )
        )
        found = [t for t in types if t.get("RegistrationType") == name]
        if not found:
            raise CommandFailed(f"{name}: the service has no such registration type")
        sections = list(
            pages(
                sms.describe_registration_section_definitions,
                "RegistrationSectionDefinitions",
                progress=progress("section definitions"),
                RegistrationType=name,
                MaxResults=PAGE_SIZE,
            )
        )
        fields = list(
            pages(
                sms.describe_registration_field_definitions,
                "RegistrationFieldDefinitions",
                progress=progress("field definitions"),
                RegistrationType=name,
                MaxResults=PAGE_SIZE,
            )
        )
    except CommandFailed:
        raise
    except Exception as error:
        if is_aws_error(error):
            raise CommandFailed(describe_error(error, name)) from None
        raise
    return TypeDefinitions(name, found[0], sections, fields)


def _existing(output: str, region: str) -> dict[str, TypeDefinitions]:
    """The types an existing snapshot of the same region holds (kept when not fetched now)."""
    if output == "-" or not Path(output).exists():
        return {}
    try:
        previous = RegistrationDefinitions.from_file(output)
    except RegistrationValidationError as error:
        raise CommandFailed(
            f"{error}; not overwriting it (remove it or pick another --output)"
        ) from None
    if previous.region != region:
        raise CommandFailed(
            f"{output} was taken in {previous.region}, not {region}; not mixing regions "
            "(remove it or pick another --output)"
        )
    return {name: previous.of(name) for name in previous.registration_types}
