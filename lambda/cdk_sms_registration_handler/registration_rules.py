"""Declared field values against the service's own field definitions.

The one place these rules live: the handler applies them on deploy, before any write, to the
definitions ``DescribeRegistrationFieldDefinitions`` returns (every page, never a list compiled
into the code: the definitions change), and the construct can apply them at synth to a saved
snapshot of the same definitions. Definitions are plain dicts exactly as the service returns
them, so a member the installed boto3 does not know (``ConditionalBehavior`` in older releases)
is used when present. Standard library only.

Every problem is reported at once, as (field path, rule). Rules name paths, kinds, counts,
lengths and the service's options, never a declared value: values are personal data.

How the service's rules are read here:

- ``TextValidation.Pattern`` must match the whole value (``re.fullmatch``, as Java's
  ``String.matches``); a pattern Python cannot compile is left to the service.
- A ``str`` for a SELECT field is one choice; a list for a TEXT field is the wrong kind.
- ``ConditionalBehavior``: the first rule whose conditions all hold wins, else
  ``DefaultBehavior``; a matching rule's ``ConditionalValidation`` overrides the field's own
  validation. Conditions compare the dependency's value (its text, its choices, or its
  attachment ID): EQUALS holds when it has a value made of exactly ``Values``, IN when any of it
  is among ``Values``; NOT_EQUALS and NOT_IN are their negations (so they hold when the
  dependency has no value); HAS_VALUE and NO_VALUE test presence. An operator not in this list
  never holds (the service documents that too), which skips its rule.
- A CONDITIONAL field without readable ``ConditionalBehavior`` is treated as OPTIONAL.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .registration_contract import FieldValue

# FieldType
SELECT = "SELECT"
TEXT = "TEXT"
ATTACHMENT = "ATTACHMENT"
# FieldRequirement and the behaviours ConditionalBehavior resolves to
REQUIRED = "REQUIRED"
CONDITIONAL = "CONDITIONAL"
OPTIONAL = "OPTIONAL"
DISALLOWED = "DISALLOWED"
BEHAVIORS = (REQUIRED, OPTIONAL, DISALLOWED)

#: CloudFormation shows at most 256 characters of a reason.
MAX_REASON_CHARS = 250
#: How many of a SELECT field's options a rule lists.
SHOWN_OPTIONS = 8

Definition = Mapping[str, Any]


class Problem(NamedTuple):
    """One broken rule: the field path and the rule in words (never the value)."""

    path: str
    rule: str


class Resolution(NamedTuple):
    """What a field's requirement resolves to for the values at hand."""

    behavior: str
    #: A matching rule's ConditionalValidation (overrides of the field's own validation).
    overrides: Mapping[str, Any]
    #: The field paths the decision depended on.
    depends_on: tuple[str, ...]


def check_fields(
    definitions: Sequence[Definition],
    values: Mapping[str, FieldValue],
    *,
    submit: bool,
    registration_type: str | None = None,
    unknown: Collection[str] = (),
) -> list[Problem]:
    """Every problem of ``values`` under ``definitions``; empty when the values pass.

    ``values`` are the values the registration will hold (path -> value); ``submit`` says
    whether it is to be submitted, which makes REQUIRED fields (plain or resolved) mandatory.
    ``unknown`` are paths whose values are known only on deploy (CDK tokens, at synth): they
    count as present, their values are not checked, and nothing whose requirement depends on
    them is judged.
    """
    index = {str(d.get("FieldPath")): d for d in definitions if d.get("FieldPath")}
    deferred = set(unknown)
    problems: list[Problem] = []
    for path, value in values.items():
        definition = index.get(path)
        if definition is None:
            problems.append(Problem(path, _unknown_path_rule(path, index, registration_type)))
            continue
        resolution = resolve(definition, values)
        if deferred.intersection(resolution.depends_on):
            continue
        if resolution.behavior == DISALLOWED:
            problems.append(Problem(path, _disallowed_rule(resolution)))
            continue
        if path not in deferred:
            problems.extend(check_value(definition, value, resolution.overrides))
    if submit:
        for path, definition in index.items():
            if path in values:
                continue
            resolution = resolve(definition, values)
            if resolution.behavior == REQUIRED and not deferred.intersection(resolution.depends_on):
                problems.append(Problem(path, _required_rule(resolution)))
    return problems


