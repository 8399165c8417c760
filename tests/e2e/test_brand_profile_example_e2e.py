"""The brand profile examples through the harness (issue 17): the CDK app
``examples/brand_profile_app.py`` and the hand-written template
``examples/cloudformation/brand-profile.yaml``.

The app is synthesized in-process twice, as ``cdk deploy -c removalPolicy=destroy`` would: as
shipped, and with one fact of the profile changed (``supportPhoneNumber``, which two of its
three registrations use). Deploying the second onto the first writes that one attribute and
that one field of each of the two registrations, nothing else; destroying it leaves nothing on
either fake, and IAM refused nothing.

The template is played as written through the shared provider: a profile (three TEXT
attributes, a logo read from S3) and a 10DLC brand registration whose fields take the same
parameters; a changed parameter writes one attribute and one field; the stack's delete keeps
both (``DeletionPolicy: Retain``). Played with ``DeletionPolicy: Delete``, it removes both.
"""

from __future__ import annotations

import collections
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from cdk_sms_registration.shared_provider import SERVICE_TOKEN_EXPORT_NAME
from cdk_sms_registration_handler import registration_contract

from ..conftest import REPO
from .cloudformation import SUCCESS, CloudAssembly, DeployResult, StackArtifact, StackDeployment
from .conftest import Deploy
from .fake_brand_profiles import FakeBrandProfiles
from .fake_registration_types import TEN_DLC_BRAND, builtin_types
from .fake_sms import FakeSmsService
from .iam_eval import IamRegistry

DOCUMENTS = REPO / "examples" / "documents"
LOGO = DOCUMENTS / "sample-logo.png"
LETTER = DOCUMENTS / "sample-letter-of-authorization.pdf"
OPT_IN = DOCUMENTS / "sample-opt-in-screenshot.png"

#: The one fact that changes, its new value, and the fields it fills, by registration.
CHANGED = "supportPhoneNumber"
NEW_PHONE = "+12065550199"
CHANGED_FIELDS = {
    "UsTollFree": "contactInfo.supportPhoneNumber",
    "UsTenDlcBrand": "contactInfo.phoneNumber",
}
REGISTRATIONS = ("UsTollFree", "UsTenDlcBrand", "IndiaSenderId")
#: The type of every field of every fake type: a Text for a SELECT field is its one choice.
FIELD_TYPES = {
    (t["RegistrationType"], f["FieldPath"]): f["FieldType"]
    for t in builtin_types()
    for f in t["Fields"]
}
READS = ("Describe", "List", "Get")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def example_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[StackArtifact, ...]:
    """The example app as shipped, and with one fact changed, each synthesized as
    ``cdk synth -c removalPolicy=destroy`` would (with the CLI's path metadata)."""
    import aws_cdk as cdk

    from examples import brand_profile_app

    context = {
        brand_profile_app.REMOVAL_POLICY_CONTEXT: "destroy",
        "aws:cdk:enable-path-metadata": True,
    }
    versions = []
    for name, facts in (
        ("v1", brand_profile_app.FACTS),
        ("v2", {**brand_profile_app.FACTS, CHANGED: NEW_PHONE}),
    ):
        outdir = tmp_path_factory.mktemp(f"brand-profile-example-{name}")
        app = cdk.App(outdir=str(outdir), context=context)
        stack = brand_profile_app.build(app, facts=facts)
        app.synth()
        versions.append(CloudAssembly(outdir).stack(stack.stack_name))
    return tuple(versions)


def _secrets() -> list[str]:
    """Values that must never reach a reason, the response Data or a log line."""
    from examples import brand_profile_app

    values = [v for v in brand_profile_app.FACTS.values() if len(v) >= 7]
    return [*values, NEW_PHONE, "1201160000000000001"]


def _assert_no_values_shown(result: DeployResult, secrets: list[str]) -> None:
    assert secrets
    for sent in result.requests:
        shown = [sent.reason, repr(sent.data)]
        shown += [invocation.log_tail(size=10_000_000) for invocation in sent.deliveries]
        for text in shown:
            for secret in secrets:
                assert secret not in text, f"{sent.request_type} {sent.logical_id} showed a value"


