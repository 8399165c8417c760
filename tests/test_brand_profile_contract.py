"""Brand profile properties as CloudFormation delivers them, and the attribute plan."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_sms_registration_handler.brand_profile_contract import (
    DOCUMENT,
    IMAGE,
    OWNER_TAG_KEY,
    TEXT,
    BrandProfileValidationError,
    check_tags,
    parse_properties,
)
from cdk_sms_registration_handler.brand_profile_plan import AttributePlan, decide
from cdk_sms_registration_handler.brand_profiles import HeldAttribute, batches

SECRET = "Jane Q. Private, 1 Hidden Lane"  # a value that must never appear in an error


def _props(**extra: Any) -> dict[str, Any]:
    return {"ServiceToken": "arn", "BrandProfileName": "example-corp", **extra}


def test_everything_as_cloudformation_delivers_it() -> None:
    spec = parse_properties(
        _props(
            ServiceTimeout="1200",
            Attributes=[
                {"Name": "legalName", "Text": "Example Corp", "Description": "As filed"},
                {"Name": "logo", "Type": "IMAGE", "AttachmentUrl": "s3://b/logo.png"},
                {
                    "Name": "loa",
                    "Type": "DOCUMENT",
                    "AttachmentUrl": "s3://b/loa.pdf",
                    "AttachmentVersionId": "v1",
                    "Category": "legal",
                },
            ],
            DeletionProtection="true",
            Tags=[{"Key": "team", "Value": "sms"}],
        )
    )
    assert [a.name for a in spec.attributes] == ["legalName", "logo", "loa"]
    assert [a.attribute_type for a in spec.attributes] == [TEXT, IMAGE, DOCUMENT]
    assert spec.by_name["legalName"].text == "Example Corp"
    loa = spec.by_name["loa"]
    assert loa.source is not None and (loa.source.bucket, loa.source.key) == ("b", "loa.pdf")
    assert loa.source.version_id == "v1" and loa.category == "legal"
    assert spec.deletion_protection is True
    assert spec.service_tags("mark") == {"team": "sms", OWNER_TAG_KEY: "mark"}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"BrandProfileName": ""}, "BrandProfileName: is required"),
        ({"BrandProfileName": "   "}, "BrandProfileName: is required"),
        ({"Atributes": []}, "Atributes: unknown property; did you mean Attributes?"),
        ({"Attributes": {"legalName": SECRET}}, "not a map"),
        ({"Attributes": [{"Name": "a"}]}, "Attributes[a]: needs exactly one of Text"),
        (
            {"Attributes": [{"Name": "a", "Text": SECRET, "AttachmentUrl": "s3://b/k.pdf"}]},
            "Attributes[a]: needs exactly one of Text",
        ),
        ({"Attributes": [{"Name": "a", "Text": ""}]}, "Attributes[a].Text: a text value"),
        ({"Attributes": [{"Name": "a", "Text": "x" * 4097}]}, "1-4096 characters"),
        (
            {"Attributes": [{"Name": "a", "Type": "IMAGE", "Text": SECRET}]},
            "Attributes[a]: Type IMAGE takes AttachmentUrl",
        ),
        (
            {"Attributes": [{"Name": "a", "AttachmentUrl": "s3://b/k.pdf"}]},
            "Attributes[a].Type: must be one of TEXT, IMAGE, DOCUMENT",
        ),
        (
            {"Attributes": [{"Name": "a", "Type": "IMAGES", "AttachmentUrl": "s3://b/k.png"}]},
            "did you mean IMAGE?",
        ),
        (
            {"Attributes": [{"Name": "a", "Type": "IMAGE", "AttachmentUrl": "https://b/k.png"}]},
            "Attributes[a].AttachmentUrl: 'https://b/k.png' is an HTTP URL",
        ),
        (
            {"Attributes": [{"Name": "a", "Text": "x"}, {"Name": "A", "Text": "y"}]},
            "attribute A and a (names must differ, ignoring case)",
        ),
        ({"Attributes": [{"Name": "a/b", "Text": "x"}]}, "Attributes[1].Name: an attribute name"),
        (
            {"Attributes": [{"Name": "a", "Text": "x", "Value": SECRET}]},
            "Attributes[a]: unknown key Value",
        ),
        ({"Attributes": [{"Name": "a", "Text": "x", "Category": ""}]}, "a category must be"),
        ({"DeletionProtection": "yes"}, "DeletionProtection: must be true or false"),
        ({"Tags": [{"Key": "cdk-sms-registration:owner", "Value": "x"}]}, "reserved"),
    ],
)
def test_mistakes_name_the_property_and_never_the_value(
    props: dict[str, Any], message: str
) -> None:
    with pytest.raises(BrandProfileValidationError) as raised:
        parse_properties(_props(**props))
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_at_most_49_user_tags() -> None:
    check_tags({f"k{i}": "v" for i in range(49)})
    with pytest.raises(BrandProfileValidationError, match="at most 49"):
        check_tags({f"k{i}": "v" for i in range(50)})


def _held(name: str, kind: str = TEXT, **extra: Any) -> HeldAttribute:
    return HeldAttribute(name=name, attribute_type=kind, **extra)


def _spec(*entries: dict[str, Any]) -> Any:
    return parse_properties(_props(Attributes=list(entries)))


LEGAL = {"Name": "legalName", "Text": "Example Corp"}
LOGO = {"Name": "logo", "Type": "IMAGE", "AttachmentUrl": "s3://b/logo.png"}


def test_a_profile_that_holds_the_declaration_gets_no_write() -> None:
    plan = decide(
        _spec(LEGAL, LOGO),
        {"legalName": _held("legalName"), "logo": _held("logo", IMAGE)},
        {"legalName": True, "logo": True},
        None,
    )
    assert plan == AttributePlan() and plan.writes == 0


def test_the_plan_writes_only_the_difference() -> None:
    declared = _spec(
        {**LEGAL, "Description": "new"},  # details only
        {"Name": "website", "Text": "https://example.com"},  # changed value
        {"Name": "logo", "Type": "DOCUMENT", "AttachmentUrl": "s3://b/logo.png"},  # type
        {"Name": "fresh", "Text": "x"},  # new
    )
    held = {
        "legalName": _held("legalName"),
        "website": _held("website"),
        "logo": _held("logo", IMAGE),
        "renamed": _held("renamed"),
        "byHand": _held("byHand"),
    }
    old = _spec(LEGAL, {"Name": "renamed", "Text": "x"})
    plan = decide(declared, held, {"legalName": True, "website": False}, old)
    assert plan.update_details == ("legalName",)
    assert plan.update_value == ("website",)
    assert plan.replace == ("logo",)
    assert plan.create == ("fresh",)
    assert plan.to_create == ("logo", "fresh")
    assert plan.delete == ("renamed",)  # declared before: ours
    assert plan.foreign == ("byHand",)  # never declared here: left alone
    assert plan.writes == 1 + 1 + 2 + 1 + 1


def test_a_category_that_cannot_be_cleared_is_a_replacement() -> None:
    plan = decide(_spec(LEGAL), {"legalName": _held("legalName", category="c")}, {}, None)
    assert plan.replace == ("legalName",)


def test_an_unknown_value_is_written() -> None:
    plan = decide(_spec(LEGAL), {"legalName": _held("legalName")}, {}, None)
    assert plan.update_value == ("legalName",)


def test_a_rollback_deletes_what_the_failed_update_added_and_keeps_foreign_ones() -> None:
    # The rollback Update declares the old attributes; its previous properties are the failed
    # update's, which added "fresh".
    failed = _spec(LEGAL, {"Name": "fresh", "Text": "x"})
    plan = decide(
        _spec(LEGAL),
        {"legalName": _held("legalName"), "fresh": _held("fresh"), "console": _held("console")},
        {"legalName": True},
        failed,
    )
    assert (plan.delete, plan.foreign, plan.writes) == (("fresh",), ("console",), 1)


def test_batches_hold_ten_attributes_and_one_large_document() -> None:
    spec = _spec(*({"Name": f"t{i}", "Text": "x"} for i in range(12)))
    assert [len(b) for b in batches(spec.attributes, {})] == [10, 2]
    documents = _spec(
        *({"Name": f"d{i}", "Type": "DOCUMENT", "AttachmentUrl": "s3://b/k.pdf"} for i in range(3))
    )
    sizes = {"d0": 5 * 1024 * 1024, "d1": 5 * 1024 * 1024, "d2": 100}
    assert [[a.name for a in b] for b in batches(documents.attributes, sizes)] == [
        ["d0"],
        ["d1", "d2"],
    ]