def resolve(definition: Definition, values: Mapping[str, FieldValue]) -> Resolution:
    """The field's behaviour (REQUIRED, OPTIONAL or DISALLOWED) given the other values."""
    requirement = definition.get("FieldRequirement")
    if requirement in (REQUIRED, OPTIONAL):
        return Resolution(str(requirement), {}, ())
    behavior = definition.get("ConditionalBehavior")
    if requirement != CONDITIONAL or not isinstance(behavior, Mapping):
        return Resolution(OPTIONAL, {}, ())
    rules = [rule for rule in behavior.get("Rules") or [] if isinstance(rule, Mapping)]
    for rule in rules:
        conditions = [c for c in rule.get("Conditions") or [] if isinstance(c, Mapping)]
        if all(condition_holds(condition, values) for condition in conditions):
            overrides = rule.get("ConditionalValidation")
            return Resolution(
                _behavior(rule.get("RuleBehavior")),
                overrides if isinstance(overrides, Mapping) else {},
                _dependencies(conditions),
            )
    every_condition = [
        c for rule in rules for c in rule.get("Conditions") or [] if isinstance(c, Mapping)
    ]
    return Resolution(
        _behavior(behavior.get("DefaultBehavior")), {}, _dependencies(every_condition)
    )


def condition_holds(condition: Mapping[str, Any], values: Mapping[str, FieldValue]) -> bool:
    """Whether one FieldCondition holds for the values (see the module's notes)."""
    dependency = values.get(str(condition.get("DependsOnFieldPath")))
    present = dependency is not None
    got = set(dependency.strings) if dependency is not None else set()
    expected = {str(value) for value in condition.get("Values") or []}
    operator = condition.get("Operator")
    if operator == "EQUALS":
        return present and got == expected
    if operator == "NOT_EQUALS":
        return not (present and got == expected)
    if operator == "IN":
        return bool(got & expected)
    if operator == "NOT_IN":
        return not got & expected
    if operator == "HAS_VALUE":
        return present
    if operator == "NO_VALUE":
        return not present
    return False


def check_value(
    definition: Definition, value: FieldValue, overrides: Mapping[str, Any] | None = None
) -> list[Problem]:
    """The problems of one value against its definition (kind, choices, length, pattern)."""
    field_type = definition.get("FieldType")
    overrides = overrides or {}
    path = value.path
    if field_type == ATTACHMENT:
        if value.attachment_id is None:
            return [
                Problem(path, "is an ATTACHMENT field: give an attachment, not text or choices")
            ]
        return []
    if value.attachment_id is not None and field_type in (SELECT, TEXT):
        return [Problem(path, f"is a {field_type} field: give text, not an attachment")]
    if field_type == SELECT:
        return _check_select(definition, value, overrides)
    if field_type == TEXT:
        if value.choices is not None:
            return [Problem(path, "is a TEXT field: give one string, not a list of choices")]
        return _check_text(definition, value.text or "", path, overrides)
    return []  # a field type this release does not know: the service checks it


def _check_select(
    definition: Definition, value: FieldValue, overrides: Mapping[str, Any]
) -> list[Problem]:
    choices = value.choices if value.choices is not None else (value.text or "",)
    validation = _mapping(definition.get("SelectValidation"))
    options = [str(o) for o in overrides.get("AllowedValues") or validation.get("Options") or []]
    problems: list[Problem] = []
    if options:
        for position, choice in enumerate(choices, start=1):
            if choice not in options:
                which = "the choice" if len(choices) == 1 else f"choice {position}"
                problems.append(
                    Problem(value.path, f"{which} is not among the options ({_shown(options)})")
                )
    low, high = _int(validation.get("MinChoices")), _int(validation.get("MaxChoices"))
    if (low is not None and len(choices) < low) or (high is not None and len(choices) > high):
        problems.append(
            Problem(value.path, f"takes {_range(low, high, 'choice')}, got {len(choices)}")
        )
    return problems


