"""``python -m cdk_sms_registration scaffold TYPE --definitions FILE``: a ``fields={...}`` block.

Prints every field path of the type with its kind, requirement, choices, length and pattern as
comments: REQUIRED fields first (active lines with an empty placeholder), then CONDITIONAL and
OPTIONAL ones (commented out: uncomment the ones you need); sections in the service's order.
The block is valid Python as printed and once the placeholders are filled. Offline: it reads
the snapshot the ``definitions`` command wrote.

``scaffold --brand-profile PROFILE.json TYPE...`` writes a Python module instead: a brand
profile and one ``Registration`` per type, the fields its attributes map to filled with
``profile.attribute(NAME)`` (``scaffold_profile``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cdk_sms_registration_handler.registration_contract import RegistrationValidationError
from cdk_sms_registration_handler.registration_rules import (
    ATTACHMENT,
    CONDITIONAL,
    OPTIONAL,
    REQUIRED,
    SELECT,
    TEXT,
)

from .cli_aws import CommandFailed
from .definitions import RegistrationDefinitions, TypeDefinitions

COMMAND = "scaffold"
#: The order of the groups the block lists.
REQUIREMENT_ORDER = (REQUIRED, CONDITIONAL, OPTIONAL)
ATTACHMENT_PLACEHOLDER = 'AttachmentSource.from_file("")'
_WIDTH = 96


def add_parser(commands: Any) -> None:
    """Add the ``scaffold`` command."""
    parser = commands.add_parser(
        COMMAND,
        help="print a ready-to-edit fields={...} block for a registration type",
        description=(
            "Print a Python fields={...} block for Registration(...): every field of TYPE "
            "with its rules as comments, REQUIRED fields first. With --brand-profile, print a "
            "Python module instead: a BrandProfile and one Registration per TYPE, each field "
            "an attribute maps to (by name and kind) filled with profile.attribute(NAME), the "
            "others as TODO comments. Reads a snapshot written by the definitions command; "
            "needs no AWS access."
        ),
    )
    parser.add_argument(
        "type",
        metavar="TYPE",
        nargs="+",
        help="a registration type (several only with --brand-profile)",
    )
    parser.add_argument(
        "--brand-profile",
        metavar="PROFILE.json",
        help=(
            "the profile's attribute names and kinds: the output of `aws end-user-messaging "
            "list-brand-profile-attributes`, a JSON list of names, or "
            '{"attributes": {NAME: KIND}} (values are never read)'
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--definitions", metavar="FILE", help="a snapshot `definitions` wrote")
    source.add_argument(
        "--sample",
        action="store_true",
        help="the sample definitions shipped in the package (offline; not authoritative)",
    )


def run(arguments: argparse.Namespace) -> int:
    """Print the block for the type (or, with ``--brand-profile``, the module for the types)."""
    types: list[str] = arguments.type
    twice = sorted({name for name in types if types.count(name) > 1})
    if twice:
        raise CommandFailed(f"{', '.join(twice)} given more than once")
    if len(types) > 1 and arguments.brand_profile is None:
        raise CommandFailed(
            "scaffold prints one TYPE's fields block; several TYPEs need --brand-profile "
            "PROFILE.json (or run scaffold once per TYPE)"
        )
    try:
        if arguments.brand_profile is not None:
            from . import scaffold_profile  # it imports this module's helpers

            attributes = scaffold_profile.read_profile(arguments.brand_profile)
        definitions = (
            RegistrationDefinitions.from_sample(*types)
            if arguments.sample
            else RegistrationDefinitions.from_file(arguments.definitions)
        )
        if arguments.brand_profile is None:
            print(render(definitions, types[0]))
        else:
            print(
                scaffold_profile.render(
                    definitions,
                    types,
                    attributes,
                    profile_file=arguments.brand_profile,
                    definitions_file=None if arguments.sample else arguments.definitions,
                ),
                end="",
            )
    except RegistrationValidationError as error:
        raise CommandFailed(str(error)) from None
    return 0


def render(definitions: RegistrationDefinitions, registration_type: str) -> str:
    """The ``fields={...}`` block of one type of the snapshot."""
    found = definitions.of(registration_type)
    title = _hints(found.type_definition).get("Title")
    lines = [
        f"# {registration_type}{f': {title}' if title else ''}",
        (
            f"# From {definitions.source}."
            if definitions.is_sample
            else f"# From {definitions.source} ({definitions.region}, taken "
            f"{definitions.taken_at})."
        ),
        "# REQUIRED fields first; uncomment the CONDITIONAL and OPTIONAL ones you need.",
    ]
    if any(f.get("FieldType") == ATTACHMENT for f in found.fields):
        lines.append(
            "# ATTACHMENT fields take a RegistrationAttachment or an AttachmentSource "
            "(from cdk_sms_registration import AttachmentSource)."
        )
    lines.append("fields={")
    for requirement, sections in _groups(found):
        lines.append(f"    # ---- {requirement} " + "-" * (_WIDTH - 16 - len(requirement)))
        for section, fields in sections:
            lines.append(f"    # {section}")
            for definition in fields:
                lines.extend(_field_lines(definition, active=requirement == REQUIRED))
    lines.append("}")
    return "\n".join(lines)


def _groups(
    found: TypeDefinitions,
) -> Iterator[tuple[str, list[tuple[str, list[Mapping[str, Any]]]]]]:
    """(requirement, [(section title, fields)]) in REQUIRED, CONDITIONAL, OPTIONAL order."""
    order = [str(s.get("SectionPath")) for s in found.sections]
    titles = {
        str(s.get("SectionPath")): _hints(s).get("Title") or str(s.get("SectionPath"))
        for s in found.sections
    }
    for field in found.fields:  # sections the section list left out still show, in order
        section = str(field.get("SectionPath") or str(field.get("FieldPath")).split(".")[0])
        if section not in order:
            order.append(section)
            titles[section] = section
    for requirement in REQUIREMENT_ORDER:
        sections = []
        for section in order:
            fields = [
                f
                for f in found.fields
                if _requirement(f) == requirement
                and str(f.get("SectionPath") or str(f.get("FieldPath")).split(".")[0]) == section
            ]
            if fields:
                label = titles[section]
                sections.append((label if label == section else f"{label} ({section})", fields))
        if sections:
            yield requirement, sections


def _requirement(definition: Mapping[str, Any]) -> str:
    value = definition.get("FieldRequirement")
    return str(value) if value in REQUIREMENT_ORDER else OPTIONAL


def _field_lines(definition: Mapping[str, Any], *, active: bool) -> list[str]:
    path = str(definition.get("FieldPath"))
    comments = [line for line in _describe(definition) if line]
    entry = f"{json.dumps(path)}: {_placeholder(definition)},"
    return [
        *(f"    # {line}" for line in comments),
        f"    {entry}" if active else f"    # {entry}",
    ]


def _describe(definition: Mapping[str, Any]) -> list[str]:
    """Comment lines: title and description, kind and rules, choices, example, link."""
    hints = _hints(definition)
    kind = str(definition.get("FieldType") or "UNKNOWN")
    title = _one_line(hints.get("Title") or "")
    short = _one_line(hints.get("ShortDescription") or "")
    rules = [kind, _requirement(definition)]
    lines = [": ".join(part for part in (title, short) if part)]
    if kind == TEXT:
        validation = _mapping(definition.get("TextValidation"))
        rules.append(_span(validation.get("MinLength"), validation.get("MaxLength"), "characters"))
        if validation.get("Pattern"):
            rules.append(f"pattern {_one_line(str(validation['Pattern']))}")
    elif kind == SELECT:
        validation = _mapping(definition.get("SelectValidation"))
        low, high = validation.get("MinChoices"), validation.get("MaxChoices")
        rules.append(
            "one choice (a str)"
            if low == high == 1
            else f"{_span(low, high, 'choices')} (a list of str)"
        )
    elif kind == ATTACHMENT:
        rules.append("an attachment")
    lines.append(", ".join(rule for rule in rules if rule))
    lines.extend(_conditions(definition))
    if kind == SELECT:
        options = [
            str(o) for o in _mapping(definition.get("SelectValidation")).get("Options") or []
        ]
        lines.extend(_wrapped("choices: ", options))
    if hints.get("ExampleTextValue"):
        lines.append(f"example: {_one_line(str(hints['ExampleTextValue']))}")
    if hints.get("DocumentationLink"):
        lines.append(f"see {_one_line(str(hints['DocumentationLink']))}")
    return lines


def _conditions(definition: Mapping[str, Any]) -> list[str]:
    """The ConditionalBehavior rules in words (first matching rule wins)."""
    behavior = _mapping(definition.get("ConditionalBehavior"))
    if definition.get("FieldRequirement") != CONDITIONAL:
        return []
    if not behavior:
        return ["conditions not in the snapshot (an old botocore?): treated as OPTIONAL"]
    lines = []
    for rule in behavior.get("Rules") or []:
        conditions = " and ".join(
            " ".join(
                part
                for part in (
                    str(c.get("DependsOnFieldPath")),
                    str(c.get("Operator")),
                    ", ".join(str(v) for v in c.get("Values") or []),
                )
                if part
            )
            for c in _mapping(rule).get("Conditions") or []
        )
        lines.append(f"{_mapping(rule).get('RuleBehavior')} when {_one_line(conditions)}")
    lines.append(f"otherwise {behavior.get('DefaultBehavior', OPTIONAL)}")
    return lines


def _placeholder(definition: Mapping[str, Any]) -> str:
    kind = definition.get("FieldType")
    if kind == ATTACHMENT:
        return ATTACHMENT_PLACEHOLDER
    if kind == SELECT:
        validation = _mapping(definition.get("SelectValidation"))
        return '""' if validation.get("MaxChoices") == 1 else "[]"
    return '""'


def _wrapped(head: str, items: Sequence[str]) -> list[str]:
    lines: list[str] = []
    current = head
    for position, item in enumerate(items):
        piece = _one_line(item) + (", " if position < len(items) - 1 else "")
        if len(current) + len(piece) > _WIDTH - 6 and current.strip():
            lines.append(current.rstrip())
            current = " " * len(head)
        current += piece
    lines.append(current.rstrip())
    return lines


def _span(low: object, high: object, unit: str) -> str:
    if isinstance(low, int) and low == high:
        return f"exactly {low} {unit}"
    if isinstance(low, int) and isinstance(high, int):
        return f"{low}-{high} {unit}"
    if isinstance(high, int):
        return f"at most {high} {unit}"
    if isinstance(low, int):
        return f"at least {low} {unit}"
    return ""


def _hints(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(definition.get("DisplayHints"))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
