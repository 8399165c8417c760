"""The harness's IAM evaluator (tests/e2e/iam_eval.py): IAM's rules, one at a time."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.e2e.fake_cloudformation import FakeCloudFormation
from tests.e2e.fake_sms import FakeSmsService
from tests.e2e.iam_eval import (
    Context,
    IamRegistry,
    Identity,
    PolicyError,
    Request,
    Resource,
    access_key_for,
    arn_match,
    assumed_role_arn,
    evaluate,
    identity_policies,
    parse_authorization,
    requests_for,
    s3_object_request,
    sms_requests,
    sms_resource_arns,
    statement_matches,
)
from tests.e2e.servers import MotoS3Server, S3IamProxy

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Stack-HandlerRole"
PRINCIPAL = assumed_role_arn(ROLE, "Stack-Handler")
PREFIX = f"arn:aws:sms-voice:{REGION}:{ACCOUNT}"
REGISTRATION = f"{PREFIX}:registration/registration-{'a' * 32}"
ATTACHMENT = f"{PREFIX}:registration-attachment/ra-{'b' * 32}"
PHONE = f"{PREFIX}:phone-number/phone-{'c' * 32}"
OWNER = "cdk-sms-registration:owner"
OWNED = {OWNER: "mark"}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: Any, resource: Any = "*", **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _decide(policy: dict[str, Any], request: Request, **options: Any) -> Any:
    return evaluate([policy], request, principal_arn=PRINCIPAL, account=ACCOUNT, **options)


def _call(action: str, *resources: Resource, **options: Any) -> Request:
    return Request(action, list(resources), region=REGION, **options)


def _holds(condition: dict[str, Any], keys: dict[str, list[str]]) -> bool:
    statement = {**_allow("sms-voice:TagResource"), "Condition": condition}
    return statement_matches(statement, "sms-voice:TagResource", REGISTRATION, Context(keys))


# --------------------------------------------------------------------------- decisions


def test_no_allow_is_denied_with_iams_message() -> None:
    decision = _decide(_policy(), _call("sms-voice:DeleteRegistration", Resource(REGISTRATION)))
    assert not decision.allowed
    assert decision.denied_by is None
    assert decision.message == (
        f"User: {PRINCIPAL} is not authorized to perform: sms-voice:DeleteRegistration on "
        f"resource: {REGISTRATION} because no identity-based policy allows the "
        "sms-voice:DeleteRegistration action"
    )


def test_an_explicit_deny_wins_over_an_allow() -> None:
    policy = _policy(
        _allow("sms-voice:*"),
        {"Effect": "Deny", "Action": "sms-voice:DeleteRegistration", "Resource": REGISTRATION},
    )
    request = _call("sms-voice:DeleteRegistration", Resource(REGISTRATION, OWNED))
    decision = _decide(policy, request)
    assert (decision.allowed, decision.denied_by) == (False, "identity")
    assert decision.message.endswith("with an explicit deny in an identity-based policy")
    assert _decide(policy, _call("sms-voice:DescribeRegistrations", Resource(REGISTRATION))).allowed


def test_actions_match_with_wildcards_and_in_any_case() -> None:
    request = _call("sms-voice:DescribeRegistrations", Resource(REGISTRATION))
    assert _decide(_policy(_allow("SMS-VOICE:describe*")), request).allowed
    assert _decide(_policy(_allow("sms-voice:Describe?egistrations")), request).allowed
    assert not _decide(_policy(_allow("sms-voice:Describe?Registrations")), request).allowed
    assert not _decide(_policy(_allow("sms-voice:DescribeRegistrationsX")), request).allowed
    not_action = {"Effect": "Allow", "NotAction": "sms-voice:Delete*", "Resource": "*"}
    assert _decide(_policy(not_action), request).allowed
    deleting = _call("sms-voice:DeleteRegistration", Resource(REGISTRATION))
    assert not _decide(_policy(not_action), deleting).allowed


def test_resources_match_arn_wildcards_part_by_part() -> None:
    assert arn_match("*", REGISTRATION)
    assert arn_match(f"{PREFIX}:registration/*", REGISTRATION)
    assert not arn_match(f"{PREFIX}:registration/*", ATTACHMENT)
    assert arn_match(f"arn:aws:sms-voice:*:{ACCOUNT}:registration/*", REGISTRATION)
    assert not arn_match("arn:aws:sms-voice:*:999999999999:registration/*", REGISTRATION)
    assert arn_match("arn:aws:sms-voice:*", REGISTRATION)  # the last part covers the rest
    assert arn_match("arn:aws:s3:::bucket/*.pdf", "arn:aws:s3:::bucket/a/b.pdf")
    assert not arn_match("arn:aws:s3:::bucket/*.pdf", "arn:aws:s3:::bucket/a.png")
    assert not arn_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::other/a.pdf")
    assert arn_match("arn:aws:s3:::b?cket/*", "arn:aws:s3:::bucket/x")
    # "*" within a part does not reach into the next one.
    assert not arn_match("arn:aws:sms-voice:us-*:registration/*", REGISTRATION)
    # An action without a resource type is authorized against "*": a typed grant misses it.
    request = _call("sms-voice:CreateRegistration")
    assert not _decide(_policy(_allow("*", f"{PREFIX}:registration/*")), request).allowed
    assert _decide(_policy(_allow("*", "*")), request).allowed
    not_resource = {"Effect": "Allow", "Action": "*", "NotResource": f"{PREFIX}:registration/*"}
    attachment = _call("sms-voice:DeleteRegistrationAttachment", Resource(ATTACHMENT))
    assert _decide(_policy(not_resource), attachment).allowed
    registration = _call("sms-voice:DeleteRegistration", Resource(REGISTRATION))
    assert not _decide(_policy(not_resource), registration).allowed


def test_every_resource_of_the_request_must_be_allowed() -> None:
    (request,) = requests_for(
        "sms-voice",
        "CreateRegistrationAssociation",
        [Resource(REGISTRATION, OWNED), Resource(PHONE, {})],
        region=REGION,
        account=ACCOUNT,
    )
    assert [r.arn for r in request.resources] == [REGISTRATION, PHONE]
    owned = {"Null": {f"aws:ResourceTag/{OWNER}": "false"}}
    # One statement for both, with the owner-tag condition: the phone number never passes it.
    both_tagged = _allow(
        "sms-voice:CreateRegistrationAssociation", [f"{PREFIX}:registration/*", f"{PREFIX}:*"]
    )
    both_tagged["Condition"] = owned
    decision = _decide(_policy(both_tagged), request)
    assert (decision.allowed, decision.resource) == (False, PHONE)
    only_registrations = _allow(
        "sms-voice:CreateRegistrationAssociation", f"{PREFIX}:registration/*"
    )
    only_registrations["Condition"] = owned
    assert _decide(_policy(only_registrations), request).resource == PHONE
    numbers = _allow("sms-voice:CreateRegistrationAssociation", f"{PREFIX}:phone-number/*")
    assert _decide(_policy(only_registrations, numbers), request).allowed
    # ... and the registration side still needs the owner tag.
    (foreign,) = requests_for(
        "sms-voice",
        "CreateRegistrationAssociation",
        [Resource(REGISTRATION, {}), Resource(PHONE, {})],
        region=REGION,
        account=ACCOUNT,
    )
    decision = _decide(_policy(only_registrations, numbers), foreign)
    assert (decision.allowed, decision.resource) == (False, REGISTRATION)


def test_request_context_resources_come_from_the_service_authorization_reference() -> None:
    sender = f"{PREFIX}:sender-id/MYCOMPANY/GB"
    (request,) = requests_for(
        "sms-voice",
        "CreateRegistrationAssociation",
        [Resource(REGISTRATION, OWNED), Resource(sender, {})],
        region=REGION,
        account=ACCOUNT,
    )
    # The reference lists PhoneNumber, RcsAgent and Registration for this action, not SenderId.
    assert [r.arn for r in request.resources] == [REGISTRATION]
    with pytest.raises(PolicyError, match="names no Registration"):
        requests_for(
            "sms-voice",
            "DeleteRegistration",
            [Resource(ATTACHMENT, {})],
            region=REGION,
            account=ACCOUNT,
        )


# --------------------------------------------------------------------------- conditions


def test_string_operators() -> None:
    key = f"aws:ResourceTag/{OWNER}"
    tagged = {key: ["mark-1"]}
    assert _holds({"StringEquals": {key: ["other", "mark-1"]}}, tagged)
    assert not _holds({"StringEquals": {key: "MARK-1"}}, tagged)
    assert _holds({"StringEqualsIgnoreCase": {key: "MARK-1"}}, tagged)
    assert not _holds({"StringEquals": {key: "mark-1"}}, {})
    assert not _holds({"StringNotEquals": {key: "mark-1"}}, tagged)
    assert _holds({"StringNotEquals": {key: "mark-2"}}, tagged)
    assert _holds({"StringNotEquals": {key: "mark-1"}}, {})  # negated: a missing key passes
    assert _holds({"StringLike": {key: "mark-?"}}, tagged)
    assert not _holds({"StringLike": {key: "mark-??"}}, tagged)
    assert not _holds({"StringNotLike": {key: "mark-*"}}, tagged)
    assert _holds({"StringNotLike": {key: "other*"}}, tagged)
    assert _holds({"StringEqualsIfExists": {key: "mark-1"}}, {})
    assert not _holds({"StringEqualsIfExists": {key: "mark-2"}}, tagged)
    # Condition key names are case-insensitive.
    assert _holds({"StringEquals": {key.upper(): "mark-1"}}, tagged)
    # Keys of one operator are ANDed; so are operators.
    both = {"StringEquals": {key: "mark-1", "aws:RequestedRegion": REGION}}
    assert not _holds(both, tagged)
    assert _holds(both, {**tagged, "aws:RequestedRegion": [REGION]})


def test_null_bool_and_arn_operators() -> None:
    key = f"aws:ResourceTag/{OWNER}"
    assert _holds({"Null": {key: "true"}}, {})
    assert not _holds({"Null": {key: "true"}}, {key: ["x"]})
    assert _holds({"Null": {key: "false"}}, {key: ["x"]})
    assert not _holds({"Null": {key: "false"}}, {})
    assert _holds({"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []})
    assert _holds({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": ["TRUE"]})
    assert _holds({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": ["true"]})
    assert not _holds({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": ["false"]})
    assert not _holds({"Bool": {"aws:SecureTransport": "true"}}, {})
    principal = {"aws:PrincipalArn": [ROLE]}
    assert _holds({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Stack-*"}}, principal)
    assert not _holds({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Other-*"}}, principal)
    assert _holds({"ArnEquals": {"aws:PrincipalArn": ROLE}}, principal)
    assert not _holds({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}, principal)
    assert _holds({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}}, principal)


def test_set_qualifiers_on_multivalued_keys() -> None:
    keys = {"aws:TagKeys": [OWNER, "team"]}
    assert _holds({"ForAnyValue:StringEquals": {"aws:TagKeys": OWNER}}, keys)
    assert not _holds({"ForAnyValue:StringEquals": {"aws:TagKeys": "other"}}, keys)
    assert not _holds({"ForAnyValue:StringEquals": {"aws:TagKeys": OWNER}}, {})
    assert not _holds({"ForAllValues:StringEquals": {"aws:TagKeys": OWNER}}, keys)
    assert _holds({"ForAllValues:StringEquals": {"aws:TagKeys": [OWNER, "team"]}}, keys)
    assert _holds({"ForAllValues:StringEquals": {"aws:TagKeys": OWNER}}, {})  # empty: passes
    assert _holds({"ForAllValues:StringLike": {"aws:TagKeys": ["cdk-*", "te?m"]}}, keys)
    assert _holds({"ForAnyValue:StringNotEquals": {"aws:TagKeys": OWNER}}, keys)
    assert not _holds({"ForAllValues:StringNotEquals": {"aws:TagKeys": OWNER}}, keys)
    with pytest.raises(PolicyError, match="multivalued"):
        _holds({"StringEquals": {"aws:TagKeys": OWNER}}, keys)
    with pytest.raises(PolicyError, match="not supported"):
        _holds({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {})


def test_tag_keys_and_request_tags_follow_the_actions_condition_keys() -> None:
    (tag,) = requests_for(
        "sms-voice",
        "TagResource",
        [Resource(REGISTRATION, OWNED)],
        region=REGION,
        account=ACCOUNT,
        tags={"team": "sms"},
    )
    assert (tag.request_tags, tag.tag_keys) == ({"team": "sms"}, ["team"])
    (untag,) = requests_for(
        "sms-voice",
        "UntagResource",
        [Resource(REGISTRATION, OWNED)],
        region=REGION,
        account=ACCOUNT,
        tag_keys=[OWNER],
    )
    # UntagResource supports aws:TagKeys but no aws:RequestTag.
    assert (untag.request_tags, untag.tag_keys) == (None, [OWNER])
    deny = {
        "Effect": "Deny",
        "Action": "sms-voice:UntagResource",
        "Resource": f"{PREFIX}:registration/*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": [OWNER]}},
    }
    policy = _policy(_allow("sms-voice:UntagResource"), deny)
    assert _decide(policy, untag).denied_by == "identity"
    other = Request(untag.action, untag.resources, tag_keys=["team"], region=REGION)
    assert _decide(policy, other).allowed


def test_a_tagged_create_also_needs_tag_resource_on_the_new_resource() -> None:
    create, tag = requests_for(
        "sms-voice",
        "CreateRegistration",
        [],
        region=REGION,
        account=ACCOUNT,
        tags={OWNER: "mark"},
    )
    assert (create.action, create.resources, create.request_tags) == (
        "sms-voice:CreateRegistration",
        [],
        {OWNER: "mark"},
    )
    assert tag.action == "sms-voice:TagResource"
    ((new,),) = [tag.resources]
    assert new.arn.startswith(f"{PREFIX}:registration/new-") and new.tags is None
    assert (tag.request_tags, tag.tag_keys) == ({OWNER: "mark"}, [OWNER])
    creates = _allow("sms-voice:CreateRegistration")
    # The new resource has no tags: a grant that needs aws:ResourceTag cannot cover it ...
    owned_only = _allow("sms-voice:TagResource", f"{PREFIX}:registration/*")
    owned_only["Condition"] = {"Null": {f"aws:ResourceTag/{OWNER}": "false"}}
    assert not _decide(_policy(creates, owned_only), tag).allowed
    # ... one for resources without the tag yet, carrying it in the request, does.
    on_create = _allow("sms-voice:TagResource", f"{PREFIX}:registration/*")
    on_create["Condition"] = {
        "Null": {f"aws:ResourceTag/{OWNER}": "true", f"aws:RequestTag/{OWNER}": "false"}
    }
    assert _decide(_policy(creates, on_create), tag).allowed
    assert _decide(_policy(creates, on_create), create).allowed
    assert len(requests_for("sms-voice", "CreateRegistration", [], region=REGION, account="1")) == 1


# --------------------------------------------------------------------------- plumbing


def test_the_registry_evaluates_registered_keys_and_test_denies() -> None:
    registry = IamRegistry()
    key = access_key_for(ROLE)
    assert key != access_key_for(ROLE + "2") and key.startswith("ASIA")
    request = _call("sms-voice:DescribeRegistrations", Resource(REGISTRATION))
    assert registry.authorize(key, "DescribeRegistrations", lambda _i: [request]) is None
    registry.register(key, Identity(ROLE, PRINCIPAL, (_policy(_allow("sms-voice:*")),)))
    allowed = registry.authorize(key, "DescribeRegistrations", lambda _i: [request])
    assert allowed is not None and allowed.allowed
    registry.add_deny({"Action": "sms-voice:DescribeRegistrations", "Resource": "*"})
    denied = registry.authorize(key, "DescribeRegistrations", lambda _i: [request])
    assert denied is not None and denied.denied_by == "boundary"
    assert denied.message.endswith("with an explicit deny in a service control policy")
    assert [d.operation for d in registry.denials] == ["DescribeRegistrations"]
    registry.reset()
    assert registry.denials == []
    registry.add_deny({"Action": "*", "Resource": "*"}, access_key="someone-else")
    again = registry.authorize(key, "DescribeRegistrations", lambda _i: [request])
    assert again is not None and again.allowed


def test_sms_requests_name_resources_by_id_or_arn() -> None:
    assert sms_resource_arns(
        {
            "RegistrationId": f"registration-{'a' * 32}",
            "ResourceId": f"phone-{'c' * 32}",
        },
        REGION,
        ACCOUNT,
    ) == [REGISTRATION, PHONE]
    assert sms_resource_arns({"RegistrationIds": [REGISTRATION]}, REGION, ACCOUNT) == [REGISTRATION]
    assert sms_resource_arns({"RegistrationAttachmentId": f"ra-{'b' * 32}"}, REGION, ACCOUNT) == [
        ATTACHMENT
    ]
    tags = {REGISTRATION: OWNED}
    (request,) = sms_requests(
        "ListTagsForResource",
        {"ResourceArn": REGISTRATION},
        region=REGION,
        account=ACCOUNT,
        tags_of=tags.get,
    )
    assert request.resources == [Resource(REGISTRATION, OWNED)]


def test_s3_object_reads_and_signatures() -> None:
    read = s3_object_request("GET", "/bucket/docs/a%20b.pdf", {})
    assert read is not None and read.action == "s3:GetObject"
    assert read.resources[0].arn == "arn:aws:s3:::bucket/docs/a b.pdf"
    version = s3_object_request("HEAD", "/bucket/a.pdf", {"versionId": ["v1"]})
    assert version is not None and version.action == "s3:GetObjectVersion"
    assert s3_object_request("PUT", "/bucket/a.pdf", {}) is None
    assert s3_object_request("GET", "/bucket", {}) is None
    header = (
        "AWS4-HMAC-SHA256 Credential=ASIAKEY/20260101/us-east-1/sms-voice/aws4_request, "
        "SignedHeaders=host, Signature=abc"
    )
    assert parse_authorization(header) == ("ASIAKEY", "us-east-1", "sms-voice")
    assert parse_authorization(None) is None


def test_identity_policies_of_a_role_in_a_template() -> None:
    def document(sid: str) -> dict[str, Any]:
        return _policy({"Sid": sid, **_allow("s3:GetObject")})

    resources = {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [{"PolicyName": "inline", "PolicyDocument": document("Inline")}],
                "ManagedPolicyArns": [{"Ref": "Managed"}, "arn:aws:iam::aws:policy/Aws"],
            },
        },
        "Attached": {
            "Type": "AWS::IAM::Policy",
            "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": document("Attached")},
        },
        "Managed": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": document("M")},
        },
        "Off": {
            "Type": "AWS::IAM::Policy",
            "Condition": "Never",
            "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": document("Off")},
        },
        "Elsewhere": {
            "Type": "AWS::IAM::Policy",
            "Properties": {"Roles": [{"Ref": "Other"}], "PolicyDocument": document("Other")},
        },
    }
    found = identity_policies(
        resources,
        "Role",
        names_role=lambda entry: entry == {"Ref": "Role"},
        exists=lambda resource: resource.get("Condition") != "Never",
    )
    assert [d["Statement"][0]["Sid"] for d in found] == ["Inline", "Attached", "M"]


# --------------------------------------------------------------------------- the fakes


def _client(service: str, endpoint_url: str, access_key: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}
        ),
    )


def _handler_role(registry: IamRegistry, *statements: dict[str, Any]) -> str:
    key = access_key_for(ROLE)
    registry.register(key, Identity(ROLE, PRINCIPAL, (_policy(*statements),)))
    return key


def test_the_fake_sms_service_refuses_what_the_callers_policy_does_not_allow() -> None:
    registry = IamRegistry()
    owned = {"Null": {f"aws:ResourceTag/{OWNER}": "false"}}
    key = _handler_role(
        registry,
        _allow("sms-voice:DescribeRegistrations", f"{PREFIX}:registration/*"),
        {
            **_allow("sms-voice:CreateRegistrationAssociation", f"{PREFIX}:registration/*"),
            "Condition": owned,
        },
    )
    with FakeSmsService(s3_endpoint_url="http://127.0.0.1:9") as service:
        service.iam = registry
        tester = service.client()
        registration = tester.create_registration(
            RegistrationType="US_TOLL_FREE_REGISTRATION", Tags=[{"Key": OWNER, "Value": "m"}]
        )["RegistrationId"]
        number = service.registrations.add_phone_number()["PhoneNumberId"]
        handler = _client("pinpoint-sms-voice-v2", service.url, key)
        handler.describe_registrations(RegistrationIds=[registration])
        with pytest.raises(ClientError) as denied:
            handler.create_registration_association(RegistrationId=registration, ResourceId=number)
        error = denied.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert error["Message"] == (
            f"User: {PRINCIPAL} is not authorized to perform: "
            f"sms-voice:CreateRegistrationAssociation on resource: {PREFIX}:phone-number/{number} "
            "because no identity-based policy allows the sms-voice:CreateRegistrationAssociation "
            "action"
        )
        (violation,) = service.take_violations()
        assert violation.startswith("CreateRegistrationAssociation: IAM denied the call: User:")
        snapshot = service.registrations.registration(registration)
        assert snapshot is not None and snapshot["Associations"] == []
        # A test's own deny refuses the call, and is not a violation.
        registry.add_deny({"Action": "sms-voice:DescribeRegistrations", "Resource": "*"})
        with pytest.raises(ClientError, match="explicit deny in a service control policy"):
            handler.describe_registrations(RegistrationIds=[registration])
        assert service.take_violations() == []
        # The tests' own clients are never evaluated.
        tester.describe_registrations(RegistrationIds=[registration])


def test_the_fake_cloudformation_refuses_other_stacks() -> None:
    registry = IamRegistry()
    own = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Own/1"
    key = _handler_role(registry, _allow("cloudformation:DescribeStacks", own))
    with FakeCloudFormation() as fake:
        fake.iam = registry
        client = _client("cloudformation", fake.url, key)
        with pytest.raises(ClientError, match="does not exist"):
            client.describe_stacks(StackName=own)  # allowed; the fake knows no such stack
        other = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Other/2"
        with pytest.raises(ClientError) as denied:
            client.describe_stacks(StackName=other)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert f"cloudformation:DescribeStacks on resource: {other}" in str(denied.value)
        (violation,) = fake.take_violations()
        assert "IAM denied the call" in violation


def test_the_s3_proxy_evaluates_object_reads() -> None:
    registry = IamRegistry()
    key = _handler_role(registry, _allow("s3:GetObject", "arn:aws:s3:::docs/*.pdf"))
    with MotoS3Server() as moto, S3IamProxy(moto.url, registry) as proxy:
        tester = moto.client()
        tester.create_bucket(Bucket="docs")
        tester.put_object(Bucket="docs", Key="a.pdf", Body=b"%PDF-1")
        tester.put_object(Bucket="docs", Key="a.png", Body=b"png")
        handler = _client("s3", proxy.url, key)
        assert handler.head_object(Bucket="docs", Key="a.pdf")["ContentLength"] == 6
        assert handler.get_object(Bucket="docs", Key="a.pdf", Range="bytes=0-3")["Body"].read() == (
            b"%PDF"
        )
        with pytest.raises(ClientError) as denied:
            handler.get_object(Bucket="docs", Key="a.png")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        with pytest.raises(ClientError, match="403"):
            handler.head_object(Bucket="docs", Key="a.pdf", VersionId="null")
        violations = proxy.take_violations()
        assert [v.split(":")[0] for v in violations] == [
            "S3 GET /docs/a.png",
            "S3 HEAD /docs/a.pdf?versionId=null",
        ]
