"""Resource properties as CloudFormation delivers them, hand-written mistakes included."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_sms_registration_handler.document_rules import AttachmentValidationError
from cdk_sms_registration_handler.resource_contract import (
    SOURCE_TAG_KEY,
    AttachmentSpec,
    check_tags,
    owner_mark,
    parse_properties,
    read_source_tag,
    source_tag_value,
)

URL = "s3://docs-bucket/loa/letter.pdf"


def test_minimal_properties() -> None:
    spec = parse_properties({"ServiceToken": "arn:aws:lambda:...", "AttachmentUrl": URL})
    assert (spec.bucket, spec.key, spec.version_id, spec.tags) == (
        "docs-bucket",
        "loa/letter.pdf",
        None,
        {},
    )
    assert spec.url == URL


def test_cloudformation_service_timeout_is_accepted() -> None:
    spec = parse_properties({"ServiceToken": "arn", "ServiceTimeout": "900", "AttachmentUrl": URL})
    assert spec.url == URL


def test_string_typed_scalars_are_accepted() -> None:
    spec = parse_properties(
        {
            "AttachmentUrl": URL,
            "AttachmentVersionId": "3HL4kqtJlcpXroDTDmJ",
            "MaxSizeBytes": "1048576",
            "Tags": [{"Key": "team", "Value": "messaging"}],
        }
    )
    assert spec.max_size_bytes == 1048576
    assert spec.version_id == "3HL4kqtJlcpXroDTDmJ"
    assert spec.tags == {"team": "messaging"}


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({}, "AttachmentUrl: is required"),
        ({"AttachmentUrl": "https://docs-bucket.s3.amazonaws.com/a.pdf"}, "is an HTTP URL"),
        ({"AttachmentUrl": "docs-bucket/a.pdf"}, "must start with s3://"),
        ({"AttachmentUrl": "s3://docs-bucket"}, "must name both a bucket and an object key"),
        ({"AttachmentUrl": "s3://docs-bucket/"}, "must name both a bucket and an object key"),
        ({"AttachmentUrl": "s3://b/a b.pdf"}, "without spaces"),
        ({"AttachmentUrl": URL, "Tags": {"team": "x"}}, "not a map"),
        ({"AttachmentUrl": URL, "Tags": [{"Key": "a"}]}, "entry 1 must have exactly Key and Value"),
        (
            {
                "AttachmentUrl": URL,
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
            },
            "tag key 'a' appears more than once",
        ),
        ({"AttachmentUrl": URL, "Tags": [{"Key": "aws:x", "Value": "1"}]}, "reserved prefix aws:"),
        (
            {"AttachmentUrl": URL, "Tags": [{"Key": SOURCE_TAG_KEY, "Value": "1"}]},
            "reserved for the source fingerprint",
        ),
        ({"AttachmentUrl": URL, "MaxSizeBytes": "big"}, "MaxSizeBytes"),
        ({"AttachmentUrl": URL, "MaxSizeBytes": "0"}, "MaxSizeBytes"),
        ({"AttachmentUrl": URL, "AttachmentVersionID": "v"}, "did you mean AttachmentVersionId?"),
        ({"AttachmentUrl": URL, "Colour": "blue"}, "Colour: unknown property"),
    ],
)
def test_mistakes_name_property_and_rule(properties: dict[str, Any], message: str) -> None:
    with pytest.raises(AttachmentValidationError) as raised:
        parse_properties(properties)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"": "v"}, "must be 1-128 characters"),
        ({"k" * 129: "v"}, "must be 1-128 characters"),
        ({"k": "v" * 257}, "at most 256 characters"),
        ({f"k{i}": "v" for i in range(200)}, "200 tags, at most 199 allowed"),
    ],
)
def test_tag_limits(tags: dict[str, str], message: str) -> None:
    with pytest.raises(AttachmentValidationError, match=message):
        check_tags(tags)


def test_tag_limits_accept_the_edges() -> None:
    check_tags({"k" * 128: "v" * 256, "empty": ""} | {f"k{i}": "v" for i in range(197)})


def test_fingerprint_follows_the_source_only() -> None:
    base = AttachmentSpec(bucket="b", key="k.pdf")
    assert base.same_source(AttachmentSpec(bucket="b", key="k.pdf", tags={"a": "b"}))
    assert not base.same_source(AttachmentSpec(bucket="b", key="k.pdf", version_id="v1"))
    assert not base.same_source(AttachmentSpec(bucket="b2", key="k.pdf"))
    assert not base.same_source(AttachmentSpec(bucket="b", key="other.pdf"))
    owner = owner_mark("arn:aws:cloudformation:eu-west-1:1:stack/S/1", "Letter")
    assert base.service_tags(owner) == {SOURCE_TAG_KEY: f"{base.source_fingerprint}:{owner}"}


def test_owner_mark_names_stack_and_resource_and_reads_back() -> None:
    stack = "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/0f9c"
    owner = owner_mark(stack, "Letter")
    assert len(owner) == 32
    assert owner != owner_mark(stack, "Other")
    assert owner != owner_mark(stack.replace("0f9c", "1a2b"), "Letter")
    value = source_tag_value("f" * 64, owner)
    assert len(value) <= 256
    assert read_source_tag(value) == ("f" * 64, owner)
    # Release 0.1 wrote the fingerprint alone.
    assert read_source_tag("f" * 64) == ("f" * 64, None)
    assert read_source_tag(None) == (None, None)
