"""Brand profiles through the harness (issue 17): synthesized stacks, the staged handler in its
Lambda-like runtime, CloudFormation's requests, the fakes over HTTP, IAM on every call.

One profile (two TEXT attributes, a PNG logo, a PDF letter of authorization) and two DRAFT
registrations of two types whose company name is the profile's ``legalName``. V1 -> V2 changes
that one value: the profile gets one attribute write, each registration one field write.
"""

from __future__ import annotations

import collections
import hashlib
import re
from typing import Any

from cdk_sms_registration_handler.brand_profile_contract import ATTR_ARN, ATTR_ID, OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import owner_mark

from ..conftest import SAMPLE_PDF, SAMPLE_PNG
from .cloudformation import SUCCESS, CloudAssembly, DeployResult, StackDeployment
from .conftest import Deploy
from .fake_brand_profiles import FakeBrandProfiles
from .fake_sms import FakeSmsService
from .iam_eval import IamRegistry
from .stacks import (
    NUMBER_PARAMETER,
    PREFILL_REGISTRATION,
    PRIVATE_NAME,
    PROFILE,
    PROFILE_NAME,
    PROFILE_REGISTRATIONS,
    PROFILE_TEXT_V2,
)

PROFILE_ID_RE = re.compile(r"bp-[0-9a-f]{32}")


def _lid(deployment: StackDeployment, construct_id: str) -> str:
    return deployment.stack.logical_id(f"{construct_id}/Resource")


def _assert_no_values_shown(result: DeployResult) -> None:
    secrets = (PRIVATE_NAME, "Example Corp", "https://example.com")
    for sent in result.requests:
        shown = [sent.reason, repr(sent.data)]
        shown += [invocation.log_tail(size=10_000_000) for invocation in sent.deliveries]
        for text in shown:
            for secret in secrets:
                assert secret not in text, f"{sent.request_type} {sent.logical_id} showed a value"


def _registration_writes(sms: FakeSmsService, registration_id: str) -> collections.Counter[str]:
    return collections.Counter(
        (entry["Operation"], entry.get("FieldPath"))
        for entry in sms.registrations.write_log(registration_id)
    )


def test_a_profile_and_two_registrations_deploy_change_one_value_and_destroy(
    deploy: Deploy,
    e2e_assembly: CloudAssembly,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
) -> None:
    deployment = deploy("ProfileV1")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    _assert_no_values_shown(created)
    profile_lid = _lid(deployment, PROFILE)
    sent = created.one("Create", profile_lid)
    profile_id = str(sent.physical_id)
    assert PROFILE_ID_RE.fullmatch(profile_id)
    profile = brand_profiles.profile(profile_id)
    assert profile is not None and not profile["Deleted"]
    assert sent.data[ATTR_ID] == profile_id and sent.data[ATTR_ARN] == profile["Arn"]
    assert profile["Name"] == PROFILE_NAME
    assert profile["Tags"] == {
        "team": "messaging",
        OWNER_TAG_KEY: owner_mark(deployment.stack_id, profile_lid),
    }
    attributes = profile["Attributes"]
    assert {name: a["Type"] for name, a in attributes.items()} == {
        "legalName": "TEXT",
        "website": "TEXT",
        "logo": "IMAGE",
        "loa": "DOCUMENT",
    }
    assert attributes["logo"]["Digest"] == hashlib.sha256(SAMPLE_PNG.read_bytes()).hexdigest()
    assert attributes["loa"]["Digest"] == hashlib.sha256(SAMPLE_PDF.read_bytes()).hexdigest()
    assert (attributes["loa"]["Description"], attributes["loa"]["Category"]) == (
        "Letter of authorization",
        "legal",
    )
    registration_ids = {
        cid: str(created.one("Create", _lid(deployment, cid)).physical_id)
        for cid in PROFILE_REGISTRATIONS
    }
    for registration_id in registration_ids.values():
        values = sms_service.registrations.field_values(registration_id)
        assert values["companyInfo.companyName"] == {"TextValue": "Example Corp"}
    # Four attributes, two bodies: one CreateBrandProfileAttributes call is the minimum.
    assert [w[0] for w in brand_profiles.writes] == [
        "CreateBrandProfile",
        "CreateBrandProfileAttributes",
    ]

    # One value changes: one attribute write on the profile, one field write per registration.
    profile_writes = len(brand_profiles.writes)
    before = {rid: _registration_writes(sms_service, rid) for rid in registration_ids.values()}
    updated = deployment.deploy(e2e_assembly.stack("ProfileV2"))
    assert updated.status == "UPDATE_COMPLETE", updated.statuses
    _assert_no_values_shown(updated)
    assert brand_profiles.writes[profile_writes:] == [
        ("UpdateBrandProfileAttribute", profile_id, ("legalName",))
    ]
    assert (
        brand_profiles.profile(profile_id)["Attributes"]["legalName"]["Text"]
        == (  # type: ignore[index]
            PROFILE_TEXT_V2["legalName"]
        )
    )
    for registration_id in registration_ids.values():
        new = _registration_writes(sms_service, registration_id) - before[registration_id]
        assert new == {("PutRegistrationFieldValue", "companyInfo.companyName"): 1}
        values = sms_service.registrations.field_values(registration_id)
        assert values["companyInfo.companyName"] == {"TextValue": PROFILE_TEXT_V2["legalName"]}
    assert {s.physical_id for s in updated.requests if s.logical_id == profile_lid} == {profile_id}

    # An Update that changes nothing writes nothing (what a rollback Update would send).
    same = deployment.resources[profile_lid].properties
    writes = len(brand_profiles.writes)
    unchanged = deployment.update(profile_lid, same)
    assert unchanged.status == "UPDATE_COMPLETE", unchanged.statuses
    assert len(brand_profiles.writes) == writes

    # DESTROY: everything goes; nothing is left on either service, no call was denied.
    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert deleted.one("Delete", profile_lid).status == SUCCESS
    assert brand_profiles.live_profiles() == []
    assert sms_service.registrations.live_registrations() == []
    assert iam_registry.denials == []


