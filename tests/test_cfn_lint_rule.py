"""The cfn-lint rules shipped in cfn-lint/: typos and broken values fail before deploy."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from cdk_sms_registration_handler import brand_profile_contract, registration_contract
from cdk_sms_registration_handler import resource_contract as contract

from .conftest import REPO

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
RULES = REPO / "constructs" / "cdk_sms_registration" / "cfn_lint_rules"
EXAMPLE = REPO / "examples" / "cloudformation" / "registration-attachment.yaml"
REGISTRATION_EXAMPLE = REPO / "examples" / "cloudformation" / "registration.yaml"
BRAND_PROFILE_EXAMPLE = REPO / "examples" / "cloudformation" / "brand-profile.yaml"
TOKEN = {"Fn::ImportValue": "SmsRegistrationAttachmentServiceToken"}


def _lint(template: Path, *, with_rule: bool = True) -> list[dict[str, Any]]:
    """cfn-lint's findings as JSON, the way a pipeline would run it."""
    rules = ["--append-rules", str(RULES)] if with_rule else []
    result = subprocess.run(
        [CFN_LINT, "--format", "json", *rules, "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 2), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


def _attachment(**properties: Any) -> dict[str, Any]:
    return {"Type": contract.RESOURCE_TYPE, "Properties": {"ServiceToken": TOKEN, **properties}}


def _rule_module() -> ModuleType:
    path = RULES / "sms_registration_rules.py"
    spec = importlib.util.spec_from_file_location("sms_registration_rules", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_typo_in_the_example_fails_and_names_the_property(tmp_path: Path) -> None:
    template = cfn_yaml.load(str(EXAMPLE))
    properties = template["Resources"]["LetterOfAuthorization"]["Properties"]
    properties["AttachmentURL"] = properties.pop("AttachmentUrl")
    broken = tmp_path / "typo.json"
    broken.write_text(json.dumps(template))

    assert _lint(broken, with_rule=False) == []  # what cfn-lint sees without the rule
    findings = _lint(broken)

    assert {f["Rule"]["Id"] for f in findings} == {"E9101"}
    messages = [f["Message"] for f in findings]
    assert any("'AttachmentURL' was unexpected" in m and "'AttachmentUrl'" in m for m in messages)
    assert any("'AttachmentUrl' is a required property" in m for m in messages)
    assert {tuple(f["Location"]["Path"][:2]) for f in findings} == {
        ("Resources", "LetterOfAuthorization")
    }


def test_the_example_passes() -> None:
    assert _lint(EXAMPLE) == []


@pytest.mark.parametrize(
    ("properties", "flagged"),
    [
        ({"AttachmentUrl": "https://b.s3.amazonaws.com/loa.pdf"}, "AttachmentUrl"),
        ({"AttachmentUrl": "s3://bucket-only"}, "AttachmentUrl"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "MaxSizeBytes": 0}, "MaxSizeBytes"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "MaxSizeBytes": "big"}, "MaxSizeBytes"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "ServiceTimeout": 7200}, "ServiceTimeout"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "Tags": {"team": "messaging"}}, "Tags"),
        ({"AttachmentUrl": "s3://b/loa.pdf", "Tags": [{"Key": "AWS:x", "Value": ""}]}, "Tags"),
        (
            {
                "AttachmentUrl": "s3://b/loa.pdf",
                "Tags": [{"Key": contract.SOURCE_TAG_KEY, "Value": ""}],
            },
            "Tags",
        ),
        ({"AttachmentUrl": "s3://b/loa.pdf", "Tags": [{"Key": "team"}]}, "Tags"),
    ],
)
def test_broken_value_fails_and_a_good_neighbour_passes(
    tmp_path: Path, properties: dict[str, Any], flagged: str
) -> None:
    template = tmp_path / "template.json"
    good = _attachment(
        AttachmentUrl={"Fn::Sub": "s3://${AWS::AccountId}-documents/loa.pdf"},
        MaxSizeBytes="1048576",  # CloudFormation sends numbers as strings anyway
        ServiceTimeout=1200,
        AttachmentVersionId="3sL4kqtJlcpXroDTDmJ",
        Tags=[{"Key": "team", "Value": "messaging"}],
    )
    resources = {"Good": good, "Broken": _attachment(**properties)}
    template.write_text(json.dumps({"Resources": resources}))

    findings = _lint(template)

    assert findings, "nothing flagged"
    assert {tuple(f["Location"]["Path"][:4]) for f in findings} == {
        ("Resources", "Broken", "Properties", flagged)
    }


