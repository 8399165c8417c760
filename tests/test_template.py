"""What the construct synthesizes: resources, IAM, policies, dependencies, validation."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from cdk_sms_registration import (
    AttachmentSource,
    AttachmentValidationError,
    IRegistrationAttachment,
    RegistrationAttachment,
)
from cdk_sms_registration.provider import FIXED_POLICY_CHARS
from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE, SOURCE_TAG_KEY

from .cdk_apps import ENV, flat, new_app, policy_document, resources_of_type, statement, template_of
from .conftest import SAMPLE_JPEG, SAMPLE_PDF, SAMPLE_PNG

# The provider function's logical ID is part of every deployed ServiceToken: it must never change.
PROVIDER_FUNCTION_ID = "SmsRegistrationAttachmentProviderHandler4629099B"
PROVIDER_POLICY_ID = "SmsRegistrationAttachmentProviderPolicyB65799DA"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk-out")


def _stack_with_files(outdir: Path, name: str, count: int, **props: object) -> cdk.Stack:
    app = new_app(outdir)
    stack = cdk.Stack(app, name, env=ENV)
    for index in range(count):
        RegistrationAttachment(
            stack, f"Doc{index}", source=AttachmentSource.from_file(str(SAMPLE_PDF)), **props
        )
    return stack


@pytest.fixture(scope="module")
def one(outdir: Path) -> Template:
    return template_of(_stack_with_files(outdir, "One", 1, tags={"team": "messaging"}))


@pytest.fixture(scope="module")
def twenty(outdir: Path) -> Template:
    return template_of(_stack_with_files(outdir, "Twenty", 20))


def _count(template: Template) -> int:
    return len(template.to_json()["Resources"])


def test_one_attachment_makes_provider_and_resource(one: Template) -> None:
    one.resource_count_is("AWS::Lambda::Function", 1)
    one.resource_count_is("AWS::IAM::Role", 1)
    one.resource_count_is("AWS::IAM::Policy", 1)
    one.resource_count_is("AWS::Logs::LogGroup", 1)
    one.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)
    one.resource_count_is(RESOURCE_TYPE, 1)
    assert _count(one) == 6


def test_no_invocation_outlives_service_timeout(one: Template) -> None:
    """Lambda retries a crashed or timed-out invocation only while the event is young enough
    for the retry to end before CloudFormation's ServiceTimeout."""
    (config,) = resources_of_type(one, "AWS::Lambda::EventInvokeConfig").values()
    (function,) = resources_of_type(one, "AWS::Lambda::Function").values()
    (resource,) = resources_of_type(one, RESOURCE_TYPE).values()
    max_age = config["Properties"]["MaximumEventAgeInSeconds"]
    timeout = function["Properties"]["Timeout"]
    service_timeout = int(resource["Properties"]["ServiceTimeout"])
    assert config["Properties"]["MaximumRetryAttempts"] == 2
    assert max_age + timeout < service_timeout


def test_provider_function_settings(one: Template) -> None:
    functions = resources_of_type(one, "AWS::Lambda::Function")
    assert list(functions) == [PROVIDER_FUNCTION_ID]
    one.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "cdk_sms_registration_handler.index.handler",
            "Timeout": 900,
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("Logs")}},
        },
    )
    one.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def test_resource_properties_and_attributes(one: Template) -> None:
    resource = next(iter(resources_of_type(one, RESOURCE_TYPE).values()))
    properties = resource["Properties"]
    assert properties["ServiceToken"] == {"Fn::GetAtt": [PROVIDER_FUNCTION_ID, "Arn"]}
    url = flat(properties["AttachmentUrl"])
    assert url.startswith("s3://cdk-hnb659fds-assets-123456789012-eu-west-1/")
    assert url.endswith(".pdf")
    assert properties["Tags"] == [{"Key": "team", "Value": "messaging"}]
    assert "MaxSizeBytes" not in properties
    assert resource["DependsOn"] == [PROVIDER_POLICY_ID]
    assert properties["ServiceTimeout"] == "1200"
    # Delete is CloudFormation's default for custom resources: not written, to save bytes.
    assert "DeletionPolicy" not in resource
    assert "UpdateReplacePolicy" not in resource