def _check_text(
    definition: Definition, text: str, path: str, overrides: Mapping[str, Any]
) -> list[Problem]:
    validation = {**_mapping(definition.get("TextValidation")), **overrides}
    problems: list[Problem] = []
    low, high = _int(validation.get("MinLength")), _int(validation.get("MaxLength"))
    if (low is not None and len(text) < low) or (high is not None and len(text) > high):
        problems.append(
            Problem(path, f"must be {_range(low, high, 'character')} long, got {len(text)}")
        )
    pattern = validation.get("Pattern")
    if isinstance(pattern, str) and pattern:
        try:
            compiled = re.compile(pattern)
        except re.error:
            compiled = None  # a dialect Python does not read: the service checks it
        if compiled is not None and compiled.fullmatch(text) is None:
            problems.append(Problem(path, f"does not match the pattern {pattern}"))
    return problems


def failure_reason(
    problems: Sequence[Problem],
    registration_type: str | None = None,
    *,
    suffix: str = "",
    limit: int = MAX_REASON_CHARS,
) -> str:
    """A FAILED reason: the count and the paths first ("3 fields break ...: a.b, c.d, e.f").

    One problem also gets its rule; many get as many paths as fit within ``limit``
    characters, then how many more. ``suffix`` (like "; nothing written") is always kept.
    """
    paths = list(dict.fromkeys(problem.path for problem in problems))
    count = len(paths)
    subject = (
        f"the rules of {registration_type}"
        if registration_type
        else ("the registration type's rules")
    )
    head = f"{count} field{'s' if count != 1 else ''} break{'s' if count == 1 else ''} {subject}: "
    room = limit - len(suffix)
    if count == 1:
        rules = "; ".join(problem.rule for problem in problems)
        return _cut(f"{head}{paths[0]} ({rules})", room) + suffix
    shown: list[str] = []
    for position, path in enumerate(paths):
        rest = count - position - 1
        more = f", and {rest} more (see the log)" if rest else ""
        if len(head) + len(", ".join([*shown, path])) + len(more) > room:
            break
        shown.append(path)
    hidden = count - len(shown)
    more = f", and {hidden} more (see the log)" if hidden else ""
    return _cut(head + ", ".join(shown) + more, room) + suffix


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    """One log line per problem: ``path: rule``."""
    return [f"{problem.path}: {problem.rule}" for problem in problems]


def field_type(definitions: Sequence[Definition], path: str) -> str | None:
    """The FieldType of ``path``, or None when the definitions do not know it."""
    for definition in definitions:
        if definition.get("FieldPath") == path:
            value = definition.get("FieldType")
            return str(value) if value else None
    return None


def requirement(definitions: Sequence[Definition], path: str) -> str | None:
    """The FieldRequirement of ``path``, or None when the definitions do not know it."""
    for definition in definitions:
        if definition.get("FieldPath") == path:
            value = definition.get("FieldRequirement")
            return str(value) if value else None
    return None


def _unknown_path_rule(
    path: str, index: Mapping[str, Definition], registration_type: str | None
) -> str:
    owner = registration_type or "this registration type"
    if not index:
        return f"is not a field of {owner}, which has no fields"
    nearest = difflib.get_close_matches(path, list(index), n=1, cutoff=0.0)
    return f"is not a field of {owner}; nearest known path: {nearest[0]}"


def _disallowed_rule(resolution: Resolution) -> str:
    because = f" given {', '.join(resolution.depends_on)}" if resolution.depends_on else ""
    return f"is not allowed{because}: remove it (a version that sends it is denied)"


def _required_rule(resolution: Resolution) -> str:
    because = f" given {', '.join(resolution.depends_on)}" if resolution.depends_on else ""
    return f"is required{because} before submit"


def _behavior(value: object) -> str:
    return str(value) if value in BEHAVIORS else OPTIONAL


def _dependencies(conditions: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            str(c.get("DependsOnFieldPath")) for c in conditions if c.get("DependsOnFieldPath")
        )
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _range(low: int | None, high: int | None, unit: str) -> str:
    if low is not None and low == high:
        return f"exactly {low} {unit}{'' if low == 1 else 's'}"
    if high is None:
        return f"at least {low} {unit}{'' if low == 1 else 's'}"
    if low is None:
        return f"at most {high} {unit}{'' if high == 1 else 's'}"
    return f"{low}-{high} {unit}s"


def _shown(options: Sequence[str]) -> str:
    listed = ", ".join(options[:SHOWN_OPTIONS])
    return listed + (
        f", ... {len(options) - SHOWN_OPTIONS} more" if len(options) > SHOWN_OPTIONS else ""
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."
