"""``scaffold --brand-profile PROFILE.json TYPE...``: the profile file, the mapping, the module.

Runs the command line in-process (``cli.main``) on the shipped sample definitions; one test runs
it as a subprocess to see that it imports neither the CDK nor boto3.
"""

from __future__ import annotations

import ast
import json
import random
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_registration import cli
from cdk_sms_registration.definitions import SAMPLE_FILE, RegistrationDefinitions
from cdk_sms_registration.scaffold_profile import (
    ATTRIBUTE_KINDS,
    BY_PATH,
    BY_SEGMENT,
    BY_SYNONYM,
    PROFILE_SHAPES,
    SYNONYMS,
    ProfileAttribute,
    literal,
    match_field,
    read_profile,
)

from .conftest import REPO

TOLL_FREE = "US_TOLL_FREE_REGISTRATION"
BRAND = "US_TEN_DLC_BRAND_REGISTRATION"
VETTING = "US_TEN_DLC_BRAND_VETTING"
EXAMPLE_PROFILE = REPO / "examples" / "brand-profile-attributes.json"
DOCS = REPO / "docs" / "scaffold.md"
#: Must never appear in any output: it stands for a value a profile file may hold.
PRIVATE_VALUE = "Zebediah Quackenbush"
COMMAND = (sys.executable, "-m", "cdk_sms_registration")


def _listing(*entries: tuple[str, str]) -> dict[str, Any]:
    """What `aws end-user-messaging list-brand-profile-attributes` prints."""
    return {
        "brandProfileAttributes": [
            {
                "attributeName": name,
                "attributeType": kind,
                "category": "company",
                "createdAt": "2026-11-02T10:00:00+00:00",
                "updatedAt": "2026-11-02T10:00:00+00:00",
            }
            for name, kind in entries
        ]
    }


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Any]:
    """Write PROFILE.json (any JSON data, or raw text) and return its path."""
    count = iter(range(100))

    def write(data: object, *, raw: str | None = None) -> str:
        path = tmp_path / f"profile-{next(count)}.json"
        path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
        return str(path)

    yield write