def test_schema_follows_the_resource_contract() -> None:
    rule = _rule_module()
    schema = rule.ATTACHMENT_SCHEMA
    assert rule.ATTACHMENT_TYPE == contract.RESOURCE_TYPE
    assert set(schema["properties"]) == set(contract.KNOWN_PROPERTIES)
    assert set(schema["required"]) == {contract.SERVICE_TOKEN, contract.ATTACHMENT_URL}
    assert schema["properties"]["AttachmentUrl"]["maxLength"] == contract.MAX_URL_CHARS
    tags = schema["properties"]["Tags"]
    assert tags["maxItems"] == contract.MAX_USER_TAGS
    assert tags["items"]["properties"]["Key"]["maxLength"] == contract.MAX_TAG_KEY_CHARS
    assert tags["items"]["properties"]["Value"]["maxLength"] == contract.MAX_TAG_VALUE_CHARS
    assert contract.SOURCE_TAG_KEY in tags["items"]["properties"]["Key"]["pattern"]


# Custom::SmsRegistration (E9102) -----------------------------------------------------------


def _registration(**properties: Any) -> dict[str, Any]:
    return {
        "Type": registration_contract.RESOURCE_TYPE,
        "Properties": {"ServiceToken": TOKEN, **properties},
    }


def test_registration_example_passes_and_its_typo_is_named(tmp_path: Path) -> None:
    assert _lint(REGISTRATION_EXAMPLE) == []
    template = cfn_yaml.load(str(REGISTRATION_EXAMPLE))
    properties = template["Resources"]["TollFreeRegistration"]["Properties"]
    properties["RegistrationTyp"] = properties.pop("RegistrationType")
    broken = tmp_path / "typo.json"
    broken.write_text(json.dumps(template))

    assert _lint(broken, with_rule=False) == []  # what cfn-lint sees without the rule
    findings = _lint(broken)

    assert {f["Rule"]["Id"] for f in findings} == {"E9102"}
    messages = [f["Message"] for f in findings]
    assert any(
        "'RegistrationTyp' was unexpected" in m and "'RegistrationType'" in m for m in messages
    )
    assert any("'RegistrationType' is a required property" in m for m in messages)


_TYPE = {"RegistrationType": "US_TOLL_FREE_REGISTRATION"}