def _expected_values(registration_type: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """What the service should hold for resolved ``Fields`` (wire shapes, by path)."""
    expected: dict[str, Any] = {}
    for entry in properties[registration_contract.FIELDS]:
        path = entry["Path"]
        if "AttachmentId" in entry:
            expected[path] = {"RegistrationAttachmentId": entry["AttachmentId"]}
        elif "Choices" in entry:
            expected[path] = {"SelectChoices": entry["Choices"]}
        elif FIELD_TYPES[(registration_type, path)] == "SELECT":
            expected[path] = {"SelectChoices": [entry["Text"]]}
        else:
            expected[path] = {"TextValue": entry["Text"]}
    return expected


def _writes(counter: collections.Counter[str]) -> dict[str, int]:
    """The successful calls that change something."""
    return {op: n for op, n in counter.items() if n and not op.startswith(READS)}


def _registration_writes(sms: FakeSmsService, registration_id: str) -> collections.Counter[str]:
    return collections.Counter(
        (entry["Operation"], entry.get("FieldPath"))
        for entry in sms.registrations.write_log(registration_id)
    )


def test_the_example_app_deploys_changes_one_fact_and_destroys(
    deploy: Deploy,
    example_versions: tuple[StackArtifact, StackArtifact],
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
) -> None:
    from examples import brand_profile_app

    v1, v2 = example_versions
    deployment = deploy(v1)
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    _assert_no_values_shown(created, _secrets())

    # One profile: every fact as TEXT, the logo an IMAGE, the letter a DOCUMENT.
    profile_lid = v1.logical_id("Brand/Resource")
    profile_id = deployment.physical_id(profile_lid)
    (profile,) = brand_profiles.live_profiles()
    assert profile["Id"] == profile_id and profile["Name"] == "example-corp"
    attributes = profile["Attributes"]
    assert {n: a["Text"] for n, a in attributes.items() if a["Type"] == "TEXT"} == dict(
        brand_profile_app.FACTS
    )
    assert attributes["logo"]["Type"] == "IMAGE"
    assert attributes["logo"]["Digest"] == _sha256(LOGO)
    assert attributes["letterOfAuthorization"]["Type"] == "DOCUMENT"
    assert attributes["letterOfAuthorization"]["Digest"] == _sha256(LETTER)

    # Three DRAFT registrations of three types, each holding exactly what it declares.
    lids = {cid: v1.logical_id(f"{cid}/Resource") for cid in REGISTRATIONS}
    ids = {cid: deployment.physical_id(lid) for cid, lid in lids.items()}
    types = set()
    for cid, lid in lids.items():
        registration = sms_service.registrations.registration(ids[cid])
        assert registration is not None
        types.add(registration["RegistrationType"])
        assert [v["RegistrationVersionStatus"] for v in registration["Versions"]] == ["DRAFT"]
        properties = deployment.resolved_properties(lid)
        held = sms_service.registrations.field_values(ids[cid])
        assert held == _expected_values(registration["RegistrationType"], properties), cid
    assert types == {
        "US_TOLL_FREE_REGISTRATION",
        "US_TEN_DLC_BRAND_REGISTRATION",
        "IN_SENDER_ID_REGISTRATION",
    }
    # The India registration's letter is the profile's document, as a registration attachment.
    india = sms_service.registrations.field_values(ids["IndiaSenderId"])
    letter = sms_service.attachment(
        india["senderIdInfo.letterOfAuthorization"]["RegistrationAttachmentId"]
    )
    assert letter is not None and letter["ContentSha256"] == _sha256(LETTER)
    attachments = sorted(a["RegistrationAttachmentId"] for a in sms_service.live_attachments())
    assert len(attachments) == 2  # the letter and the toll-free opt-in screenshot

    # One fact changes: the second synth differs in exactly the fields that use it...
    changed = {
        cid: sorted(
            entry["Path"]
            for entry, new in zip(
                v1.resources[lid]["Properties"]["Fields"],
                v2.resources[lid]["Properties"]["Fields"],
                strict=True,
            )
            if entry != new
        )
        for cid, lid in lids.items()
    }
    assert changed == {cid: [CHANGED_FIELDS[cid]] if cid in CHANGED_FIELDS else [] for cid in lids}
    # ...and deploying it writes that one attribute and those fields, nothing else.
    profile_writes = len(brand_profiles.writes)
    eum_before = collections.Counter(brand_profiles.successes)
    sms_before = collections.Counter(sms_service.successes)
    before = {cid: _registration_writes(sms_service, rid) for cid, rid in ids.items()}
    updated = deployment.deploy(v2)
    assert updated.status == "UPDATE_COMPLETE", updated.statuses
    _assert_no_values_shown(updated, _secrets())
    assert sorted((s.request_type, s.logical_id) for s in updated.requests) == sorted(
        [("Update", profile_lid)] + [("Update", lids[cid]) for cid in CHANGED_FIELDS]
    )
    assert brand_profiles.writes[profile_writes:] == [
        ("UpdateBrandProfileAttribute", profile_id, (CHANGED,))
    ]
    assert _writes(brand_profiles.successes - eum_before) == {"UpdateBrandProfileAttribute": 1}
    assert _writes(sms_service.successes - sms_before) == {
        "PutRegistrationFieldValue": len(CHANGED_FIELDS)
    }
    for cid, rid in ids.items():
        new = _registration_writes(sms_service, rid) - before[cid]
        expected = (
            {("PutRegistrationFieldValue", CHANGED_FIELDS[cid]): 1} if cid in CHANGED_FIELDS else {}
        )
        assert new == expected, cid
        if cid in CHANGED_FIELDS:
            values = sms_service.registrations.field_values(rid)
            assert values[CHANGED_FIELDS[cid]] == {"TextValue": NEW_PHONE}
    held = brand_profiles.profile(profile_id)
    assert held is not None and held["Attributes"][CHANGED]["Text"] == NEW_PHONE
    assert {cid: deployment.physical_id(lid) for cid, lid in lids.items()} == ids
    assert sorted(a["RegistrationAttachmentId"] for a in sms_service.live_attachments()) == (
        attachments
    )

    # Destroyed (-c removalPolicy=destroy): nothing is left on either fake.
    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert {s.status for s in deleted.requests} == {SUCCESS}
    assert len(deleted.requests) == 6  # the profile, three registrations, two attachments
    assert deployment.retained == {}
    assert brand_profiles.live_profiles() == []
    assert sms_service.registrations.live_registrations() == []
    assert sms_service.live_attachments() == []
    assert iam_registry.denials == []


# --------------------------------------------------------------------------- hand-written

TEMPLATE = REPO / "examples" / "cloudformation" / "brand-profile.yaml"
DOCUMENTS_BUCKET = "hand-written-brand-profile-e2e"
LOGO_KEY = "brand/logo.png"
PROFILE = "BrandProfile"
REGISTRATION = "TenDlcBrandRegistration"
#: The registration's fields that take the profile's values, by the parameter both take.
SHARED = {
    "LegalName": ("legalName", "companyInfo.companyName"),
    "Website": ("website", "companyInfo.website"),
    "ContactEmail": ("contactEmail", "contactInfo.email"),
}


def _template() -> dict[str, Any]:
    """The example YAML as CloudFormation reads it (short-form tags expanded)."""
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    return loaded


def _artifact(directory: Path, name: str, template: dict[str, Any]) -> StackArtifact:
    (directory / f"{name}.template.json").write_text(json.dumps(template))
    return StackArtifact(directory, name, {"templateFile": f"{name}.template.json"})


def _deploy_template(
    deploy: Deploy, s3_client: Any, artifact: StackArtifact
) -> tuple[StackDeployment, dict[str, str]]:
    provider = deploy(
        "SharedProvider",
        parameters={"ReadableObjectArns": f"arn:aws:s3:::{DOCUMENTS_BUCKET}/brand/*"},
    )
    s3_client.create_bucket(Bucket=DOCUMENTS_BUCKET)
    s3_client.put_object(Bucket=DOCUMENTS_BUCKET, Key=LOGO_KEY, Body=LOGO.read_bytes())
    defaults = {
        name: str(p["Default"])
        for name, p in artifact.template["Parameters"].items()
        if "Default" in p
    }
    stack = deploy(
        artifact,
        parameters={"DocumentsBucket": DOCUMENTS_BUCKET},
        exports={SERVICE_TOKEN_EXPORT_NAME: provider.outputs()["ServiceToken"]},
        providers=[provider],
    )
    return stack, defaults


def _assert_shared_values(
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    stack: StackDeployment,
    parameters: Mapping[str, str],
) -> None:
    profile = brand_profiles.profile(stack.physical_id(PROFILE))
    assert profile is not None and not profile["Deleted"]
    held = sms_service.registrations.field_values(stack.physical_id(REGISTRATION))
    for parameter, (attribute, path) in SHARED.items():
        assert profile["Attributes"][attribute]["Text"] == parameters[parameter], attribute
        assert held[path] == {"TextValue": parameters[parameter]}, path


def test_hand_written_brand_profile_and_registration_share_a_changed_value(
    deploy: Deploy,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
    s3_client: Any,
    tmp_path: Path,
) -> None:
    template = _template()
    stack, parameters = _deploy_template(
        deploy, s3_client, _artifact(tmp_path, "HandWrittenBrandProfile", template)
    )

    created = stack.create_all()

    assert created.status == "CREATE_COMPLETE", created.statuses
    assert sorted(s.logical_id for s in created.requests) == [PROFILE, REGISTRATION]
    _assert_no_values_shown(created, list(parameters.values()))
    profile_id = stack.physical_id(PROFILE)
    profile = brand_profiles.profile(profile_id)
    assert profile is not None and profile["Name"] == "example-corp"
    assert {n: a["Type"] for n, a in profile["Attributes"].items()} == {
        "legalName": "TEXT",
        "website": "TEXT",
        "contactEmail": "TEXT",
        "logo": "IMAGE",
    }
    assert profile["Attributes"]["logo"]["Digest"] == _sha256(LOGO)
    assert profile["Tags"]["team"] == "messaging"
    registration_id = stack.physical_id(REGISTRATION)
    registration = sms_service.registrations.registration(registration_id)
    assert registration is not None and registration["RegistrationType"] == TEN_DLC_BRAND
    assert [v["RegistrationVersionStatus"] for v in registration["Versions"]] == ["DRAFT"]
    _assert_shared_values(brand_profiles, sms_service, stack, parameters)
    assert sms_service.registrations.field_values(registration_id)["companyInfo.businessType"] == {
        "SelectChoices": ["PRIVATE_PROFIT"]
    }
    outputs = stack.outputs()
    assert outputs["BrandProfileId"] == profile_id
    assert outputs["BrandProfileArn"] == profile["Arn"]
    assert outputs["RegistrationId"] == registration_id
    assert outputs["RegistrationStatus"] == "CREATED"

    # One parameter changes: one attribute write, one field write, nothing else.
    profile_writes = len(brand_profiles.writes)
    sms_before = collections.Counter(sms_service.successes)
    renamed = {**parameters, "LegalName": "Example Corporation"}
    updated = stack.deploy(stack.stack, parameters={"LegalName": renamed["LegalName"]})

    assert updated.status == "UPDATE_COMPLETE", updated.statuses
    assert sorted((s.request_type, s.logical_id) for s in updated.requests) == [
        ("Update", PROFILE),
        ("Update", REGISTRATION),
    ]
    _assert_no_values_shown(updated, list(renamed.values()))
    assert brand_profiles.writes[profile_writes:] == [
        ("UpdateBrandProfileAttribute", profile_id, ("legalName",))
    ]
    assert _writes(sms_service.successes - sms_before) == {"PutRegistrationFieldValue": 1}
    _assert_shared_values(brand_profiles, sms_service, stack, renamed)
    assert (stack.physical_id(PROFILE), stack.physical_id(REGISTRATION)) == (
        profile_id,
        registration_id,
    )

    # As written, both are kept: CloudFormation never asks the provider.
    deleted = stack.delete_all()

    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert deleted.requests == []
    assert stack.retained == {PROFILE: profile_id, REGISTRATION: registration_id}
    assert [p["Id"] for p in brand_profiles.live_profiles()] == [profile_id]
    assert [r["RegistrationId"] for r in sms_service.registrations.live_registrations()] == [
        registration_id
    ]
    assert iam_registry.denials == []


def test_hand_written_brand_profile_deleted_with_the_stack(
    deploy: Deploy,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
    s3_client: Any,
    tmp_path: Path,
) -> None:
    template = _template()
    for logical_id in (PROFILE, REGISTRATION):
        template["Resources"][logical_id]["DeletionPolicy"] = "Delete"
        template["Resources"][logical_id]["UpdateReplacePolicy"] = "Delete"
    stack, parameters = _deploy_template(
        deploy, s3_client, _artifact(tmp_path, "HandWrittenBrandProfileDestroyed", template)
    )
    created = stack.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    _assert_shared_values(brand_profiles, sms_service, stack, parameters)

    deleted = stack.delete_all()

    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert sorted((s.request_type, s.logical_id, s.status) for s in deleted.requests) == [
        ("Delete", PROFILE, SUCCESS),
        ("Delete", REGISTRATION, SUCCESS),
    ]
    assert brand_profiles.live_profiles() == []
    assert sms_service.registrations.live_registrations() == []
    assert sms_service.live_attachments() == []
    assert iam_registry.denials == []