def scaffold(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``python -m cdk_sms_registration scaffold ARGS``: exit code, stdout, stderr."""
    try:
        code = cli.main(["scaffold", *args])
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def module(capsys: pytest.CaptureFixture[str], path: str, *registration_types: str) -> str:
    code, out, err = scaffold(capsys, "--brand-profile", path, "--sample", *registration_types)
    assert code == 0, err
    assert err == ""
    return out


def registration_block(text: str, registration_type: str) -> str:
    """The Registration(...) call of one type, as printed."""
    start = text.index(f'            registration_type="{registration_type}",')
    end = text.index("\n        )", start)
    return text[start:end]


def entries(block: str) -> dict[str, str]:
    """Active ``"path": value,`` entries of a fields block (path -> value text, one line).

    A long entry is split as ruff splits it (``"path": call(\\n    argument,\\n),``).
    """
    joined = re.sub(r"\(\n {20}(.+),\n {16}\),$", r"(\1),", block, flags=re.MULTILINE)
    return dict(re.findall(r'^ {16}"([\w.]+)": (.+),$', joined, flags=re.MULTILINE))


def todos(block: str) -> list[str]:
    """The paths of the TODO entries, in order."""
    return re.findall(r"^ {16}# TODO ([\w.]+) \(", block, flags=re.MULTILINE)


def sample_field(registration_type: str, path: str) -> dict[str, Any]:
    found = RegistrationDefinitions.from_sample(registration_type).of(registration_type)
    return dict(next(f for f in found.fields if f["FieldPath"] == path))


# ----------------------------------------------------------------------------- PROFILE.json


def test_reads_the_list_brand_profile_attributes_output(profile: Any) -> None:
    data = _listing(("website", "TEXT"), ("logo", "IMAGE"), ("loa", "DOCUMENT"))
    data["brandProfileAttributes"][0]["attributeValue"] = PRIVATE_VALUE  # ignored
    data["ResponseMetadata"] = {"HTTPStatusCode": 200}  # boto3's raw response: ignored
    assert read_profile(profile(data)) == [
        ProfileAttribute("loa", "DOCUMENT"),
        ProfileAttribute("logo", "IMAGE"),
        ProfileAttribute("website", "TEXT"),
    ]


def test_reads_a_list_of_names_with_unknown_kinds(profile: Any) -> None:
    assert read_profile(profile(["website", "Logo", "legalName"])) == [
        ProfileAttribute("legalName", None),
        ProfileAttribute("Logo", None),
        ProfileAttribute("website", None),
    ]


def test_reads_a_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(["website"]).encode())
    assert read_profile(path) == [ProfileAttribute("website", None)]


def test_reads_attributes_name_to_kind(profile: Any) -> None:
    path = profile({"attributes": {"website": "text", "logo": "IMAGE", "other": None}})
    assert read_profile(path) == [
        ProfileAttribute("logo", "IMAGE"),
        ProfileAttribute("other", None),
        ProfileAttribute("website", "TEXT"),
    ]


def test_the_listing_shape_is_botocores_model() -> None:
    """The keys read are the ListBrandProfileAttributes output's; the kinds its enum."""
    botocore_session = pytest.importorskip("botocore.session")
    try:
        model = botocore_session.get_session().get_service_model("endusermessaging")
    except Exception:
        pytest.skip("this botocore has no endusermessaging model")
    output = model.operation_model("ListBrandProfileAttributes").output_shape
    assert {"brandProfileAttributes", "nextToken"} <= set(output.members)
    entry = output.members["brandProfileAttributes"].member
    assert {"attributeName", "attributeType"} <= set(entry.members)
    assert "attributeValue" not in entry.members  # the listing holds no values
    assert tuple(entry.members["attributeType"].enum) == ATTRIBUTE_KINDS


BAD_FILES = [
    ("missing", None, "no such file"),
    ("not-json", "{brandProfileAttributes: [", "not JSON (line 1, column 2)"),
    ("not-utf-8", "\udcff", "not UTF-8 text"),
    ("number", "42", "not a brand profile's attributes"),
    ("other-object", '{"names": ["website"]}', "not a brand profile's attributes"),
    ("empty-list", "[]", "names no attributes"),
    ("empty-listing", '{"brandProfileAttributes": []}', "names no attributes"),
    ("not-a-name", '["website", 7]', "item 1 is not an attribute name (a non-empty string)"),
    ("blank-name", '["website", " "]', "item 1 is not an attribute name (a non-empty string)"),
    ("twice", '["website", "website"]', 'names the attribute "website" twice'),
    (
        "entry-without-name",
        '{"brandProfileAttributes": [{"attributeType": "TEXT"}]}',
        "brandProfileAttributes[0].attributeName is not an attribute name",
    ),
    (
        "listing-not-a-list",
        '{"brandProfileAttributes": {"website": "TEXT"}}',
        "brandProfileAttributes is not a list",
    ),
    (
        "one-page",
        json.dumps({**_listing(("website", "TEXT")), "nextToken": "abc"}),
        "is one page of the attributes (it has a next token)",
    ),
    (
        "value-for-kind",
        json.dumps({"attributes": {"legalName": PRIVATE_VALUE}}),
        'the kind of "legalName" is not TEXT, IMAGE, DOCUMENT or null',
    ),
    (
        "attributes-list",
        '{"attributes": ["website"]}',
        "attributes is not an object of NAME: KIND",
    ),
    (
        "both-shapes",
        '{"attributes": {"a": null}, "brandProfileAttributes": []}',
        "has both brandProfileAttributes and attributes",
    ),
]


@pytest.mark.parametrize(("label", "text", "problem"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_profile_file_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    label: str,
    text: str | None,
    problem: str,
) -> None:
    path = tmp_path / f"{label}.json"
    if text is not None:
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code, out, err = scaffold(capsys, "--brand-profile", str(path), "--sample", TOLL_FREE)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {path}: {problem}")
    assert err.count("\n") == 1
    assert err.endswith(f"; {PROFILE_SHAPES}\n")
    assert "Traceback" not in err
    assert PRIVATE_VALUE not in err


def test_a_bad_profile_file_shows_no_traceback_in_a_real_run(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text("{not json", encoding="utf-8")
    done = subprocess.run(
        [*COMMAND, "scaffold", "--brand-profile", str(path), "--sample", TOLL_FREE],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (f"error: {path}: not JSON (line 1, column 2); {PROFILE_SHAPES}\n")


def test_the_accepted_shapes_are_named_in_the_error() -> None:
    assert "aws end-user-messaging list-brand-profile-attributes" in PROFILE_SHAPES
    assert '{"brandProfileAttributes": [{"attributeName": NAME' in PROFILE_SHAPES
    assert "a JSON list of attribute names" in PROFILE_SHAPES
    assert '{"attributes": {NAME: KIND}}' in PROFILE_SHAPES


# ----------------------------------------------------------------------------- mapping rules


def test_full_path_beats_last_segment(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    path = profile(_listing(("firstName", "TEXT"), ("contactInfo.firstName", "TEXT")))
    block = registration_block(module(capsys, path, TOLL_FREE), TOLL_FREE)
    assert '"contactInfo.firstName": profile.attribute("contactInfo.firstName"),' in block
    assert "# from the profile: contactInfo.firstName (TEXT), named like the field's path" in block


def test_last_segment_case_insensitive(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    path = profile(_listing(("WEBSITE", "TEXT"), ("LastName", "TEXT")))
    block = registration_block(module(capsys, path, TOLL_FREE), TOLL_FREE)
    assert entries(block) == {
        "companyInfo.website": 'profile.attribute("WEBSITE")',
        "contactInfo.lastName": 'profile.attribute("LastName")',
    }
    assert "# from the profile: WEBSITE (TEXT), named like the field" in block


def test_last_segment_beats_synonym(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    path = profile(_listing(("companyName", "TEXT"), ("legalName", "TEXT")))
    block = registration_block(module(capsys, path, TOLL_FREE), TOLL_FREE)
    assert '"companyInfo.companyName": profile.attribute("companyName"),' in block


def test_synonym_in_the_tables_order(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    # supportPhoneNumber: supportPhone, contactPhoneNumber, contactPhone, phoneNumber, phone
    path = profile(_listing(("phone", "TEXT"), ("contactPhone", "TEXT"), ("legalName", "TEXT")))
    text = module(capsys, path, TOLL_FREE, BRAND)
    toll_free, brand = registration_block(text, TOLL_FREE), registration_block(text, BRAND)
    assert entries(toll_free) == {
        "companyInfo.companyName": 'profile.attribute("legalName")',
        "contactInfo.supportPhoneNumber": 'profile.attribute("contactPhone")',
    }
    assert "# from the profile: legalName (TEXT), a synonym of the field's name" in toll_free
    # phoneNumber: contactPhoneNumber, contactPhone, phone
    assert entries(brand) == {
        "companyInfo.companyName": 'profile.attribute("legalName")',
        "contactInfo.phoneNumber": 'profile.attribute("contactPhone")',
    }


def test_same_case_wins_among_case_variants() -> None:
    website = sample_field(TOLL_FREE, "companyInfo.website")
    variants = [ProfileAttribute("Website", "TEXT"), ProfileAttribute("website", "TEXT")]
    match = match_field(website, variants)
    assert match is not None and match.attribute.name == "website"
    assert match.rule == BY_SEGMENT
    match = match_field(website, [ProfileAttribute("WEBSITE", "TEXT"), variants[0]])
    assert match is not None and match.attribute.name == "WEBSITE"  # then sorted order


def test_the_rule_names() -> None:
    field = sample_field(TOLL_FREE, "companyInfo.companyName")
    rules = {
        "companyInfo.companyName": BY_PATH,
        "companyname": BY_SEGMENT,
        "LEGALNAME": BY_SYNONYM,
    }
    for name, rule in rules.items():
        match = match_field(field, [ProfileAttribute(name, "TEXT")])
        assert match is not None and match.rule == rule, name
    assert match_field(field, [ProfileAttribute("brandName", "TEXT")]) is None


def test_a_kind_that_does_not_fit_is_not_mapped(
    capsys: pytest.CaptureFixture[str], profile: Any
) -> None:
    path = profile(
        _listing(
            ("website", "IMAGE"),  # TEXT field: no
            ("privacyPolicy", "DOCUMENT"),  # synonym of privacyPolicyUrl (TEXT): no
            ("optInImage", "TEXT"),  # ATTACHMENT field: no
            ("supportingDocument", "DOCUMENT"),  # ATTACHMENT field: yes
        )
    )
    text = module(capsys, path, TOLL_FREE)
    block = registration_block(text, TOLL_FREE)
    assert entries(block) == {
        "messagingUseCase.supportingDocument": 'profile.attribute("supportingDocument")',
    }
    assert "companyInfo.website" in todos(block)
    assert "messagingUseCase.optInImage" in todos(block)
    assert "messagingUseCase.privacyPolicyUrl" in todos(block)
    assert "                # not website: IMAGE does not fill a TEXT field\n" in block
    assert "                # not privacyPolicy: DOCUMENT does not fill a TEXT field\n" in block
    assert "                # not optInImage: TEXT does not fill an ATTACHMENT field\n" in block
    assert (
        '                "messagingUseCase.supportingDocument": profile.attribute(\n'
        '                    "supportingDocument",\n'
        "                ),\n"
    ) in block
    assert '                "website": AttachmentSource.from_file("TODO"),\n' in text
    assert "                #   no field of these types takes it\n" in text


def test_unknown_kinds_are_taken_as_text(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    path = profile(["companyName", "optInImage"])
    text = module(capsys, path, TOLL_FREE)
    block = registration_block(text, TOLL_FREE)
    assert entries(block) == {"companyInfo.companyName": 'profile.attribute("companyName")'}
    assert "messagingUseCase.optInImage" in todos(block)
    assert "                # companyName: kind not given, taken as TEXT\n" in text
    assert '                "optInImage": "TODO",\n' in text
    assert (
        "from cdk_sms_registration import BrandProfile, Registration, RegistrationDefinitions\n"
        in text
    )
    assert "# ATTACHMENT fields take a RegistrationAttachment or an AttachmentSource" in text


def test_select_fields_take_only_a_text_attribute_named_like_them(
    capsys: pytest.CaptureFixture[str], profile: Any
) -> None:
    path = profile(
        _listing(
            ("businessType", "TEXT"),  # one choice: yes
            ("useCaseCategory", "TEXT"),  # 1-3 choices: no
            ("monthlyMessageVolume", "IMAGE"),  # not TEXT: no
        )
    )
    block = registration_block(module(capsys, path, TOLL_FREE), TOLL_FREE)
    assert entries(block) == {"companyInfo.businessType": 'profile.attribute("businessType")'}
    assert "                # the attribute's value must be one of the choices\n" in block
    assert "messagingUseCase.useCaseCategory" in todos(block)
    assert (
        "                # not useCaseCategory: TEXT does not fill a SELECT field of several "
        "choices\n"
    ) in block
    assert (
        "                # not monthlyMessageVolume: IMAGE does not fill a SELECT field\n" in block
    )
    assert "messagingUseCase.monthlyMessageVolume" in todos(block)
    # Never by a synonym, even were a SELECT field's segment in the table.
    select = {**sample_field(TOLL_FREE, "companyInfo.businessType"), "FieldPath": "x.website"}
    assert match_field(select, [ProfileAttribute("url", "TEXT")]) is None
    assert match_field(select, [ProfileAttribute("website", None)]) is not None


# ----------------------------------------------------------------------------- the module


def test_todo_fields_required_first_then_definition_order(
    capsys: pytest.CaptureFixture[str], profile: Any
) -> None:
    path = profile(_listing(("legalName", "TEXT"), ("website", "TEXT"), ("email", "TEXT")))
    block = registration_block(module(capsys, path, BRAND), BRAND)
    assert list(entries(block)) == [
        "companyInfo.companyName",
        "companyInfo.website",  # OPTIONAL, filled: in definition order among the filled
        "contactInfo.email",
    ]
    assert todos(block) == [
        "companyInfo.businessType",
        "companyInfo.taxIdIssuingCountry",
        "companyInfo.taxId",
        "contactInfo.firstName",
        "contactInfo.lastName",
        "contactInfo.phoneNumber",
        "companyInfo.stockSymbol",
        "companyInfo.stockExchange",
        "contactInfo.businessContactEmail",
    ]
    # Each TODO: path, kind, requirement, the definition's rules, a commented-out entry.
    assert (
        "                # TODO companyInfo.taxIdIssuingCountry (TEXT, REQUIRED)\n"
        "                # Tax id issuing country: The tax id issuing country.\n"
        "                # TEXT, REQUIRED, exactly 2 characters, pattern ^[A-Z]{2}$\n"
        '                # "companyInfo.taxIdIssuingCountry": "",\n'
    ) in block
    assert (
        "                # TODO companyInfo.stockExchange (SELECT, CONDITIONAL)\n"
        "                # Stock exchange: The stock exchange.\n"
        "                # SELECT, CONDITIONAL, one choice (a str)\n"
        "                # OPTIONAL when companyInfo.businessType EQUALS PUBLIC_PROFIT\n"
        "                # otherwise DISALLOWED\n"
        "                # choices: NASDAQ, NYSE, AMEX, TSX, LSE, OTHER\n"
        '                # "companyInfo.stockExchange": "",\n'
    ) in block


def test_profile_placeholders_never_values(
    capsys: pytest.CaptureFixture[str], profile: Any
) -> None:
    data = _listing(("website", "TEXT"), ("logo", "IMAGE"), ("legalName", "TEXT"))
    for entry in data["brandProfileAttributes"]:
        entry["attributeValue"] = PRIVATE_VALUE
    text = module(capsys, profile(data), TOLL_FREE, BRAND)
    assert PRIVATE_VALUE not in text
    start = text.index("        profile = BrandProfile(\n")
    end = text.index("        self.profile = profile\n")
    assert text[start:end] == (
        "        profile = BrandProfile(\n"
        "            self,\n"
        '            "BrandProfile",\n'
        '            name="TODO",\n'
        "            attributes={\n"
        "                # legalName: TEXT\n"
        "                #   fills US_TOLL_FREE_REGISTRATION companyInfo.companyName\n"
        "                #   fills US_TEN_DLC_BRAND_REGISTRATION companyInfo.companyName\n"
        '                "legalName": "TODO",\n'
        "                # logo: IMAGE\n"
        "                #   no field of these types takes it\n"
        '                "logo": AttachmentSource.from_file("TODO"),\n'
        "                # website: TEXT\n"
        "                #   fills US_TOLL_FREE_REGISTRATION companyInfo.website\n"
        "                #   fills US_TEN_DLC_BRAND_REGISTRATION companyInfo.website\n"
        '                "website": "TODO",\n'
        "            },\n"
        "        )\n"
    )


def test_several_types_in_one_run(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    path = profile(_listing(("legalName", "TEXT"), ("email", "TEXT")))
    text = module(capsys, path, TOLL_FREE, BRAND, VETTING)
    assert re.findall(r'^            "(\w+)",$', text, flags=re.MULTILINE) == [
        TOLL_FREE,  # from_sample(...)'s arguments
        BRAND,
        VETTING,
        "BrandProfile",
        "UsTollFreeRegistration",
        "UsTenDlcBrandRegistration",
        "UsTenDlcBrandVetting",
    ]
    assert entries(registration_block(text, TOLL_FREE)) == {
        "companyInfo.companyName": 'profile.attribute("legalName")',
        "contactInfo.supportEmail": 'profile.attribute("email")',  # a synonym
    }
    assert entries(registration_block(text, BRAND)) == {
        "companyInfo.companyName": 'profile.attribute("legalName")',
        "contactInfo.email": 'profile.attribute("email")',  # the last segment
    }
    assert registration_block(text, VETTING).endswith(
        "            fields={},  # the definitions list no fields"
    )


def test_a_snapshot_file_is_read_and_named(
    capsys: pytest.CaptureFixture[str], profile: Any, tmp_path: Path
) -> None:
    snapshot = tmp_path / "registration-definitions.json"
    shutil.copy(SAMPLE_FILE, snapshot)
    path = profile(["legalName"])
    code, out, err = scaffold(
        capsys, "--brand-profile", path, "--definitions", str(snapshot), BRAND
    )
    assert code == 0, err
    assert f"# Definitions: {snapshot} (sample, taken 2026-12-07T00:00:00Z).\n" in out
    assert (
        "        definitions = RegistrationDefinitions.from_file(\n"
        f'            "{snapshot}",\n'
        "        )\n"
    ) in out
    assert f"--brand-profile {path} --definitions {snapshot} {BRAND}\n" in out


def test_same_inputs_same_bytes(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    names = ["legalName", "website", "logo", "email", "phone", "businessType", "zip"]
    kinds = {"logo": "IMAGE"}
    listing = [(n, kinds.get(n, "TEXT")) for n in names]
    first = module(capsys, profile(_listing(*listing)), TOLL_FREE, BRAND)
    shuffled = listing[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != listing
    again = module(capsys, profile(_listing(*shuffled)), TOLL_FREE, BRAND)
    # Only the file's name (in the header's command) differs.
    assert again.replace("profile-1.json", "profile-0.json") == first
    assert (
        module(capsys, profile(_listing(*listing)), TOLL_FREE, BRAND).replace(
            "profile-2.json", "profile-0.json"
        )
        == first
    )


# ----------------------------------------------------------------------------- valid Python


ALLOWED_MODULES = {"cdk_sms_registration", "constructs", "aws_cdk"}


def _imports(text: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            found.add(str(node.module).split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


class _Recorder:
    """Stand-ins for the constructs: each call is recorded (BrandProfile does not exist yet)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        recorder = self

        class Construct:
            def __init__(self, scope: object, construct_id: str) -> None:
                self.scope, self.construct_id = scope, construct_id

        class BrandProfile:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                recorder.calls.append(("BrandProfile", args[1:], kwargs))

            def attribute(self, name: str) -> str:
                return f"<attribute {name}>"

        def registration(*args: Any, **kwargs: Any) -> None:
            recorder.calls.append(("Registration", args[1:], kwargs))

        class RegistrationDefinitions:
            @staticmethod
            def from_sample(*names: str) -> str:
                return f"<samples {' '.join(names)}>"

        class AttachmentSource:
            @staticmethod
            def from_file(path: str) -> str:
                return f"<file {path}>"

        self.library = types.ModuleType("cdk_sms_registration")
        self.library.__dict__.update(
            BrandProfile=BrandProfile,
            Registration=registration,
            RegistrationDefinitions=RegistrationDefinitions,
            AttachmentSource=AttachmentSource,
        )
        self.constructs = types.ModuleType("constructs")
        self.constructs.__dict__.update(Construct=Construct)


def test_the_module_is_python_and_declares_what_it_says(
    capsys: pytest.CaptureFixture[str], profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = profile(_listing(("legalName", "TEXT"), ("optInScreenshot", "IMAGE")))
    text = module(capsys, path, TOLL_FREE, VETTING)
    code = compile(text, "brand_registrations.py", "exec")
    assert _imports(text) <= ALLOWED_MODULES
    recorder = _Recorder()
    monkeypatch.setitem(sys.modules, "cdk_sms_registration", recorder.library)
    monkeypatch.setitem(sys.modules, "constructs", recorder.constructs)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    namespace["BrandRegistrations"](object(), "Brand")
    assert recorder.calls == [
        (
            "BrandProfile",
            ("BrandProfile",),
            {
                "name": "TODO",
                "attributes": {"legalName": "TODO", "optInScreenshot": "<file TODO>"},
            },
        ),
        (
            "Registration",
            ("UsTollFreeRegistration",),
            {
                "registration_type": TOLL_FREE,
                "definitions": f"<samples {TOLL_FREE} {VETTING}>",
                "submit": False,
                "fields": {
                    "companyInfo.companyName": "<attribute legalName>",
                    "messagingUseCase.optInImage": "<attribute optInScreenshot>",
                },
            },
        ),
        (
            "Registration",
            ("UsTenDlcBrandVetting",),
            {
                "registration_type": VETTING,
                "definitions": f"<samples {TOLL_FREE} {VETTING}>",
                "submit": False,
                "fields": {},
            },
        ),
    ]


def _ruff() -> str:
    ruff = Path(sys.executable).parent / "ruff"
    found = str(ruff) if ruff.exists() else shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed")
    return found


ODD_NAMES = {
    "attributes": {
        'we"ird': "TEXT",
        'it\'s "x" "y"': None,
        "café": "IMAGE",
        "messagingUseCase.termsAndConditionsUrlWithAVeryLongNameIndeed": "DOCUMENT",
        "contactInfo.supportPhoneNumber": "TEXT",
        "messagingUseCase.termsAndConditionsUrl": "TEXT",
        "optInScreenshot": "IMAGE",
    }
}


@pytest.mark.parametrize("data", [ODD_NAMES, ["legalName"]], ids=["odd-names", "one-name"])
def test_the_module_is_ruff_format_stable_and_lint_clean(
    capsys: pytest.CaptureFixture[str], profile: Any, data: object, tmp_path: Path
) -> None:
    """As a user's project sees it (run outside this repository, whose constructs/ folder
    would make ``constructs`` look first-party to isort)."""
    text = module(capsys, profile(data), TOLL_FREE, BRAND, VETTING)
    compile(text, "brand_registrations.py", "exec")
    ruff = _ruff()
    for length in ("88", "100"):
        formatted = subprocess.run(
            [ruff, "format", "--isolated", "--line-length", length, "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert formatted.returncode == 0, formatted.stderr
        assert formatted.stdout == text, f"ruff format --line-length {length} changes it"
    checked = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E4,E7,E9,F,I", "--stdin-filename", "m.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout
    code_lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert all(line.isascii() for line in code_lines)


def test_literals_are_as_ruff_leaves_them() -> None:
    assert literal("website") == '"website"'
    assert literal('we"ird') == "'we\"ird'"
    assert literal("it's") == '"it\'s"'
    assert literal("café") == '"caf\\u00e9"'
    for text in ('we"ird', 'it\'s "x" "y"', "a\\b", 'x\\"y', "tab\there"):
        assert ast.literal_eval(literal(text)) == text


# ----------------------------------------------------------------------------- the command


def test_several_types_need_brand_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = scaffold(capsys, "--sample", TOLL_FREE, BRAND)
    assert (code, out) == (2, "")
    assert err == (
        "error: scaffold prints one TYPE's fields block; several TYPEs need --brand-profile "
        "PROFILE.json (or run scaffold once per TYPE)\n"
    )


def test_a_type_given_twice_is_refused(capsys: pytest.CaptureFixture[str], profile: Any) -> None:
    path = profile(["legalName"])
    code, out, err = scaffold(capsys, "--brand-profile", path, "--sample", BRAND, TOLL_FREE, BRAND)
    assert (code, out, err) == (2, "", f"error: {BRAND} given more than once\n")


def test_an_unknown_type_is_the_definitions_error(
    capsys: pytest.CaptureFixture[str], profile: Any
) -> None:
    code, out, err = scaffold(capsys, "--brand-profile", profile(["a"]), "--sample", "US_NOPE")
    assert (code, out) == (2, "")
    assert err.startswith("error: no sample definitions of US_NOPE; samples exist for ")


def test_without_brand_profile_the_block_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = scaffold(capsys, TOLL_FREE, "--sample")
    assert code == 0, err
    assert out.startswith(
        "# US_TOLL_FREE_REGISTRATION: US toll-free number registration\n"
        "# From the SAMPLE definitions shipped with cdk-sms-registration"
    )
    assert "fields={\n" in out and out.endswith("}\n")
    assert "BrandProfile" not in out and "profile.attribute" not in out


def test_help_names_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no line breaks inside the command's name
    code, out, _ = scaffold(capsys, "--help")
    assert code == 0
    assert "--brand-profile PROFILE.json" in out
    assert "list-brand-profile-attributes" in out
    assert "TYPE [TYPE ...]" in out


def test_it_imports_neither_the_cdk_nor_boto3(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(["legalName"]), encoding="utf-8")
    code = (
        "import sys\n"
        "from cdk_sms_registration import cli\n"
        f"cli.main(['scaffold', '--brand-profile', {str(path)!r}, '--sample', {TOLL_FREE!r}])\n"
        "assert 'aws_cdk' not in sys.modules and 'boto3' not in sys.modules, 'imported'\n"
        "assert 'botocore' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ast.parse(done.stdout)


# ----------------------------------------------------------------------------- the table, docs


def test_synonyms_fit_the_sample_definitions() -> None:
    samples = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))["RegistrationTypes"]
    segments = {
        f["FieldPath"].rsplit(".", 1)[-1]
        for entry in samples.values()
        for f in entry["FieldDefinitions"]
        if f["FieldType"] in ("TEXT", "ATTACHMENT")
    }
    assert set(SYNONYMS) <= segments
    assert len({key.casefold() for key in SYNONYMS}) == len(SYNONYMS)
    for key, names in SYNONYMS.items():
        folded = [name.casefold() for name in names]
        assert len(set(folded)) == len(folded), key
        assert key.casefold() not in folded, key


def test_the_docs_table_is_the_constant() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", text, flags=re.MULTILINE)
    assert {key: tuple(re.findall(r"`(\w+)`", names)) for key, names in rows} == dict(SYNONYMS)
    assert [key for key, _ in rows] == list(SYNONYMS)


def test_the_docs_example_is_the_commands_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    command = (
        "python -m cdk_sms_registration scaffold --brand-profile "
        "examples/brand-profile-attributes.json --sample US_TEN_DLC_BRAND_REGISTRATION"
    )
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"```text\n$ {command}\n") + len(f"```text\n$ {command}\n")
    shown = text[start : text.index("```\n", start)]
    assert shown == module(capsys, "examples/brand-profile-attributes.json", BRAND)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scaffold --brand-profile examples/brand-profile-attributes.json --sample " in readme
    assert "(docs/scaffold.md)" in readme