@pytest.mark.parametrize(
    ("properties", "flagged"),
    [
        ({"RegistrationType": "US TOLL FREE"}, "RegistrationType"),
        ({**_TYPE, "Fields": {"companyInfo.companyName": "Example"}}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "companyInfo.companyName"}]}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "a.b", "Text": "x", "Choices": ["Y"]}]}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "a b", "Text": "x"}]}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "a.b", "Value": "x"}]}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "a.b", "Text": ""}]}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "a.b", "Choices": []}]}, "Fields"),
        ({**_TYPE, "Fields": [{"Path": "a.b", "AttachmentId": "not an id"}]}, "Fields"),
        ({**_TYPE, "Associations": ["phone-1", "phone-1"]}, "Associations"),
        ({**_TYPE, "Submit": "yes"}, "Submit"),
        ({**_TYPE, "Associations": "not an id"}, "Associations"),
        ({**_TYPE, "Fields": "companyInfo.companyName"}, "Fields"),
        ({**_TYPE, "Tags": [{"Key": "cdk-sms-registration:owner", "Value": "x"}]}, "Tags"),
        ({**_TYPE, "Tags": [{"Key": "aws:x", "Value": "x"}]}, "Tags"),
    ],
)
def test_broken_registration_fails_and_a_good_neighbour_passes(
    tmp_path: Path, properties: dict[str, Any], flagged: str
) -> None:
    template = tmp_path / "template.json"
    good = _registration(
        **_TYPE,
        Fields=[
            {"Path": "companyInfo.companyName", "Text": "Example Corp"},
            {"Path": "messagingUseCase.useCaseCategory", "Choices": ["ACCOUNT_NOTIFICATIONS"]},
            {"Path": "companyInfo.businessType", "Choices": "PRIVATE_PROFIT"},
            {"Path": "messagingUseCase.optInImage", "AttachmentId": {"Ref": "OptInId"}},
        ],
        Associations=[{"Ref": "AWS::NoValue"}, "phone-0123456789abcdef0123456789abcdef"],
        Submit="true",  # CloudFormation sends booleans as strings anyway
        ServiceTimeout=1200,
        Tags=[{"Key": "team", "Value": "messaging"}],
    )
    shortcuts = _registration(
        **_TYPE,
        Fields=[
            {
                "Path": "companyInfo.businessType",
                "Text": {"Fn::If": ["Listed", {"Ref": "AWS::NoValue"}, "PRIVATE_PROFIT"]},
                "Choices": {"Fn::If": ["Listed", ["PUBLIC_PROFIT"], {"Ref": "AWS::NoValue"}]},
            }
        ],
        Associations="phone-0123456789abcdef0123456789abcdef",
        Submit={"Ref": "Submit"},
    )
    empty = _registration(**_TYPE, Fields="", Submit="")
    resources = {
        "Good": good,
        "Shortcuts": shortcuts,
        "Empty": empty,
        "Broken": _registration(**properties),
    }
    parameters = {
        "OptInId": {"Type": "String"},
        "Listed": {"Type": "String", "AllowedValues": ["yes", "no"]},
        "Submit": {"Type": "String", "AllowedValues": ["true", "false"]},
    }
    conditions = {"Listed": {"Fn::Equals": [{"Ref": "Listed"}, "yes"]}}
    template.write_text(
        json.dumps({"Parameters": parameters, "Conditions": conditions, "Resources": resources})
    )

    findings = _lint(template)

    assert findings, "nothing flagged"
    assert {f["Rule"]["Id"] for f in findings} == {"E9102"}
    assert {tuple(f["Location"]["Path"][:4]) for f in findings} == {
        ("Resources", "Broken", "Properties", flagged)
    }


def test_registration_schema_follows_the_registration_contract() -> None:
    rule = _rule_module()
    schema = rule.REGISTRATION_SCHEMA
    c = registration_contract
    assert rule.REGISTRATION_TYPE == c.RESOURCE_TYPE
    assert set(schema["properties"]) == set(c.KNOWN_PROPERTIES)
    assert set(schema["required"]) == {c.SERVICE_TOKEN, c.REGISTRATION_TYPE}
    field = schema["properties"][c.FIELDS]["items"]
    assert set(field["properties"]) == set(c.FIELD_KEYS)
    assert field["requiredXor"] == list(c.FIELD_VALUE_KEYS)
    assert field["properties"][c.FIELD_TEXT]["maxLength"] == c.MAX_TEXT_CHARS
    assert field["properties"][c.FIELD_CHOICES]["maxItems"] == c.MAX_CHOICES
    assert field["properties"][c.FIELD_CHOICES]["items"]["maxLength"] == c.MAX_CHOICE_CHARS
    for name, pattern in (
        (c.REGISTRATION_TYPE, c.REGISTRATION_TYPE_PATTERN),
        (c.FIELDS, c.FIELD_PATH_PATTERN),
        (c.ASSOCIATIONS, c.RESOURCE_ID_PATTERN),
    ):
        schema_property = schema["properties"][name]
        if name == c.FIELDS:
            schema_property = field["properties"][c.FIELD_PATH]
        elif name == c.ASSOCIATIONS:
            schema_property = schema_property["items"]
        assert schema_property["pattern"] == f"^{pattern.pattern}$"
    tags = schema["properties"][c.TAGS]
    assert tags["maxItems"] == c.MAX_USER_TAGS
    assert c.HANDLER_TAG_PREFIX in tags["items"]["properties"]["Key"]["pattern"]


def test_the_rules_folder_is_what_the_cli_prints() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "cdk_sms_registration", "cfn-lint-rules"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(printed).resolve() == RULES.resolve()