def test_each_extra_attachment_adds_exactly_one_resource(one: Template, twenty: Template) -> None:
    assert _count(twenty) - _count(one) == 19
    twenty.resource_count_is("AWS::Lambda::Function", 1)
    twenty.resource_count_is("AWS::IAM::Policy", 1)
    twenty.resource_count_is("AWS::IAM::Role", 1)
    for resource in resources_of_type(twenty, RESOURCE_TYPE).values():
        assert resource["DependsOn"] == [PROVIDER_POLICY_ID]


def test_iam_is_least_privilege(twenty: Template) -> None:
    create = statement(twenty, "CreateTaggedAttachments")
    assert create["Action"] == "sms-voice:CreateRegistrationAttachment"
    assert create["Resource"] == "*"
    assert create["Condition"] == {"Null": {f"aws:RequestTag/{SOURCE_TAG_KEY}": "false"}}
    reads = statement(twenty, "ReadAttachments")
    assert sorted(reads["Action"]) == [
        "sms-voice:DescribeRegistrationAttachments",
        "sms-voice:ListTagsForResource",
    ]
    assert "Condition" not in reads, "a gone attachment must still read as not found"
    writes = statement(twenty, "ChangeOwnAttachments")
    assert sorted(writes["Action"]) == [
        "sms-voice:DeleteRegistrationAttachment",
        "sms-voice:TagResource",
        "sms-voice:UntagResource",
    ]
    assert writes["Condition"] == {"Null": {f"aws:ResourceTag/{SOURCE_TAG_KEY}": "false"}}
    tag_on_create = statement(twenty, "TagOnCreate")
    assert tag_on_create["Action"] == "sms-voice:TagResource"
    # Only an attachment without the source tag yet, by a request that carries one: the grant
    # never re-marks an attachment that is already marked.
    assert tag_on_create["Condition"] == {
        "Null": {
            f"aws:RequestTag/{SOURCE_TAG_KEY}": "false",
            f"aws:ResourceTag/{SOURCE_TAG_KEY}": "true",
        }
    }
    keep = statement(twenty, "KeepSourceTag")
    assert (keep["Effect"], keep["Action"]) == ("Deny", "sms-voice:UntagResource")
    assert keep["Condition"] == {"ForAnyValue:StringEquals": {"aws:TagKeys": [SOURCE_TAG_KEY]}}
    for entry in (reads, writes, tag_on_create, keep):
        assert flat(entry["Resource"]).endswith(
            ":sms-voice:eu-west-1:123456789012:registration-attachment/*"
        )
    # CloudFormation: read-only, and only this stack.
    ask = statement(twenty, "AskCloudFormation")
    assert sorted(ask["Action"]) == [
        "cloudformation:DescribeStackResource",
        "cloudformation:DescribeStacks",
    ]
    assert ask["Resource"] == {"Ref": "AWS::StackId"}
    # Twenty PDF assets: one resource for all of them.
    assets = statement(twenty, "ReadDocumentAssets")
    assert assets["Action"] == "s3:GetObject"
    assert flat(assets["Resource"]).endswith(
        ":s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*.pdf"
    )
    actions = {
        action
        for entry in policy_document(twenty)["Statement"]
        for action in ([entry["Action"]] if isinstance(entry["Action"], str) else entry["Action"])
    }
    assert not any(action.endswith("*") for action in actions)
    twenty.resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_two_hundred_attachments_stay_within_iam_limits(outdir: Path) -> None:
    stack = _stack_with_files(outdir, "TwoHundred", 200)
    template = template_of(stack)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 0)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.resource_count_is(RESOURCE_TYPE, 200)
    assert len(json.dumps(policy_document(template))) < FIXED_POLICY_CHARS