def test_deletion_protection_fails_the_delete_with_the_fix(
    deploy: Deploy, brand_profiles: FakeBrandProfiles, sms_service: FakeSmsService
) -> None:
    deployment = deploy("ProfileV1")
    assert deployment.create_all().status == "CREATE_COMPLETE"
    profile_lid = _lid(deployment, PROFILE)
    properties: dict[str, Any] = {**deployment.resources[profile_lid].properties}
    properties["DeletionProtection"] = "true"
    protected = deployment.update(profile_lid, properties)
    assert protected.status == "UPDATE_COMPLETE", protected.statuses
    profile_id = deployment.physical_id(profile_lid)
    assert brand_profiles.profile(profile_id)["DeletionProtection"] is True  # type: ignore[index]

    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_FAILED", deleted.statuses
    refused = deleted.one("Delete", profile_lid)
    assert (
        "deletion protection" in refused.reason.lower() and "deletion_protection" in refused.reason
    )
    assert brand_profiles.profile(profile_id)["Deleted"] is False  # type: ignore[index]


def test_iam_evaluates_the_profile_calls_and_a_refused_update_rolls_back(
    deploy: Deploy,
    e2e_assembly: CloudAssembly,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
) -> None:
    deployment = deploy("ProfileV1")
    assert deployment.create_all().status == "CREATE_COMPLETE"
    profile_lid = _lid(deployment, PROFILE)
    profile_id = deployment.physical_id(profile_lid)
    # As a service control policy would: the role's own policy allows it, IAM refuses it.
    iam_registry.add_deny(
        {
            "Effect": "Deny",
            "Action": "end-user-messaging:UpdateBrandProfileAttribute",
            "Resource": "*",
        }
    )
    refused = deployment.deploy(e2e_assembly.stack("ProfileV2"))
    assert refused.status == "UPDATE_ROLLBACK_COMPLETE", refused.statuses
    failed = [s for s in refused.requests if s.logical_id == profile_lid and s.status != SUCCESS]
    assert failed and "AccessDenied" in failed[0].reason
    assert [d.operation for d in iam_registry.denials] == ["UpdateBrandProfileAttribute"]
    held = brand_profiles.profile(profile_id)
    assert held is not None and held["Attributes"]["legalName"]["Text"] == "Example Corp"
    assert deployment.physical_id(profile_lid) == profile_id


# --------------------------------------------------------------------------- prefilled drafts


def _prefill_lid(deployment: StackDeployment) -> str:
    return _lid(deployment, PREFILL_REGISTRATION)


