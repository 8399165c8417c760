"""``scaffold --brand-profile PROFILE.json TYPE...``: Registrations filled from a brand profile.

PROFILE.json names the profile's attributes (``read_profile``: the output of ``aws
end-user-messaging list-brand-profile-attributes``, a JSON list of names, or ``{"attributes":
{NAME: KIND}}``); values are never read. ``render`` writes a Python module: a ``Construct``
that declares the ``BrandProfile`` (a TODO placeholder per attribute) and one ``Registration``
per type, each field an attribute maps to filled with ``profile.attribute(NAME)``
(``match_field``: the attribute named like the field's path, else like its last segment, else
a synonym from ``SYNONYMS``; the kinds must fit), the others as TODO comments, REQUIRED first.
The mapping is a name match made offline, not the service's smartMatch. Same inputs, same
bytes. Standard library only; see docs/scaffold.md.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cdk_sms_registration_handler.registration_contract import RegistrationValidationError
from cdk_sms_registration_handler.registration_rules import ATTACHMENT, REQUIRED, SELECT, TEXT

from .definitions import RegistrationDefinitions, TypeDefinitions
from .scaffold import _describe, _hints, _mapping, _one_line, _placeholder, _requirement

#: The kinds of a brand profile attribute (the API's ``attributeType``).
IMAGE = "IMAGE"
DOCUMENT = "DOCUMENT"
ATTRIBUTE_KINDS = (TEXT, IMAGE, DOCUMENT)
#: What PROFILE.json may be; every error about the file names them.
PROFILE_SHAPES = (
    "expected the output of `aws end-user-messaging list-brand-profile-attributes` "
    '({"brandProfileAttributes": [{"attributeName": NAME, "attributeType": KIND}, ...]}), '
    'a JSON list of attribute names, or {"attributes": {NAME: KIND}} '
    "(KIND: TEXT, IMAGE, DOCUMENT or null)"
)

#: The match rules, strongest first.
BY_PATH = "path"
BY_SEGMENT = "segment"
BY_SYNONYM = "synonym"

#: Field path's last segment -> attribute names that fill it, preferred first (compared
#: case-insensitively, like every name here). Only TEXT and ATTACHMENT fields: a SELECT field is
#: filled only by a TEXT attribute named like it (its value must be one of the choices, which
#: no name promises). Keys are last segments of the shipped sample definitions' fields (a test
#: keeps them so); a name that may hold another format (``country``, ``address``) is left out.
SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = {
    # companyInfo
    "companyName": (
        "legalName",
        "legalCompanyName",
        "companyLegalName",
        "businessName",
        "organizationName",
    ),
    "website": ("url", "websiteUrl", "companyWebsite", "homepage"),
    "address1": ("addressLine1", "streetAddress", "street"),
    "address2": ("addressLine2",),
    "city": ("town", "locality"),
    "state": ("stateOrProvince", "province"),
    "zipCode": ("postalCode", "postcode", "zip"),
    "isoCountryCode": ("countryCode",),
    "businessRegistrationNumber": (
        "registrationNumber",
        "companyRegistrationNumber",
        "companyNumber",
    ),
    "taxIdIssuingCountry": ("taxIdCountry", "taxCountry"),
    "taxId": ("ein", "taxIdentificationNumber", "taxNumber"),
    "stockSymbol": ("tickerSymbol", "ticker"),
    # contactInfo
    "firstName": ("contactFirstName", "givenName"),
    "lastName": ("contactLastName", "familyName", "surname"),
    "email": ("contactEmail", "emailAddress"),
    "supportEmail": ("supportEmailAddress", "contactEmail", "email", "emailAddress"),
    "businessContactEmail": ("businessEmail", "businessEmailAddress"),
    "phoneNumber": ("contactPhoneNumber", "contactPhone", "phone"),
    "supportPhoneNumber": (
        "supportPhone",
        "contactPhoneNumber",
        "contactPhone",
        "phoneNumber",
        "phone",
    ),
    # messagingUseCase
    "useCaseDetails": ("useCaseDescription",),
    "optInDescription": ("optInProcess", "optInWorkflow"),
    "optInImage": ("optInScreenshot", "optInProof"),
    "privacyPolicyUrl": ("privacyPolicy", "privacyPolicyLink", "privacyUrl"),
    "termsAndConditionsUrl": (
        "termsUrl",
        "termsAndConditions",
        "termsOfServiceUrl",
        "termsOfService",
    ),
    "supportingDocument": ("letterOfAuthorization", "loa", "supportingDocumentation"),
    # messageSamples
    "messageSample1": ("sampleMessage1", "sampleMessage"),
    "messageSample2": ("sampleMessage2",),
    "messageSample3": ("sampleMessage3",),
}

#: The class the module defines, and the construct IDs it uses.
CLASS_NAME = "BrandRegistrations"
PROFILE_ID = "BrandProfile"
#: ruff's and black's default line length: code lines are kept within it, or split where
#: ``ruff format`` splits them with a trailing comma that keeps them split at any length.
_LINE = 88


@dataclass(frozen=True)
class ProfileAttribute:
    """An attribute of the brand profile: its name and kind (None when the file gave none)."""

    name: str
    kind: str | None

    @property
    def kind_text(self) -> str:
        """The kind as the output names it."""
        return self.kind or "kind not given, taken as TEXT"


@dataclass(frozen=True)
class Match:
    """The attribute that fills a field, and the rule that chose it."""

    attribute: ProfileAttribute
    rule: str


# ----------------------------------------------------------------------------- PROFILE.json


def read_profile(path: str | Path) -> list[ProfileAttribute]:
    """The attributes PROFILE.json names, sorted by name; anything else raises, in one line.

    Errors name the file and the accepted shapes, never a value the file holds.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a BOM (PowerShell's) is fine
    except FileNotFoundError:
        raise _bad(path, "no such file") from None
    except IsADirectoryError:
        raise _bad(path, "is a folder, not a file") from None
    except UnicodeDecodeError:
        raise _bad(path, "not UTF-8 text") from None
    except OSError as error:
        raise _bad(path, f"cannot be read ({type(error).__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(path, f"not JSON (line {error.lineno}, column {error.colno})") from None
    attributes = _attributes(path, data)
    if not attributes:
        raise _bad(path, "names no attributes")
    seen: set[str] = set()
    for attribute in attributes:
        if attribute.name in seen:
            raise _bad(path, f"names the attribute {_quoted(attribute.name)} twice")
        seen.add(attribute.name)
    return sorted(attributes, key=lambda a: (a.name.casefold(), a.name))


def _attributes(path: str | Path, data: object) -> list[ProfileAttribute]:
    """The attributes of one of the three shapes (see ``PROFILE_SHAPES``)."""
    if isinstance(data, list):
        return [
            ProfileAttribute(_name(path, item, f"item {i}"), None) for i, item in enumerate(data)
        ]
    if not isinstance(data, Mapping):
        raise _bad(path, "not a brand profile's attributes")
    if "brandProfileAttributes" in data and "attributes" in data:
        raise _bad(path, "has both brandProfileAttributes and attributes")
    if "brandProfileAttributes" in data:
        if data.get("nextToken") or data.get("NextToken"):
            raise _bad(
                path,
                "is one page of the attributes (it has a next token): write every page, "
                "as `aws end-user-messaging list-brand-profile-attributes` does without "
                "--max-items",
            )
        entries = data["brandProfileAttributes"]
        if not isinstance(entries, list):
            raise _bad(path, "brandProfileAttributes is not a list")
        found = []
        for i, entry in enumerate(entries):
            where = f"brandProfileAttributes[{i}]"
            if not isinstance(entry, Mapping):
                raise _bad(path, f"{where} is not an object")
            name = _name(path, entry.get("attributeName"), f"{where}.attributeName")
            found.append(ProfileAttribute(name, _kind(path, entry.get("attributeType"), name)))
        return found
    if "attributes" in data:
        kinds = data["attributes"]
        if not isinstance(kinds, Mapping):
            raise _bad(path, "attributes is not an object of NAME: KIND")
        return [
            ProfileAttribute(_name(path, name, "a key of attributes"), _kind(path, kind, name))
            for name, kind in kinds.items()
        ]
    raise _bad(path, "not a brand profile's attributes")


def _name(path: str | Path, value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, f"{where} is not an attribute name (a non-empty string)")
    return value


def _kind(path: str | Path, value: object, name: str) -> str | None:
    """TEXT, IMAGE, DOCUMENT (any case) or None; the bad value itself is never shown."""
    if value is None:
        return None
    kind = value.upper() if isinstance(value, str) else None
    if kind not in ATTRIBUTE_KINDS:
        raise _bad(path, f"the kind of {_quoted(name)} is not TEXT, IMAGE, DOCUMENT or null")
    return kind


def _bad(path: str | Path, problem: str) -> RegistrationValidationError:
    return RegistrationValidationError(f"{path}: {problem}; {PROFILE_SHAPES}")


def _quoted(name: str) -> str:
    return json.dumps(name)


def literal(text: str) -> str:
    """A Python string literal of ``text`` as ``ruff format`` leaves it (ASCII, escaped).

    Double quotes, unless the text holds more double than single quotes.
    """
    body = json.dumps(text)[1:-1]
    if text.count('"') > text.count("'"):
        return "'" + body.replace('\\"', '"').replace("'", "\\'") + "'"
    return f'"{body}"'


# ----------------------------------------------------------------------------- mapping


def fits(attribute: ProfileAttribute, definition: Mapping[str, Any]) -> bool:
    """Whether the attribute's kind can fill the field's kind (any rule)."""
    kind = definition.get("FieldType")
    if kind == ATTACHMENT:
        return attribute.kind in (IMAGE, DOCUMENT)
    if kind == TEXT or (kind == SELECT and _one_choice(definition)):
        return attribute.kind in (TEXT, None)
    return False


def match_field(
    definition: Mapping[str, Any], attributes: Sequence[ProfileAttribute]
) -> Match | None:
    """The attribute that fills the field, or None.

    In order: an attribute named like the field's path, then like its last segment, then (TEXT
    and ATTACHMENT fields only) each of ``SYNONYMS[segment]`` in turn; names compared
    case-insensitively, the same-case name first among equals, then the sorted first. Only an
    attribute whose kind fits the field counts (``fits``).
    """
    path = str(definition.get("FieldPath"))
    segment = path.rsplit(".", 1)[-1]
    candidates = [a for a in attributes if fits(a, definition)]
    tries: list[tuple[str, str]] = [(BY_PATH, path), (BY_SEGMENT, segment)]
    if definition.get("FieldType") != SELECT:
        tries += [(BY_SYNONYM, name) for name in _synonyms(segment)]
    for rule, name in tries:
        named = [a for a in candidates if a.name.casefold() == name.casefold()]
        if named:
            best = min(named, key=lambda a: (a.name != name, a.name))
            return Match(best, rule)
    return None


def near_misses(
    definition: Mapping[str, Any], attributes: Sequence[ProfileAttribute]
) -> list[ProfileAttribute]:
    """Attributes a rule names for the field whose kind does not fit it (said in its TODO)."""
    path = str(definition.get("FieldPath"))
    segment = path.rsplit(".", 1)[-1]
    names = {n.casefold() for n in (path, segment, *_synonyms(segment))}
    return [a for a in attributes if a.name.casefold() in names and not fits(a, definition)]


def _synonyms(segment: str) -> tuple[str, ...]:
    for key, names in SYNONYMS.items():
        if key.casefold() == segment.casefold():
            return names
    return ()


def _one_choice(definition: Mapping[str, Any]) -> bool:
    return _mapping(definition.get("SelectValidation")).get("MaxChoices") == 1


# ----------------------------------------------------------------------------- the module


def render(
    definitions: RegistrationDefinitions,
    registration_types: Sequence[str],
    attributes: Sequence[ProfileAttribute],
    *,
    profile_file: str,
    definitions_file: str | None,
) -> str:
    """The Python module: the profile and one Registration per type (see the module's notes).

    ``definitions_file`` is the snapshot's path as given (None: the shipped samples).
    """
    found = [definitions.of(name) for name in registration_types]
    matches = {
        (t.registration_type, str(f.get("FieldPath"))): match_field(f, attributes)
        for t in found
        for f in t.fields
    }
    uses: dict[str, list[str]] = {a.name: [] for a in attributes}
    for (registration_type, path), match in matches.items():
        if match is not None:
            uses[match.attribute.name].append(f"{registration_type} {path}")
    attachment_attributes = any(a.kind in (IMAGE, DOCUMENT) for a in attributes)
    attachment_todos = any(
        f.get("FieldType") == ATTACHMENT
        and matches[(t.registration_type, str(f.get("FieldPath")))] is None
        for t in found
        for f in t.fields
    )
    names = ["BrandProfile", "Registration", "RegistrationDefinitions"]
    if attachment_attributes:
        names.insert(0, "AttachmentSource")
    command = [
        "python -m cdk_sms_registration scaffold --brand-profile",
        shlex.quote(profile_file),
        "--sample"
        if definitions_file is None
        else f"--definitions {shlex.quote(definitions_file)}",
        *registration_types,
    ]
    lines = [
        "# Registrations filled from a brand profile's attributes, written by",
        f"#   {_one_line(' '.join(command))}",
        f"# Definitions: {_source(definitions)}.",
        "# The profile file gave attribute names and kinds: no value was read.",
        "# A field is filled when an attribute is named like its path, its last segment or a",
        "# synonym (docs/scaffold.md) and its kind fits: a guess by name, not the service's",
        "# smartMatch. Review each filled field, give each profile attribute its value, fill",
        "# the TODO fields (REQUIRED first), then set submit=True.",
        f"# Use: {CLASS_NAME}(stack, {literal(CLASS_NAME)}) in a stack of your app.",
    ]
    if attachment_todos and not attachment_attributes:
        lines.append(
            "# ATTACHMENT fields take a RegistrationAttachment or an AttachmentSource (import "
            "it from cdk_sms_registration)."
        )
    lines += [
        *_import("cdk_sms_registration", names),
        "from constructs import Construct",
        "",
        "",
        f"class {CLASS_NAME}(Construct):",
        '    """The brand profile and the registrations it fills."""',
        "",
        "    def __init__(self, scope: Construct, construct_id: str) -> None:",
        "        super().__init__(scope, construct_id)",
        *_call(
            8,
            "definitions = RegistrationDefinitions."
            + ("from_sample" if definitions_file is None else "from_file"),
            [literal(n) for n in registration_types]
            if definitions_file is None
            else [literal(definitions_file)],
        ),
        "        profile = BrandProfile(",
        "            self,",
        f"            {literal(PROFILE_ID)},",
        '            name="TODO",',
        "            attributes={",
    ]
    for attribute in attributes:
        lines.extend(_attribute_lines(attribute, uses[attribute.name]))
    lines += ["            },", "        )", "        self.profile = profile"]
    for type_definitions in found:
        lines.extend(_registration_lines(type_definitions, matches, attributes))
    return "\n".join(lines) + "\n"


def _source(definitions: RegistrationDefinitions) -> str:
    if definitions.is_sample:
        return _one_line(definitions.source)
    return _one_line(f"{definitions.source} ({definitions.region}, taken {definitions.taken_at})")


def _attribute_lines(attribute: ProfileAttribute, uses: Sequence[str]) -> list[str]:
    """The attribute's TODO placeholder, after its kind and the fields it fills."""
    pad = " " * 16
    name = _one_line(attribute.name)
    comments = [f"{pad}# {name}: {attribute.kind_text}"]
    comments += [f"{pad}#   fills {use}" for use in uses] or [
        f"{pad}#   no field of these types takes it"
    ]
    key = literal(attribute.name)
    if attribute.kind in (IMAGE, DOCUMENT):
        return [*comments, *_entry(pad, key, "AttachmentSource.from_file", '"TODO"')]
    return [*comments, f'{pad}{key}: "TODO",']


def _registration_lines(
    found: TypeDefinitions,
    matches: Mapping[tuple[str, str], Match | None],
    attributes: Sequence[ProfileAttribute],
) -> list[str]:
    name = found.registration_type
    title = _hints(found.type_definition).get("Title")
    pad = " " * 16
    filled = [f for f in found.fields if matches[(name, str(f.get("FieldPath")))] is not None]
    todo = [f for f in found.fields if matches[(name, str(f.get("FieldPath")))] is None]
    todo.sort(key=lambda f: _requirement(f) != REQUIRED)  # stable: definition order kept
    lines = [
        f"        # {name}{f': {_one_line(title)}' if title else ''}",
        "        Registration(",
        "            self,",
        f"            {literal(_construct_id(name))},",
        f"            registration_type={literal(name)},",
        "            definitions=definitions,",
        "            submit=False,  # True once every REQUIRED field is filled",
    ]
    if not found.fields:
        lines.append("            fields={},  # the definitions list no fields")
    else:
        lines.append("            fields={")
        if filled:
            lines.append(_rule(pad, "filled from the brand profile"))
        for definition in filled:
            match = matches[(name, str(definition.get("FieldPath")))]
            assert match is not None
            lines.extend(f"{pad}# {line}" for line in _describe(definition) if line)
            lines.append(f"{pad}# from the profile: {_why(match)}")
            if definition.get("FieldType") == SELECT:
                lines.append(f"{pad}# the attribute's value must be one of the choices")
            lines.extend(
                _entry(
                    pad,
                    literal(str(definition.get("FieldPath"))),
                    "profile.attribute",
                    literal(match.attribute.name),
                )
            )
        if todo:
            lines.append(_rule(pad, "TODO: no attribute fills these (REQUIRED first)"))
        for definition in todo:
            path = str(definition.get("FieldPath"))
            kind = str(definition.get("FieldType") or "UNKNOWN")
            lines.append(f"{pad}# TODO {_one_line(path)} ({kind}, {_requirement(definition)})")
            lines.extend(f"{pad}# {line}" for line in _describe(definition) if line)
            what = f"{'an' if kind[:1] in 'AEIOU' else 'a'} {kind} field"
            if kind == SELECT and not _one_choice(definition):
                what += " of several choices"
            for miss in near_misses(definition, attributes):
                lines.append(
                    f"{pad}# not {_one_line(miss.name)}: {miss.kind_text} does not fill {what}"
                )
            lines.append(f"{pad}# {literal(path)}: {_placeholder(definition)},")
        lines.append("            },")
    lines.append("        )")
    return lines


def _rule(pad: str, title: str) -> str:
    head = f"{pad}# ---- {title} "
    return head + "-" * (_LINE - len(head))


def _why(match: Match) -> str:
    attribute = f"{_one_line(match.attribute.name)} ({match.attribute.kind_text})"
    if match.rule == BY_PATH:
        return f"{attribute}, named like the field's path"
    if match.rule == BY_SEGMENT:
        return f"{attribute}, named like the field"
    return f"{attribute}, a synonym of the field's name"


def _construct_id(registration_type: str) -> str:
    """``US_TOLL_FREE_REGISTRATION`` -> ``UsTollFreeRegistration``."""
    return (
        "".join(part.capitalize() for part in registration_type.split("_") if part)
        or "Registration"
    )


def _import(module: str, names: Sequence[str]) -> list[str]:
    """``from module import names`` in one line, or one name a line as ``ruff format`` does."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= _LINE:
        return [line]
    return [f"from {module} import (", *(f"    {n}," for n in names), ")"]


def _entry(pad: str, key: str, callee: str, argument: str) -> list[str]:
    """``key: callee(argument),`` in one line, or split as ``ruff format`` splits it."""
    line = f"{pad}{key}: {callee}({argument}),"
    if len(line) <= _LINE:
        return [line]
    return [f"{pad}{key}: {callee}(", f"{pad}    {argument},", f"{pad}),"]


def _call(indent: int, head: str, arguments: Sequence[str]) -> list[str]:
    """``head(arguments)`` in one line, or one argument a line with a trailing comma."""
    pad = " " * indent
    line = f"{pad}{head}({', '.join(arguments)})"
    if len(line) <= _LINE:
        return [line]
    return [f"{pad}{head}(", *(f"{pad}    {a}," for a in arguments), f"{pad})"]
