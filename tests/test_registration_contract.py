"""Registration properties as CloudFormation delivers them, hand-written mistakes included."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_sms_registration_handler.registration_contract import (
    OWNER_TAG_KEY,
    FieldValue,
    RegistrationSpec,
    RegistrationValidationError,
    check_tags,
    parse_properties,
)
from cdk_sms_registration_handler.resource_contract import owner_mark

TYPE = "US_TOLL_FREE_REGISTRATION"
SECRET = "Jane Q. Private, 1 Hidden Lane"  # a value that must never appear in an error


def test_minimal_properties() -> None:
    spec = parse_properties({"ServiceToken": "arn", "RegistrationType": TYPE})
    assert spec == RegistrationSpec(registration_type=TYPE)
    assert (spec.fields, spec.associations, spec.submit, spec.tags) == ((), (), False, {})


def test_everything_as_cloudformation_delivers_it() -> None:
    spec = parse_properties(
        {
            "ServiceToken": "arn",
            "ServiceTimeout": "1200",
            "RegistrationType": TYPE,
            "Fields": [
                {"Path": "companyInfo.companyName", "Text": "Example Corp"},
                {"Path": "messagingUseCase.monthlyMessageVolume", "Text": "10,000"},
                {"Path": "messagingUseCase.useCaseCategory", "Choices": ["A", "B"]},
                {"Path": "messagingUseCase.optInImage", "AttachmentId": "ra-0123"},
            ],
            "Associations": ["phone-0123456789abcdef"],
            "Submit": "true",
            "Tags": [{"Key": "team", "Value": "messaging"}],
        }
    )
    assert spec.paths == (
        "companyInfo.companyName",
        "messagingUseCase.monthlyMessageVolume",
        "messagingUseCase.useCaseCategory",
        "messagingUseCase.optInImage",
    )
    values = spec.values
    assert values["companyInfo.companyName"].text == "Example Corp"
    assert values["messagingUseCase.useCaseCategory"].choices == ("A", "B")
    assert values["messagingUseCase.optInImage"].attachment_id == "ra-0123"
    assert spec.associations == ("phone-0123456789abcdef",)
    assert spec.submit is True
    assert spec.service_tags("mark") == {"team": "messaging", OWNER_TAG_KEY: "mark"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("True", True), ("false", False), ("", False), (True, True), (None, False)],
)
def test_submit_accepts_cloudformation_strings(raw: object, expected: bool) -> None:
    properties = {"RegistrationType": TYPE, "Submit": raw}
    assert parse_properties(properties).submit is expected


def test_lenient_single_items() -> None:
    spec = parse_properties(
        {
            "RegistrationType": TYPE,
            "Fields": [{"Path": "a.b", "Choices": "ONE"}],
            "Associations": "phone-1",
        }
    )
    assert spec.fields[0].choices == ("ONE",)
    assert spec.associations == ("phone-1",)


def test_field_values_round_trip_through_the_property_shape() -> None:
    values = [
        FieldValue("a.text", text="x"),
        FieldValue("a.choices", choices=("A", "B")),
        FieldValue("a.file", attachment_id="ra-1"),
    ]
    spec = parse_properties(
        {"RegistrationType": TYPE, "Fields": [value.to_property() for value in values]}
    )
    assert list(spec.fields) == values


def test_values_stay_out_of_repr() -> None:
    value = FieldValue("contactInfo.firstName", text=SECRET)
    assert SECRET not in repr(value)
    assert SECRET not in repr(RegistrationSpec(TYPE, fields=(value,)))
    assert "contactInfo.firstName" in repr(value)


def _fields(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"RegistrationType": TYPE, "Fields": list(entries)}


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({}, "RegistrationType: is required"),
        ({"RegistrationType": "US TOLL FREE"}, "RegistrationType: is required, 1-64"),
        ({"RegistrationType": "X" * 65}, "RegistrationType: is required, 1-64"),
        ({"RegistrationType": TYPE, "RegistrationTyp": "x"}, "did you mean RegistrationType?"),
        ({"RegistrationType": TYPE, "Feilds": []}, "did you mean Fields?"),
        ({"RegistrationType": TYPE, "Colour": "blue"}, "Colour: unknown property"),
        ({"RegistrationType": TYPE, "Fields": {"a.b": {"Text": SECRET}}}, "not a map"),
        ({"RegistrationType": TYPE, "Fields": "a.b"}, "Fields: must be a list"),
        (_fields("a.b"), "Fields[1]: must be a map"),
        (_fields({"Text": SECRET}), "Fields[1].Path: a field path must be 1-100"),
        (_fields({"Path": "a b", "Text": SECRET}), "Fields[1].Path: a field path must be 1-100"),
        (_fields({"Path": "a" * 101, "Text": SECRET}), "Fields[1].Path"),
        (_fields({"Path": "a.b"}), "Fields[a.b]: needs exactly one of Text, Choices, AttachmentId"),
        (
            _fields({"Path": "a.b", "Text": SECRET, "Choices": [SECRET]}),
            "Fields[a.b]: needs exactly one of Text, Choices, AttachmentId, not Text and Choices",
        ),
        (_fields({"Path": "a.b", "Txt": SECRET}), "unknown key Txt; did you mean Text?"),
        (_fields({"Path": "a.b", "Text": ""}), "Fields[a.b].Text: a text value must be a"),
        (_fields({"Path": "a.b", "Text": "x" * 2049}), "Fields[a.b].Text: a text value must be"),
        (_fields({"Path": "a.b", "Text": ["x"]}), "Fields[a.b].Text: a text value must be"),
        (_fields({"Path": "a.b", "Choices": []}), "Fields[a.b].Choices: choices must be a list of"),
        (_fields({"Path": "a.b", "Choices": ["x"] * 101}), "Fields[a.b].Choices: choices must"),
        (_fields({"Path": "a.b", "Choices": ["A", ""]}), "Fields[a.b].Choices choice 2: must be"),
        (_fields({"Path": "a.b", "Choices": ["x" * 257]}), "Fields[a.b].Choices choice 1: must"),
        (_fields({"Path": "a.b", "Choices": [SECRET, SECRET]}), "choices must not repeat"),
        (
            _fields({"Path": "a.b", "AttachmentId": "s3://bucket/key.pdf"}),
            "Fields[a.b].AttachmentId: must be an attachment ID or ARN",
        ),
        (
            _fields({"Path": "a.b", "Text": SECRET}, {"Path": "a.b", "Text": SECRET}),
            "Fields: field path a.b appears more than once",
        ),
        ({"RegistrationType": TYPE, "Associations": {"a": "b"}}, "Associations: must be a list"),
        ({"RegistrationType": TYPE, "Associations": ["+15550100"]}, "Associations[1]: must be"),
        (
            {"RegistrationType": TYPE, "Associations": ["phone-1", "phone-1"]},
            "Associations: resource phone-1 appears more than once",
        ),
        ({"RegistrationType": TYPE, "Submit": "yes"}, "Submit: must be true or false"),
        ({"RegistrationType": TYPE, "Tags": {"team": "x"}}, "Tags: must be a list of"),
        ({"RegistrationType": TYPE, "Tags": [{"Key": "a"}]}, "entry 1 must have exactly Key"),
        (
            {"RegistrationType": TYPE, "Tags": [{"Key": OWNER_TAG_KEY, "Value": "1"}]},
            "reserved for the handler's marks",
        ),
        ({"RegistrationType": TYPE, "Tags": [{"Key": "aws:x", "Value": "1"}]}, "prefix aws:"),
    ],
)
def test_mistakes_name_the_property_and_rule_never_the_value(
    properties: dict[str, Any], message: str
) -> None:
    with pytest.raises(RegistrationValidationError) as raised:
        parse_properties(properties)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_validation_error_is_a_value_error() -> None:
    assert issubclass(RegistrationValidationError, ValueError)


def test_tag_limits() -> None:
    check_tags({f"k{i}": "v" for i in range(199)})
    with pytest.raises(RegistrationValidationError, match="200 tags, at most 199 allowed"):
        check_tags({f"k{i}": "v" for i in range(200)})
    with pytest.raises(RegistrationValidationError, match="at most 256 characters"):
        check_tags({"k": "v" * 257})


def test_owner_tag_value_is_the_attachment_owner_mark() -> None:
    mark = owner_mark("stack-a", "Reg")
    spec = parse_properties({"RegistrationType": TYPE})
    assert spec.service_tags(mark)[OWNER_TAG_KEY] == mark
    assert mark != owner_mark("stack-b", "Reg")
    assert len(mark) == 32
