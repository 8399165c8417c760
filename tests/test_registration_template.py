"""What the Registration construct synthesizes, and what it refuses at construction.

One app with three stacks is synthesized once (under cdk-nag): a registration stack, a stack
with attachments only, and a stack that uses the shared provider's ServiceToken.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from cdk_sms_registration import (
    AttachmentSource,
    AttachmentValidationError,
    IRegistration,
    Registration,
    RegistrationAttachment,
    RegistrationAttachmentProvider,
    RegistrationValidationError,
    import_service_token,
)
from cdk_sms_registration.provider import REGISTRATION_POLICY_CHARS
from cdk_sms_registration.registration import KEPT_REFERENCE_WARNING
from cdk_sms_registration_handler.registration_contract import (
    OWNER_TAG_KEY,
    RESOURCE_TYPE,
    parse_properties,
)

from .cdk_apps import ENV, flat
from .conftest import REPO, SAMPLE_PDF, SAMPLE_PNG

PHONE = "phone-0123456789abcdef0123456789abcdef"
IMPORTED_ATTACHMENT = "registration-attachment-0123456789abcdef"
SECRET = "Jane Q. Private"


def _registration_stack(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Registrations", env=ENV)
    cdk.Tags.of(stack).add("env", "test")
    opt_in = RegistrationAttachment(
        stack, "OptIn", source=AttachmentSource.from_file(str(SAMPLE_PNG))
    )
    imported = RegistrationAttachment.from_attachment_id(stack, "Imported", IMPORTED_ATTACHMENT)
    contact = cdk.CfnParameter(stack, "ContactName", no_echo=True)
    registration = Registration(
        stack,
        "TollFree",
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields={
            "companyInfo.companyName": "Example Corp",
            "contactInfo.firstName": contact.value_as_string,
            "messagingUseCase.monthlyMessageVolume": "10,000",
            "messagingUseCase.useCaseCategory": ["ACCOUNT_NOTIFICATIONS", "TWO_FACTOR"],
            "messagingUseCase.optInImage": opt_in,
            "messagingUseCase.termsImage": AttachmentSource.from_file(str(SAMPLE_PDF)),
            "messagingUseCase.privacyImage": imported,
        },
        associations=[PHONE],
        submit=True,
        tags={"team": "messaging"},
    )
    for name in ("registration_id", "registration_arn", "registration_status"):
        cdk.CfnOutput(stack, name.title().replace("_", ""), value=getattr(registration, name))
    cdk.CfnOutput(stack, "VersionNumber", value=registration.version_number)
    cdk.CfnOutput(stack, "VersionStatus", value=registration.version_status)
    Registration(
        stack,
        "Vetting",
        registration_type="US_TEN_DLC_BRAND_VETTING",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp("registration-out")
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    _registration_stack(app)
    attachments_only = cdk.Stack(app, "AttachmentsOnly", env=ENV)
    RegistrationAttachment(
        attachments_only, "Loa", source=AttachmentSource.from_file(str(SAMPLE_PDF))
    )
    shared = cdk.Stack(app, "SharedToken", env=ENV)
    Registration(
        shared,
        "Brand",
        registration_type="US_TEN_DLC_BRAND_REGISTRATION",
        service_token=import_service_token(),
    )
    assembly = app.synth()
    report = outdir / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text())["pluginReports"]:
            assert plugin["conclusion"] == "success", plugin
    found = {
        name: json.loads(Path(assembly.get_stack_by_name(name).template_full_path).read_text())
        for name in ("Registrations", "AttachmentsOnly", "SharedToken")
    }
    acknowledged: dict[str, str] = {}
    for metadata in outdir.glob("Registrations*.metadata.json"):
        for entries in json.loads(metadata.read_text()).values():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged.update(entry["data"])
    found["_metadata"] = {
        "acknowledged": acknowledged,
        "templates": sorted(str(path) for path in outdir.glob("*.template.json")),
    }
    return found


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _registration(template: dict[str, Any], logical_prefix: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [
        (k, v) for k, v in _of_type(template, RESOURCE_TYPE).items() if k.startswith(logical_prefix)
    ]
    return logical_id, resource


def _statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [policy] = _of_type(template, "AWS::IAM::Policy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_properties_render_every_kind_of_value(templates: dict[str, Any]) -> None:
    template = templates["Registrations"]
    _, resource = _registration(template, "TollFree")
    properties = resource["Properties"]
    fields = {entry["Path"]: entry for entry in properties["Fields"]}
    assert fields["companyInfo.companyName"] == {
        "Path": "companyInfo.companyName",
        "Text": "Example Corp",
    }
    assert fields["contactInfo.firstName"] == {
        "Path": "contactInfo.firstName",
        "Text": {"Ref": "ContactName"},
    }
    assert fields["messagingUseCase.monthlyMessageVolume"]["Text"] == "10,000"
    assert fields["messagingUseCase.useCaseCategory"]["Choices"] == [
        "ACCOUNT_NOTIFICATIONS",
        "TWO_FACTOR",
    ]
    opt_in = fields["messagingUseCase.optInImage"]["AttachmentId"]["Fn::GetAtt"]
    assert opt_in[0].startswith("OptIn") and opt_in[1] == "RegistrationAttachmentId"
    terms = fields["messagingUseCase.termsImage"]["AttachmentId"]["Fn::GetAtt"]
    assert terms[0].startswith("TollFreemessagingUseCasetermsImage")
    assert fields["messagingUseCase.privacyImage"]["AttachmentId"] == IMPORTED_ATTACHMENT
    assert properties["Associations"] == [PHONE]
    assert properties["Submit"] is True
    assert properties["Tags"] == [
        {"Key": "env", "Value": "test"},
        {"Key": "team", "Value": "messaging"},
    ]
    assert properties["ServiceTimeout"] == "1200"
    assert properties["ServiceToken"]["Fn::GetAtt"][1] == "Arn"
    # The handler reads exactly what the construct writes (tokens stand in for their values).
    as_delivered = json.loads(json.dumps(properties).replace('{"Ref": "ContactName"}', '"x"'))
    for entry in as_delivered["Fields"]:
        if isinstance(entry.get("AttachmentId"), dict):
            entry["AttachmentId"] = "ra-0123"
    spec = parse_properties(as_delivered)
    assert spec.submit is True
    assert len(spec.fields) == 7


def test_attributes_are_ref_and_getatt(templates: dict[str, Any]) -> None:
    template = templates["Registrations"]
    logical_id, _ = _registration(template, "TollFree")
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert outputs["RegistrationId"] == {"Ref": logical_id}
    assert outputs["RegistrationArn"] == {"Fn::GetAtt": [logical_id, "RegistrationArn"]}
    assert outputs["RegistrationStatus"] == {"Fn::GetAtt": [logical_id, "RegistrationStatus"]}
    assert outputs["VersionNumber"] == {"Fn::GetAtt": [logical_id, "VersionNumber"]}
    assert outputs["VersionStatus"] == {"Fn::GetAtt": [logical_id, "VersionStatus"]}


def test_retain_is_the_default_and_destroy_writes_nothing(templates: dict[str, Any]) -> None:
    template = templates["Registrations"]
    _, retained = _registration(template, "TollFree")
    assert (retained["DeletionPolicy"], retained["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # The attachment made for a field shares the registration's fate.
    [terms] = [
        r
        for k, r in _of_type(template, "Custom::SmsRegistrationAttachment").items()
        if k.startswith("TollFreemessagingUseCasetermsImage")
    ]
    assert terms["DeletionPolicy"] == "Retain"
    _, destroyed = _registration(template, "Vetting")
    assert "DeletionPolicy" not in destroyed and "UpdateReplacePolicy" not in destroyed
    assert destroyed["Properties"]["Fields"] == []
    assert destroyed["Properties"]["Submit"] is False


def test_one_provider_serves_both_types(templates: dict[str, Any]) -> None:
    template = templates["Registrations"]
    assert len(_of_type(template, "AWS::Lambda::Function")) == 1
    [policy_id] = _of_type(template, "AWS::IAM::Policy")
    for resource in _of_type(template, RESOURCE_TYPE).values():
        assert resource["DependsOn"] == [policy_id]


def test_registration_permissions(templates: dict[str, Any]) -> None:
    statements = _statements(templates["Registrations"])
    create = statements["CreateTaggedRegistrations"]
    assert create["Action"] == "sms-voice:CreateRegistration"
    assert create["Resource"] == "*"
    assert create["Condition"] == {"Null": {f"aws:RequestTag/{OWNER_TAG_KEY}": "false"}}
    definitions = statements["ReadRegistrationDefinitions"]
    assert "sms-voice:DescribeRegistrationFieldDefinitions" in definitions["Action"]
    assert definitions["Resource"] == "*"
    reads = statements["ReadRegistrations"]
    assert flat(reads["Resource"]).endswith(":sms-voice:eu-west-1:123456789012:registration/*")
    assert "Condition" not in reads
    assert "sms-voice:DescribeRegistrationFieldValues" in reads["Action"]
    writes = statements["ChangeOwnRegistrations"]
    assert flat(writes["Resource"]) == flat(reads["Resource"])
    owner_tagged = {"Null": {f"aws:ResourceTag/{OWNER_TAG_KEY}": "false"}}
    assert writes["Condition"] == owner_tagged
    assert set(writes["Action"]) == {
        "sms-voice:DeleteRegistration",
        "sms-voice:PutRegistrationFieldValue",
        "sms-voice:DeleteRegistrationFieldValue",
        "sms-voice:SubmitRegistrationVersion",
        "sms-voice:DiscardRegistrationVersion",
        "sms-voice:CreateRegistrationVersion",
        "sms-voice:UntagResource",
    }
    assert not set(writes["Action"]) & set(reads["Action"])
    # Tag on create: only a registration without an owner tag, by a request that carries one.
    on_create = statements["TagRegistrationOnCreate"]
    assert (on_create["Action"], flat(on_create["Resource"])) == (
        "sms-voice:TagResource",
        flat(reads["Resource"]),
    )
    assert on_create["Condition"] == {
        "Null": {
            f"aws:RequestTag/{OWNER_TAG_KEY}": "false",
            f"aws:ResourceTag/{OWNER_TAG_KEY}": "true",
        }
    }
    # The user's tags on owned registrations; never the owner tag itself.
    retag = statements["RetagOwnRegistrations"]
    assert (retag["Action"], flat(retag["Resource"])) == (
        "sms-voice:TagResource",
        flat(reads["Resource"]),
    )
    assert retag["Condition"] == {
        **owner_tagged,
        "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG_KEY]},
    }
    # CreateRegistrationAssociation is authorized against both resources: the registration
    # side keeps the owner tag; the number or sender ID side has its own statement, which must
    # not name registrations (unconditioned, it would waive the owner tag for them).
    associate_own = statements["AssociateOwnRegistrations"]
    assert associate_own["Action"] == "sms-voice:CreateRegistrationAssociation"
    assert flat(associate_own["Resource"]) == flat(reads["Resource"])
    assert associate_own["Condition"] == owner_tagged
    associate_others = statements["AssociateNumbersAndSenderIds"]
    assert associate_others["Action"] == "sms-voice:CreateRegistrationAssociation"
    assert "Condition" not in associate_others
    assert sorted(flat(r).rsplit(":", 1)[-1] for r in associate_others["Resource"]) == [
        "phone-number/*",
        "sender-id/*",
    ]
    # Only this account and region, like the registration grants.
    prefix = flat(reads["Resource"]).removesuffix("registration/*")
    assert all(flat(r).startswith(prefix) for r in associate_others["Resource"])
    keep = statements["KeepOwnerTag"]
    assert keep["Effect"] == "Deny"
    assert keep["Condition"] == {"ForAnyValue:StringEquals": {"aws:TagKeys": [OWNER_TAG_KEY]}}
    assert not any(a.endswith("*") for s in statements.values() for a in _actions(s))
    acknowledged = templates["_metadata"]["acknowledged"]
    registration_finding = [k for k in acknowledged if k.endswith(":registration/*]")]
    assert len(registration_finding) == 1
    for associated in ("phone-number/*]", "sender-id/*]"):
        assert len([k for k in acknowledged if k.endswith(f":{associated}")]) == 1
    assert all(len(reason) > 40 for reason in acknowledged.values())


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_a_stack_without_registrations_gets_no_registration_permissions(
    templates: dict[str, Any],
) -> None:
    statements = _statements(templates["AttachmentsOnly"])
    actions = {a for s in statements.values() for a in _actions(s)}
    assert "sms-voice:CreateRegistrationAttachment" in actions
    assert not any("Registration" in a and "Attachment" not in a for a in actions), actions
    assert not any(flat(s["Resource"]).endswith(":registration/*") for s in statements.values())


def test_a_shared_service_token_makes_no_provider(templates: dict[str, Any]) -> None:
    template = templates["SharedToken"]
    assert list(template["Resources"]) == [_registration(template, "Brand")[0]]
    _, resource = _registration(template, "Brand")
    assert resource["Properties"]["ServiceToken"] == {
        "Fn::ImportValue": "SmsRegistrationAttachmentServiceToken"
    }


def test_imported_registration() -> None:
    stack = cdk.Stack(cdk.App(), "Imported", env=ENV)
    imported = Registration.from_registration_id(stack, "Brand", "registration-0123")
    assert isinstance(imported, IRegistration)
    assert imported.registration_id == "registration-0123"
    assert stack.resolve(imported.registration_arn)["Fn::Join"][1][-1].endswith(
        ":registration/registration-0123"
    )
    with pytest.raises(
        RegistrationValidationError, match="registration_id: must be a registration ID"
    ):
        Registration.from_registration_id(stack, "Bad", "not an id")


@pytest.fixture(scope="module")
def scratch() -> cdk.Stack:
    """A stack for constructions that must fail (never synthesized)."""
    return cdk.Stack(cdk.App(), "Scratch", env=ENV, analytics_reporting=False)


_COUNTER = iter(range(1000))


def _declare(stack: cdk.Stack, **props: Any) -> Registration:
    props.setdefault("registration_type", "US_TOLL_FREE_REGISTRATION")
    return Registration(stack, f"R{next(_COUNTER)}", service_token="arn:token", **props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"registration_type": "US TOLL FREE"}, "registration_type: is required, 1-64"),
        ({"registration_type": ""}, "registration_type: is required"),
        ({"fields": {"company name": SECRET}}, 'fields["company name"]: a field path must be'),
        ({"fields": {"a" * 101: SECRET}}, "a field path must be 1-100"),
        ({"fields": {"companyInfo.companyName": ""}}, 'fields["companyInfo.companyName"]: a text'),
        (
            {"fields": {"companyInfo.companyName": "x" * 2049}},
            "a text value must be a string of 1-2048",
        ),
        ({"fields": {"a.b": []}}, 'fields["a.b"]: choices must be a list of 1-100'),
        ({"fields": {"a.b": ["x"] * 101}}, 'fields["a.b"]: choices must be a list of 1-100'),
        ({"fields": {"a.b": ["x" * 257]}}, 'fields["a.b"] choice 1: must be a string of 1-256'),
        ({"fields": {"a.b": [SECRET, SECRET]}}, 'fields["a.b"]: choices must not repeat'),
        ({"fields": {"a.b": [10000]}}, 'fields["a.b"]: choices must all be strings'),
        ({"fields": {"a.b": 10000}}, 'fields["a.b"]: a int is not a field value'),
        ({"fields": {"a.b": {"Text": SECRET}}}, 'fields["a.b"]: a dict is not a field value'),
        ({"fields": {"a.b": None}}, 'fields["a.b"]: a NoneType is not a field value'),
        ({"associations": ["+15550100"]}, "associations[1]: '+15550100' is a phone number"),
        ({"associations": PHONE}, "associations: must be a list of resource IDs"),
        (
            {"associations": [PHONE, PHONE]},
            f"associations: resource {PHONE} appears more than once",
        ),
        ({"submit": "yes"}, "submit must be True or False"),
        ({"tags": {"cdk-sms-registration:owner": "x"}}, "reserved for the handler's marks"),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, "removal_policy"),
    ],
)
def test_bad_declarations_fail_at_construction(
    scratch: cdk.Stack, props: dict[str, Any], message: str
) -> None:
    with pytest.raises(RegistrationValidationError) as raised:
        _declare(scratch, **props)
    assert message in str(raised.value)
    assert "Scratch/R" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_an_attachment_source_gets_the_attachment_checks(
    scratch: cdk.Stack, make_file: Any
) -> None:
    bad = make_file("opt-in.png", SAMPLE_PDF.read_bytes())
    with pytest.raises(
        AttachmentValidationError, match="content is PDF but the extension says PNG"
    ):
        _declare(scratch, fields={"messagingUseCase.optInImage": AttachmentSource.from_file(bad)})


def test_tokens_are_left_for_deploy(scratch: cdk.Stack) -> None:
    choices = cdk.Fn.split(",", cdk.Fn.import_value("Choices"))
    registration = _declare(
        scratch,
        registration_type=cdk.Fn.import_value("RegistrationType"),
        fields={
            "a.text": cdk.Fn.import_value("Text"),
            "a.choices": choices,
            "a.file": RegistrationAttachment.from_attachment_id(
                scratch, "TokenAttachment", cdk.Fn.import_value("AttachmentId")
            ),
        },
        associations=[cdk.Fn.import_value("Phone")],
    )
    assert cdk.Token.is_unresolved(registration.registration_id)


def test_registration_permissions_are_added_once_and_counted(scratch: cdk.Stack) -> None:
    stack = cdk.Stack(scratch.node.scope, "Counted", env=ENV)  # type: ignore[arg-type]
    provider = RegistrationAttachmentProvider.of(stack)
    before = provider.estimated_policy_chars
    attachment_sids = {
        s["Sid"] for s in stack.resolve(provider.policy.document.to_json())["Statement"]
    }
    provider.enable_registrations()
    provider.enable_registrations()
    assert provider.estimated_policy_chars - before == REGISTRATION_POLICY_CHARS
    document = stack.resolve(provider.policy.document.to_json())
    sids = [s["Sid"] for s in document["Statement"]]
    assert sids.count("ChangeOwnRegistrations") == 1
    assert sids.count("ReadRegistrations") == 1
    registration_chars = sum(
        len(json.dumps(s, separators=(",", ":")))
        for s in document["Statement"]
        if s["Sid"] not in attachment_sids
    )
    assert registration_chars < REGISTRATION_POLICY_CHARS


def test_cfn_lint_finds_nothing(templates: dict[str, Any]) -> None:
    paths = templates["_metadata"]["templates"]
    assert len(paths) == 3
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    # With this library's own rules (E9101, E9102): what the constructs write passes them.
    rules = [
        "--append-rules",
        str(REPO / "constructs" / "cdk_sms_registration" / "cfn_lint_rules"),
        "--",
    ]
    result = subprocess.run([cfn_lint, *rules, *paths], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_retained_registration_warns_about_a_deleted_attachment_it_references() -> None:
    stack = cdk.Stack(cdk.App(), "Kept", env=ENV, analytics_reporting=False)
    png = AttachmentSource.from_file(SAMPLE_PNG)
    deleted = RegistrationAttachment(stack, "Deleted", source=png, service_token="arn:token")
    kept = RegistrationAttachment(
        stack,
        "Kept",
        source=png,
        service_token="arn:token",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    later = RegistrationAttachment(stack, "Later", source=png, service_token="arn:token")
    _declare(stack, fields={"messagingUseCase.optInImage": deleted, "a.kept": kept})
    _declare(stack, fields={"a.later": later})
    _declare(stack, fields={"a.gone": deleted}, removal_policy=cdk.RemovalPolicy.DESTROY)
    later.apply_removal_policy(cdk.RemovalPolicy.RETAIN)  # after the registration: still seen
    # Attachments made for AttachmentSource fields follow the registration's policy, set late.
    shared = _declare(stack, fields={"a.child": png}, removal_policy=cdk.RemovalPolicy.DESTROY)
    shared.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    # ... unless an aspect changes one of them only.
    cdk.RemovalPolicies.of(_declare(stack, fields={"a.img": png}).node.find_child("a.img")).apply(
        cdk.RemovalPolicy.DESTROY
    )

    warnings = Annotations.from_stack(stack).find_warning("*", Match.any_value())

    messages = [str(w.entry.data) for w in warnings if KEPT_REFERENCE_WARNING in str(w.entry.data)]
    assert len(messages) == 2, messages
    assert messages[0].startswith(
        'fields["messagingUseCase.optInImage"]: this registration is retained, but the '
        "attachment Kept/Deleted it references is deleted with the stack"
    )
    assert "removal_policy=RemovalPolicy.RETAIN" in messages[0]
    assert messages[1].startswith('fields["a.img"]: this registration is retained')
    template = Template.from_stack(stack).to_json()["Resources"]
    child = next(r for lid, r in template.items() if lid.startswith(f"{shared.node.id}achild"))
    assert child.get("DeletionPolicy") == "Retain"