def test_attribute_names_are_the_contracts() -> None:
    module = _rule_module()
    assert (
        module.ATTRIBUTES[registration_contract.RESOURCE_TYPE] == registration_contract.ATTRIBUTES
    )
    assert module.ATTRIBUTES[contract.RESOURCE_TYPE] == (
        contract.ATTR_ID,
        contract.ATTR_ARN,
        contract.ATTR_STATUS,
        contract.ATTR_CREATED,
    )


def test_a_wrong_getatt_name_on_either_type_fails_and_suggests_the_right_one(
    tmp_path: Path,
) -> None:
    template = cfn_yaml.load(str(REGISTRATION_EXAMPLE))
    resources = template["Resources"]
    kinds = {name: body.get("Type") for name, body in resources.items()}
    attachment = next(n for n, t in kinds.items() if t == contract.RESOURCE_TYPE)
    registration = next(n for n, t in kinds.items() if t == registration_contract.RESOURCE_TYPE)
    template.setdefault("Outputs", {}).update(
        {
            "Good": {"Value": {"Fn::GetAtt": [registration, "RegistrationArn"]}},
            "BadRegistration": {"Value": {"Fn::GetAtt": [registration, "RegistrationARN"]}},
            "BadAttachment": {"Value": {"Fn::GetAtt": f"{attachment}.AttachmentId"}},
        }
    )
    broken = tmp_path / "getatt.json"
    broken.write_text(json.dumps(template))
    found = [f for f in _lint(broken) if f["Rule"]["Id"] == "E9103"]
    assert sorted(f["Location"]["Path"][1] for f in found) == ["BadAttachment", "BadRegistration"]
    messages = " | ".join(f["Message"] for f in found)
    assert "did you mean RegistrationArn?" in messages
    assert f"{attachment} (Custom::SmsRegistrationAttachment) has no attribute 'AttachmentId'" in (
        messages
    )
    assert [f for f in _lint(broken, with_rule=False) if f["Rule"]["Id"].startswith("E9")] == []


# Custom::SmsBrandProfile (E9104) -----------------------------------------------------------


def _profile(**properties: Any) -> dict[str, Any]:
    return {
        "Type": brand_profile_contract.RESOURCE_TYPE,
        "Properties": {"ServiceToken": TOKEN, "BrandProfileName": "example-corp", **properties},
    }


_LOGO = {"Name": "logo", "Type": "IMAGE", "AttachmentUrl": "s3://docs/logo.png"}


def test_brand_profile_example_passes_and_its_typos_are_named(tmp_path: Path) -> None:
    assert _lint(BRAND_PROFILE_EXAMPLE) == []
    template = cfn_yaml.load(str(BRAND_PROFILE_EXAMPLE))
    properties = template["Resources"]["BrandProfile"]["Properties"]
    properties["BrandProfileNam"] = properties.pop("BrandProfileName")
    (index,) = [i for i, a in enumerate(properties["Attributes"]) if a["Name"] == "logo"]
    logo = properties["Attributes"][index]
    logo["AttachmentURL"] = logo.pop("AttachmentUrl")
    broken = tmp_path / "typo.json"
    broken.write_text(json.dumps(template))

    assert _lint(broken, with_rule=False) == []  # what cfn-lint sees without the rule
    findings = _lint(broken)

    assert {f["Rule"]["Id"] for f in findings} == {"E9104"}
    messages = {tuple(f["Location"]["Path"][2:]): f["Message"] for f in findings}
    properties_path: tuple[Any, ...] = ("Properties",)
    logo_path = (*properties_path, "Attributes", index)
    assert set(messages) == {
        properties_path,
        (*properties_path, "BrandProfileNam"),
        logo_path,
        (*logo_path, "AttachmentURL"),
    }
    assert "'BrandProfileName' is a required property" in messages[properties_path]
    assert "Did you mean 'BrandProfileName'?" in messages[(*properties_path, "BrandProfileNam")]
    assert "Did you mean 'AttachmentUrl'?" in messages[(*logo_path, "AttachmentURL")]
    assert {tuple(f["Location"]["Path"][:2]) for f in findings} == {("Resources", "BrandProfile")}