def _deploy_prefill(deploy: Deploy, sms: FakeSmsService, name: str) -> StackDeployment:
    number = sms.registrations.add_phone_number(number_type="TOLL_FREE")
    deployment = deploy(name, parameters={NUMBER_PARAMETER: number["PhoneNumberId"]})
    deployment.number_id = str(number["PhoneNumberId"])  # type: ignore[attr-defined]
    return deployment


def test_a_prefilled_draft_gets_the_declared_fields_over_it_and_is_submitted(
    deploy: Deploy,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
) -> None:
    deployment = _deploy_prefill(deploy, sms_service, "Prefill")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", [
        (s.logical_id, s.reason, [i.log_tail(3000) for i in s.deliveries])
        for s in created.requests
        if s.status != SUCCESS
    ]
    _assert_no_values_shown(created)
    lid = _prefill_lid(deployment)
    registration_id = str(created.one("Create", lid).physical_id)
    [job] = brand_profiles.jobs()
    assert job["status"] == "SUCCESS"
    assert [r["resourceId"] for r in job["resources"]] == [registration_id]
    registration = sms_service.registrations.registration(registration_id)
    assert registration is not None and registration["RegistrationStatus"] == "SUBMITTED"
    assert registration["Tags"] == {
        "team": "messaging",
        OWNER_TAG_KEY: owner_mark(deployment.stack_id, lid),
    }
    values = sms_service.registrations.field_values(registration_id)
    # Prefilled by the service (the company), declared by the stack (the rest): both held.
    assert values["companyInfo.zipCode"] == {"TextValue": "62701"}
    assert values["companyInfo.businessType"] == {"SelectChoices": ["PRIVATE_PROFIT"]}
    assert values["contactInfo.lastName"] == {"TextValue": PRIVATE_NAME}
    # The handler wrote only what it declares: no company field, one submit.
    written = _registration_writes(sms_service, registration_id)
    assert not [path for (_op, path) in written if path and path.startswith("companyInfo.")]
    assert written[("SubmitRegistrationVersion", None)] == 1
    assert iam_registry.denials == []

    # Released, the number's registration is CLOSED and the service lets it go: nothing left.
    sms_service.registrations.release_phone_number(deployment.number_id)  # type: ignore[attr-defined]
    deleted = deployment.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert sms_service.registrations.live_registrations() == []
    assert brand_profiles.live_profiles() == []
    assert sms_service.live_attachments() == []


def test_a_required_field_the_profile_did_not_fill_fails_before_the_submit_naming_it(
    deploy: Deploy,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
) -> None:
    deployment = _deploy_prefill(deploy, sms_service, "PrefillMissing")
    created = deployment.create_all()
    assert created.status == "ROLLBACK_COMPLETE", created.statuses
    _assert_no_values_shown(created)
    failed = created.one("Create", _prefill_lid(deployment))
    assert failed.status != SUCCESS
    assert "companyInfo.zipCode" in failed.reason and "prefilled" in failed.reason
    [job] = brand_profiles.jobs()
    [made] = [r["resourceId"] for r in job["resources"]]
    gone = sms_service.registrations.registration(made)
    assert gone is not None and gone["Deleted"] is True
    assert ("SubmitRegistrationVersion", None) not in _registration_writes(sms_service, made)
    assert sms_service.registrations.live_registrations() == []
    assert brand_profiles.live_profiles() == []
    assert iam_registry.denials == []


def test_a_failed_job_gives_its_code_and_leaves_no_registration(
    deploy: Deploy,
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    iam_registry: IamRegistry,
) -> None:
    secret = "field companyName value Example Corp rejected"
    brand_profiles.fail_jobs["US_TOLL_FREE_REGISTRATION"] = ("PREFILL_FAILED", secret, True)
    deployment = _deploy_prefill(deploy, sms_service, "Prefill")
    created = deployment.create_all()
    assert created.status == "ROLLBACK_COMPLETE", created.statuses
    _assert_no_values_shown(created)
    failed = created.one("Create", _prefill_lid(deployment))
    assert "PREFILL_FAILED" in failed.reason and secret not in failed.reason
    [job] = brand_profiles.jobs()
    assert job["jobId"] in failed.reason
    [made] = [r["resourceId"] for r in job["resources"]]
    gone = sms_service.registrations.registration(made)
    assert gone is not None and gone["Deleted"] is True
    assert sms_service.registrations.live_registrations() == []
    assert iam_registry.denials == []
