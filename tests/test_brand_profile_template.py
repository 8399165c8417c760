"""What the BrandProfile construct synthesizes, what it refuses, and registrations drawn from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cdk_sms_registration import (
    AttachmentSource,
    BrandAttribute,
    BrandProfile,
    BrandProfileValidationError,
    IBrandProfile,
    Registration,
    RegistrationAttachmentProvider,
    RegistrationDefinitions,
)
from cdk_sms_registration.provider import BRAND_PROFILE_POLICY_CHARS
from cdk_sms_registration_handler.brand_profile_contract import (
    OWNER_TAG_KEY,
    RESOURCE_TYPE,
    parse_properties,
)

from .cdk_apps import ENV, flat, resources_of_type, statement, template_of
from .conftest import REPO, SAMPLE_PDF, SAMPLE_PNG

SECRET = "Jane Q. Private"


def _stack(tmp_path: Path) -> cdk.Stack:
    return cdk.Stack(cdk.App(outdir=str(tmp_path)), "Profiles", env=ENV)


def _profile(stack: cdk.Stack, **extra: Any) -> BrandProfile:
    attributes: dict[str, Any] = {
        "legalName": "Example Corp",
        "website": "https://example.com",
        "logo": AttachmentSource.from_file(SAMPLE_PNG),
        "loa": BrandAttribute(
            AttachmentSource.from_file(SAMPLE_PDF), description="Letter", category="legal"
        ),
    }
    return BrandProfile(
        stack, "Brand", name="example-corp", attributes={**attributes, **extra}, tags={"t": "v"}
    )


def test_the_template_is_what_the_handler_parses(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    profile = _profile(stack)
    template = template_of(stack)
    (resource,) = resources_of_type(template, RESOURCE_TYPE).values()
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    properties = dict(resource["Properties"])
    for entry in properties["Attributes"]:
        if "AttachmentUrl" in entry:
            entry["AttachmentUrl"] = flat(entry["AttachmentUrl"])
    properties["Tags"] = properties.get("Tags")
    spec = parse_properties(properties)
    kinds = {a.name: a.attribute_type for a in spec.attributes}
    assert kinds == {"legalName": "TEXT", "website": "TEXT", "logo": "IMAGE", "loa": "DOCUMENT"}
    assert spec.by_name["loa"].category == "legal"
    assert spec.by_name["logo"].source is not None
    assert spec.by_name["logo"].source.key.endswith(".png")
    assert spec.tags == {"t": "v"} and spec.deletion_protection is False
    assert profile.attribute_names == ["legalName", "website", "logo", "loa"]
    assert stack.resolve(profile.brand_profile_arn) == {
        "Fn::GetAtt": [stack.get_logical_id(profile.node.default_child), "BrandProfileArn"]
    }


def test_the_role_may_change_only_profiles_it_owns(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    _profile(stack)
    other = cdk.Stack(stack.node.scope, "NoProfiles", env=ENV)  # type: ignore[arg-type]
    Registration(other, "R", registration_type="US_TOLL_FREE_REGISTRATION")
    template = template_of(stack)
    create = statement(template, "CreateTaggedBrandProfiles")
    assert create["Resource"] == "*"
    assert create["Condition"] == {"Null": {f"aws:RequestTag/{OWNER_TAG_KEY}": "false"}}
    change = statement(template, "ChangeOwnBrandProfiles")
    assert "end-user-messaging:DeleteBrandProfile" in change["Action"]
    assert change["Condition"] == {"Null": {f"aws:ResourceTag/{OWNER_TAG_KEY}": "false"}}
    assert "brand-profile/*" in flat(change["Resource"])
    keep = statement(template, "KeepBrandProfileOwnerTag")
    assert keep["Effect"] == "Deny"
    # A stack without a profile gets none of it.
    sids = [s.get("Sid") for s in _statements(template_of(other))]
    assert not any("BrandProfile" in str(sid) for sid in sids)


def _statements(template: Any) -> list[dict[str, Any]]:
    (policy,) = resources_of_type(template, "AWS::IAM::Policy").values()
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"legalName": 42}, 'attributes["legalName"]: a int is not an attribute value'),
        (
            {"logo": BrandAttribute(AttachmentSource.from_file(SAMPLE_PDF), kind="IMAGE")},
            'attributes["logo"]: a PDF cannot be an IMAGE attribute',
        ),
        ({"legalName": BrandAttribute(SECRET, kind="IMAGE")}, "kind IMAGE takes an Attachment"),
        ({"legalName": "x", "LegalName": "y"}, "attribute LegalName and legalName"),
        ({"legal/name": "x"}, 'attributes["legal/name"]: an attribute name'),
        ({"legalName": ""}, 'attributes["legalName"]: a text value must be'),
        ({"legalName": BrandAttribute("x", category="")}, "a category must be"),
    ],
)
def test_mistakes_fail_at_construction_naming_the_path(
    tmp_path: Path, attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(BrandProfileValidationError) as raised:
        BrandProfile(_stack(tmp_path), "Brand", name="n", attributes=attributes)
    assert "Profiles/Brand" in str(raised.value) and message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_an_object_whose_key_is_a_token_needs_a_kind(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    bucket = s3.Bucket.from_bucket_name(stack, "Docs", "docs")
    key = cdk.CfnParameter(stack, "Key").value_as_string
    with pytest.raises(BrandProfileValidationError, match='kind="IMAGE"'):
        BrandProfile(
            stack, "Brand", name="n", attributes={"logo": AttachmentSource.from_bucket(bucket, key)}
        )
    BrandProfile(
        stack,
        "Brand2",
        name="n",
        attributes={
            "logo": BrandAttribute(AttachmentSource.from_bucket(bucket, key), kind="IMAGE")
        },
    )


def test_an_unknown_attribute_suggests_the_nearest(tmp_path: Path) -> None:
    profile = _profile(_stack(tmp_path))
    with pytest.raises(BrandProfileValidationError, match="did you mean 'legalName'"):
        profile.attribute("legalname")


def test_imported_profile(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    imported = BrandProfile.from_brand_profile_id(stack, "Imported", "bp-0123")
    assert isinstance(imported, IBrandProfile)
    assert imported.brand_profile_id == "bp-0123"
    assert "brand-profile/bp-0123" in flat(stack.resolve(imported.brand_profile_arn))
    with pytest.raises(BrandProfileValidationError, match="brand_profile_id"):
        BrandProfile.from_brand_profile_id(stack, "Bad", "bp 1")


def test_registrations_take_the_profiles_values(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    profile = _profile(stack)
    Registration(
        stack,
        "TollFree",
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields={
            "companyInfo.companyName": profile.attribute("legalName"),
            "messagingUseCase.optInImage": profile.attribute("logo"),
        },
    )
    template = template_of(stack)
    (registration,) = resources_of_type(template, "Custom::SmsRegistration").values()
    fields = {f["Path"]: f for f in registration["Properties"]["Fields"]}
    assert fields["companyInfo.companyName"] == {
        "Path": "companyInfo.companyName",
        "Text": "Example Corp",
    }
    attachment_id = fields["messagingUseCase.optInImage"]["AttachmentId"]
    (attachment_logical_id, attribute) = attachment_id["Fn::GetAtt"]
    assert attribute == "RegistrationAttachmentId"
    attachments = resources_of_type(template, "Custom::SmsRegistrationAttachment")
    # The same document as the profile's logo: the same asset.
    logo_url = flat(attachments[attachment_logical_id]["Properties"]["AttachmentUrl"])
    (profile_resource,) = resources_of_type(template, RESOURCE_TYPE).values()
    logo = next(a for a in profile_resource["Properties"]["Attributes"] if a["Name"] == "logo")
    assert flat(logo["AttachmentUrl"]) == logo_url


def test_one_bad_profile_value_fails_every_registration_that_uses_it(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Profiles", env=ENV)
    profile = _profile(stack, website="example.com")  # no scheme: breaks the sample's pattern
    definitions = RegistrationDefinitions.from_sample()
    for construct_id, registration_type in (
        ("TollFree", "US_TOLL_FREE_REGISTRATION"),
        ("Brand10Dlc", "US_TEN_DLC_BRAND_REGISTRATION"),
    ):
        path = next(
            d["FieldPath"]
            for d in definitions.of(registration_type).fields
            if d["FieldPath"].endswith(".website")
        )
        Registration(
            stack,
            construct_id,
            registration_type=registration_type,
            fields={path: profile.attribute("website")},
            definitions=definitions,
        )
    with pytest.raises(Exception) as raised:  # CDK raises its own validation error
        app.synth()
    message = str(raised.value)
    for construct_id in ("TollFree", "Brand10Dlc"):
        assert f"Profiles/{construct_id}" in message
    assert message.count('brand profile Profiles/Brand attribute "website"') == 2
    assert "example.com" not in message


def test_brand_profile_permissions_are_added_once_and_counted(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    provider = RegistrationAttachmentProvider.of(stack)
    before = provider.estimated_policy_chars
    earlier = {s["Sid"] for s in stack.resolve(provider.policy.document.to_json())["Statement"]}
    provider.enable_brand_profiles()
    provider.enable_brand_profiles()
    assert provider.estimated_policy_chars - before == BRAND_PROFILE_POLICY_CHARS
    document = stack.resolve(provider.policy.document.to_json())
    sids = [s["Sid"] for s in document["Statement"]]
    assert sids.count("ChangeOwnBrandProfiles") == 1
    added = sum(
        len(json.dumps(s, separators=(",", ":")))
        for s in document["Statement"]
        if s["Sid"] not in earlier
    )
    print(f"brand profile statements: {added} characters")
    assert added < BRAND_PROFILE_POLICY_CHARS


def test_scaffolded_registrations_synthesize_with_the_real_constructs(tmp_path: Path) -> None:
    """scaffold --brand-profile writes code the constructs take; its TODO values then fail the
    synth-time check, each naming the profile attribute that fills the field."""
    written = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdk_sms_registration",
            "scaffold",
            "--brand-profile",
            str(REPO / "examples" / "brand-profile-attributes.json"),
            "--sample",
            "US_TOLL_FREE_REGISTRATION",
            "US_TEN_DLC_BRAND_REGISTRATION",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    code = written.replace(
        'AttachmentSource.from_file("TODO")', f"AttachmentSource.from_file({str(SAMPLE_PNG)!r})"
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, "brand_registrations.py", "exec"), namespace)
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Scaffolded", env=ENV)
    namespace["BrandRegistrations"](stack, "Brand")
    with pytest.raises(Exception) as raised:  # CDK raises its own validation error
        app.synth()
    message = str(raised.value)
    assert "Scaffolded/Brand/UsTollFreeRegistration" in message
    assert "Scaffolded/Brand/UsTenDlcBrandRegistration" in message
    assert "companyInfo.website: does not match the pattern" in message
    assert 'brand profile Scaffolded/Brand/BrandProfile attribute "website"' in message


# --------------------------------------------------------------------------- prefilled drafts


def test_a_prefilled_registration_names_the_profile_and_the_role_may_prefill(
    tmp_path: Path,
) -> None:
    from cdk_sms_registration_handler import registration_contract

    stack = _stack(tmp_path)
    profile = _profile(stack)
    imported = BrandProfile.from_brand_profile_id(stack, "Imported", "bp-0123")
    Registration(
        stack, "Drafted", registration_type="US_TOLL_FREE_REGISTRATION", brand_profile=profile
    )
    Registration(
        stack,
        "Exact",
        registration_type="US_TOLL_FREE_REGISTRATION",
        brand_profile=imported,
        smart_match=False,
    )
    template = template_of(stack)
    by_id = {
        lid: resource["Properties"]
        for lid, resource in resources_of_type(
            template, registration_contract.RESOURCE_TYPE
        ).items()
    }
    drafted = next(p for lid, p in by_id.items() if lid.startswith("Drafted"))
    exact = next(p for lid, p in by_id.items() if lid.startswith("Exact"))
    # The profile's physical ID is its ID: a Ref, and the dependency CloudFormation orders by.
    assert drafted["BrandProfileId"] == {
        "Ref": stack.get_logical_id(profile.node.default_child)  # type: ignore[arg-type]
    }
    assert drafted["SmartMatch"] is True
    assert (exact["BrandProfileId"], exact["SmartMatch"]) == ("bp-0123", False)
    spec = registration_contract.parse_properties({**exact, "ServiceToken": "t", "Tags": None})
    assert (spec.brand_profile_id, spec.smart_match) == ("bp-0123", False)
    prefill = statement(template, "PrefillFromBrandProfiles")
    assert prefill["Action"] == "end-user-messaging:CreateRegistrationsFromBrandProfile"
    assert "brand-profile/*" in flat(prefill["Resource"])
    assert statement(template, "ReadPrefillJobs")["Resource"] == "*"


def test_smart_match_without_a_profile_fails_naming_the_fix(tmp_path: Path) -> None:
    from cdk_sms_registration import RegistrationValidationError

    with pytest.raises(RegistrationValidationError) as raised:
        Registration(
            _stack(tmp_path), "R", registration_type="US_TOLL_FREE_REGISTRATION", smart_match=True
        )
    assert "Profiles/R: smart_match needs brand_profile=" in str(raised.value)


def test_the_contract_refuses_smart_match_without_a_profile() -> None:
    from cdk_sms_registration_handler import registration_contract

    base = {"ServiceToken": "t", "RegistrationType": "US_TOLL_FREE_REGISTRATION"}
    with pytest.raises(registration_contract.RegistrationValidationError, match="SmartMatch"):
        registration_contract.parse_properties({**base, "SmartMatch": "false"})
    spec = registration_contract.parse_properties({**base, "BrandProfileId": "bp-1"})
    assert (spec.brand_profile_id, spec.smart_match) == ("bp-1", True)