def test_retain_sets_both_policies(outdir: Path) -> None:
    template = template_of(
        _stack_with_files(outdir, "Retained", 1, removal_policy=cdk.RemovalPolicy.RETAIN)
    )
    resource = next(iter(resources_of_type(template, RESOURCE_TYPE).values()))
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_mixed_file_types_share_one_statement(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Mixed", env=ENV)
    for index, path in enumerate([SAMPLE_PDF, SAMPLE_PNG, SAMPLE_JPEG, SAMPLE_PDF]):
        RegistrationAttachment(stack, f"D{index}", source=AttachmentSource.from_file(str(path)))
    template = template_of(stack)
    resources = statement(template, "ReadDocumentAssets")["Resource"]
    assert sorted(flat(entry).rsplit("/", 1)[1] for entry in resources) == [
        "*.jpg",
        "*.pdf",
        "*.png",
    ]


def test_from_bucket_grants_each_object_and_the_key(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "FromBucket", env=ENV)
    key = kms.Key(stack, "DocumentsKey", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Documents", encryption_key=key, versioned=True)
    first = RegistrationAttachment(
        stack, "Loa", source=AttachmentSource.from_bucket(bucket, "loa/letter.pdf")
    )
    RegistrationAttachment(
        stack,
        "Id",
        source=AttachmentSource.from_bucket(bucket, "id/passport.png", version_id="v1"),
        max_size_bytes=1024 * 1024,
    )
    RegistrationAttachment(  # the same object twice: granted once
        stack, "LoaAgain", source=AttachmentSource.from_bucket(bucket, "loa/letter.pdf")
    )
    template = template_of(stack)
    objects = statement(template, "ReadDocuments")
    assert objects["Action"] == "s3:GetObject"
    assert sorted(flat(entry).split("}", 1)[1] for entry in objects["Resource"]) == [
        "/id/passport.png",
        "/loa/letter.pdf",
    ]
    versions = statement(template, "ReadDocumentVersions")
    assert flat(versions["Resource"]).endswith("/id/passport.png")
    decrypt = statement(template, "DecryptDocuments")
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"]["Fn::GetAtt"][0].startswith("DocumentsKey")
    pinned = [
        resource["Properties"]
        for resource in resources_of_type(template, RESOURCE_TYPE).values()
        if "AttachmentVersionId" in resource["Properties"]
    ]
    assert len(pinned) == 1
    assert pinned[0]["AttachmentVersionId"] == "v1"
    assert pinned[0]["MaxSizeBytes"] == 1048576
    assert isinstance(first, IRegistrationAttachment)


def test_tags_from_tags_of_reach_the_property_and_prop_wins(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Tagged", env=ENV)
    RegistrationAttachment(
        stack,
        "Loa",
        source=AttachmentSource.from_file(str(SAMPLE_PDF)),
        tags={"owner": "prop-wins", "purpose": "loa"},
    )
    cdk.Tags.of(stack).add("team", "messaging")
    cdk.Tags.of(stack).add("owner", "stack")
    template = template_of(stack)
    resource = next(iter(resources_of_type(template, RESOURCE_TYPE).values()))
    assert resource["Properties"]["Tags"] == [
        {"Key": "owner", "Value": "prop-wins"},
        {"Key": "purpose", "Value": "loa"},
        {"Key": "team", "Value": "messaging"},
    ]


def test_from_attachment_id(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Imported", env=ENV)
    imported = RegistrationAttachment.from_attachment_id(stack, "Existing", "ra-0123abcd")
    assert isinstance(imported, IRegistrationAttachment)
    assert imported.attachment_id == "ra-0123abcd"
    assert flat(stack.resolve(imported.attachment_arn)) == (
        'arn:${Ref:"AWS::Partition"}:sms-voice:eu-west-1:123456789012:'
        "registration-attachment/ra-0123abcd"
    )
    with pytest.raises(AttachmentValidationError, match="attachment_id 'not an id'"):
        RegistrationAttachment.from_attachment_id(stack, "Bad", "not an id")


def test_attributes_are_getatt_tokens(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Attrs", env=ENV)
    loa = RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(str(SAMPLE_PDF)))
    logical_id = stack.get_logical_id(loa.node.find_child("Resource"))  # type: ignore[arg-type]
    assert stack.resolve(loa.attachment_id) == {
        "Fn::GetAtt": [logical_id, "RegistrationAttachmentId"]
    }
    assert stack.resolve(loa.attachment_arn) == {
        "Fn::GetAtt": [logical_id, "RegistrationAttachmentArn"]
    }


class TestValidationAtConstruction:
    def test_png_named_pdf(self, make_file) -> None:
        path = make_file("logo.pdf", SAMPLE_PNG.read_bytes())
        with pytest.raises(
            AttachmentValidationError, match="content is PNG but the extension says PDF"
        ):
            AttachmentSource.from_file(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(AttachmentValidationError, match="file does not exist"):
            AttachmentSource.from_file(str(tmp_path / "absent.pdf"))

    def test_size_over_max_size_bytes(self, outdir: Path) -> None:
        stack = cdk.Stack(new_app(outdir), "TooBig", env=ENV)
        with pytest.raises(AttachmentValidationError, match="over the 100-byte limit"):
            RegistrationAttachment(
                stack, "Loa", source=AttachmentSource.from_file(str(SAMPLE_PDF)), max_size_bytes=100
            )

    def test_bad_tags_and_settings(self, outdir: Path) -> None:
        stack = cdk.Stack(new_app(outdir), "BadProps", env=ENV)
        source = AttachmentSource.from_file(str(SAMPLE_PDF))
        with pytest.raises(AttachmentValidationError, match="reserved prefix aws:"):
            RegistrationAttachment(stack, "A", source=source, tags={"aws:owner": "x"})
        with pytest.raises(AttachmentValidationError, match="max_size_bytes"):
            RegistrationAttachment(stack, "B", source=source, max_size_bytes=0)
        with pytest.raises(AttachmentValidationError, match="removal_policy"):
            RegistrationAttachment(
                stack, "C", source=source, removal_policy=cdk.RemovalPolicy.SNAPSHOT
            )
        with pytest.raises(AttachmentValidationError, match="source must be"):
            RegistrationAttachment(stack, "D", source="loa.pdf")  # type: ignore[arg-type]

    def test_from_bucket_key_extension(self, outdir: Path) -> None:
        stack = cdk.Stack(new_app(outdir), "BadKey", env=ENV)
        bucket = s3.Bucket.from_bucket_name(stack, "Docs", "docs-bucket")
        with pytest.raises(AttachmentValidationError, match=r"letter\.docx: has \.docx"):
            AttachmentSource.from_bucket(bucket, "letter.docx")
        with pytest.raises(AttachmentValidationError, match="must not be empty"):
            AttachmentSource.from_bucket(bucket, "letter.pdf", version_id="")
        with pytest.raises(AttachmentValidationError, match="or spaces"):
            AttachmentSource.from_bucket(bucket, "signed letter.pdf")
        with pytest.raises(AttachmentValidationError, match="too long"):
            AttachmentSource.from_bucket(bucket, "k" * 2000 + ".pdf")


def _stack_with_objects(outdir: Path, count: int) -> cdk.Stack:
    stack = cdk.Stack(new_app(outdir), f"Objects{count}", env=ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "Docs", "registration-documents-bucket")
    for index in range(count):
        key = f"registrations/2026/sender-ids/letter-of-authorization-{index:03}.pdf"
        RegistrationAttachment(stack, f"D{index}", source=AttachmentSource.from_bucket(bucket, key))
    return stack


def test_from_bucket_grants_that_would_overflow_iam_fail_the_synth(outdir: Path) -> None:
    template = template_of(_stack_with_objects(outdir, 60))
    assert len(statement(template, "ReadDocuments")["Resource"]) == 60
    with pytest.raises(RuntimeError, match=r"120 from_bucket objects need about \d+ characters"):
        template_of(_stack_with_objects(outdir, 120))