@pytest.mark.parametrize(
    ("properties", "flagged"),
    [
        ({"BrandProfileName": "   "}, "BrandProfileName"),
        ({"BrandProfileName": "a/b"}, "BrandProfileName"),
        ({"Atributes": []}, "Atributes"),
        ({"Attributes": {"legalName": "x"}}, "Attributes"),
        ({"Attributes": [{"Name": "legalName"}]}, "Attributes"),
        (
            {"Attributes": [{"Name": "a", "Text": "x", "AttachmentUrl": "s3://b/k.pdf"}]},
            "Attributes",
        ),
        ({"Attributes": [{"Name": "a", "AttachmentUrl": "s3://b/k.pdf"}]}, "Attributes"),
        ({"Attributes": [{**_LOGO, "Type": "PICTURE"}]}, "Attributes"),
        ({"Attributes": [{**_LOGO, "AttachmentUrl": "https://b/k.png"}]}, "Attributes"),
        ({"Attributes": [{"Name": "a", "Text": ""}]}, "Attributes"),
        ({"Attributes": [{"Name": "a", "Value": "x"}]}, "Attributes"),
        ({"DeletionProtection": "yes"}, "DeletionProtection"),
        ({"Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(50)]}, "Tags"),
        ({"Tags": [{"Key": "cdk-sms-registration:owner", "Value": "x"}]}, "Tags"),
    ],
)
def test_broken_brand_profile_fails_and_a_good_neighbour_passes(
    tmp_path: Path, properties: dict[str, Any], flagged: str
) -> None:
    template = tmp_path / "template.json"
    good = _profile(
        Attributes=[
            {"Name": "legalName", "Text": "Example Corp", "Description": "", "Category": "c"},
            _LOGO,
            {**_LOGO, "Name": "loa", "Type": "DOCUMENT", "AttachmentVersionId": "v1"},
        ],
        DeletionProtection="true",
        ServiceTimeout=1200,
        Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)],
    )
    resources = {"Good": good, "Empty": _profile(Attributes=""), "Broken": _profile(**properties)}
    template.write_text(json.dumps({"Resources": resources}))

    findings = _lint(template)

    assert findings, "nothing flagged"
    assert {f["Rule"]["Id"] for f in findings} == {"E9104"}
    assert {tuple(f["Location"]["Path"][:4]) for f in findings} == {
        ("Resources", "Broken", "Properties", flagged)
    }


def test_brand_profile_schema_follows_the_contract() -> None:
    rule = _rule_module()
    schema = rule.BRAND_PROFILE_SCHEMA
    c = brand_profile_contract
    assert rule.BRAND_PROFILE_TYPE == c.RESOURCE_TYPE
    assert rule.ATTRIBUTES[c.RESOURCE_TYPE] == c.ATTRIBUTE_NAMES_OUT
    assert set(schema["properties"]) == set(c.KNOWN_PROPERTIES)
    assert set(schema["required"]) == {c.SERVICE_TOKEN, c.BRAND_PROFILE_NAME}
    entry = schema["properties"][c.ATTRIBUTES]["items"]
    assert set(entry["properties"]) == set(c.ATTRIBUTE_KEYS)
    assert entry["properties"][c.ATTRIBUTE_TYPE]["enum"] == list(c.ATTRIBUTE_TYPES)
    assert entry["properties"][c.ATTRIBUTE_TEXT]["maxLength"] == c.MAX_TEXT_CHARS
    assert entry["properties"][c.ATTRIBUTE_NAME]["maxLength"] == c.MAX_ATTRIBUTE_NAME_CHARS
    assert entry["properties"][c.ATTRIBUTE_DESCRIPTION]["maxLength"] == c.MAX_DESCRIPTION_CHARS
    assert entry["properties"][c.ATTRIBUTE_CATEGORY]["maxLength"] == c.MAX_CATEGORY_CHARS
    assert schema["properties"][c.BRAND_PROFILE_NAME]["maxLength"] == c.MAX_PROFILE_NAME_CHARS
    assert schema["properties"][c.TAGS]["maxItems"] == c.MAX_USER_TAGS
