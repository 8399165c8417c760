"""Registration Updates and bad declarations end to end, counting the service's writes.

A DRAFT update writes only the change (one Put), a dropped optional field is deleted, a field
filled in the console is left alone; a denied version is followed by a new version holding the
full declared set; an update during review fails before any write and its rollback writes
nothing; every kind of bad declaration fails naming the path, with nothing left behind and no
value in a reason, Data or log.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from cdk_sms_registration_handler.registration_contract import (
    ATTR_STATUS,
    ATTR_VERSION_NUMBER,
    ATTR_VERSION_STATUS,
)

from .cloudformation import FAILED, SUCCESS, CloudAssembly, DeployResult, StackDeployment
from .conftest import Deploy
from .fake_registration_types import TEN_DLC_BRAND, TOLL_FREE
from .fake_sms import FakeSmsService
from .stacks import (
    EDIT_FIELDS_V1,
    EDIT_FIELDS_V2,
    EDITED_PATH,
    OPT_IN_PATH,
    OPTIONAL_PATH,
    PRIVATE_NAME,
    REGISTRATION,
    REGISTRATION_FIELDS,
)
from .test_registrations_e2e import _create_and_check, _deploy_registration, _registration_lid

#: A field of the toll-free type that no declaration names; "the console" fills it.
CONSOLE_PATH = "messagingUseCase.privacyPolicyUrl"
CONSOLE_VALUE = "https://example.com/privacy"


def operations(log: Iterable[Mapping[str, Any]]) -> list[str]:
    """The operations of write-log entries, in order."""
    return [str(entry["Operation"]) for entry in log]


def assert_absent(result: DeployResult, secrets: Iterable[str]) -> None:
    """No secret in any reason, response Data or function log of the operation."""
    for sent in [*result.requests, *result.late]:
        shown = [sent.reason, repr(sent.data)]
        shown += [invocation.log_tail(size=10_000_000) for invocation in sent.deliveries]
        for text in shown:
            for secret in secrets:
                assert secret not in text, f"{sent.request_type} {sent.logical_id} leaked a value"


def with_field(properties: Mapping[str, Any], path: str, text: str) -> dict[str, Any]:
    """Resolved properties with one field's text replaced."""
    fields = [
        {"Path": path, "Text": text} if entry["Path"] == path else dict(entry)
        for entry in properties["Fields"]
    ]
    assert any(entry["Path"] == path for entry in fields)
    return {**properties, "Fields": fields}


# --------------------------------------------------------------------------- DRAFT updates


def test_draft_update_writes_only_the_change(
    deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService, sms_client: Any
) -> None:
    deployment = deploy("RegEditV1")
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    lid = _registration_lid(deployment)
    registration_id = str(deployment.physical_id(lid))
    fake = sms_service.registrations
    assert operations(fake.write_log(registration_id)) == [
        "CreateRegistration",
        *["PutRegistrationFieldValue"] * len(EDIT_FIELDS_V1),
    ]
    create_writes = fake.writes(registration_id)
    # Someone fills a field in the console that the declaration never names.
    sms_client.put_registration_field_value(
        RegistrationId=registration_id, FieldPath=CONSOLE_PATH, TextValue=CONSOLE_VALUE
    )
    before = fake.writes(registration_id)

    # V2 changes one text: exactly one Put, of that field, and no other write.
    changed = deployment.deploy(e2e_assembly.stack("RegEditV2"))
    assert changed.status == "UPDATE_COMPLETE", changed.statuses
    sent = changed.one("Update", lid)
    assert sent.status == SUCCESS and sent.physical_id == registration_id
    assert (sent.data[ATTR_VERSION_NUMBER], sent.data[ATTR_VERSION_STATUS]) == ("1", "DRAFT")
    new_writes = fake.write_log(registration_id)[before:]
    assert [(e["Operation"], e.get("FieldPath")) for e in new_writes] == [
        ("PutRegistrationFieldValue", EDITED_PATH)
    ]
    assert fake.writes(registration_id) == before + 1
    values = fake.field_values(registration_id)
    assert values[EDITED_PATH] == {"TextValue": EDIT_FIELDS_V2[EDITED_PATH]}
    assert values[CONSOLE_PATH] == {"TextValue": CONSOLE_VALUE}  # never declared: left alone
    assert_absent(changed, [PRIVATE_NAME])

    # V3 drops the optional field: one Delete of it; the console's field stays.
    before = fake.writes(registration_id)
    dropped = deployment.deploy(e2e_assembly.stack("RegEditV3"))
    assert dropped.status == "UPDATE_COMPLETE", dropped.statuses
    new_writes = fake.write_log(registration_id)[before:]
    assert [(e["Operation"], e.get("FieldPath")) for e in new_writes] == [
        ("DeleteRegistrationFieldValue", OPTIONAL_PATH)
    ]
    values = fake.field_values(registration_id)
    assert OPTIONAL_PATH not in values
    assert values[CONSOLE_PATH] == {"TextValue": CONSOLE_VALUE}
    assert values[EDITED_PATH] == {"TextValue": EDIT_FIELDS_V2[EDITED_PATH]}
    assert_absent(dropped, [PRIVATE_NAME])
    print(
        f"\nDRAFT update writes: create {create_writes}, change one text 1, drop optional "
        f"{fake.writes(registration_id) - before}"
    )

    assert deployment.delete_all().status == "DELETE_COMPLETE"
    assert fake.live_registrations() == []


# --------------------------------------------------------------------------- new versions


def test_denied_then_updated_writes_a_new_version_with_the_full_set(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment, number_id = _deploy_registration(deploy, sms_service, "RegV1")
    registration_id = _create_and_check(deployment, sms_service, number_id)
    lid = _registration_lid(deployment)
    fake = sms_service.registrations
    create_writes = fake.writes(registration_id)
    denied = fake.deny(
        registration_id,
        field_feedback={EDITED_PATH: {"DeniedReason": "Use the legal name"}},
    )
    assert denied["RegistrationStatus"] == "REQUIRES_UPDATES"
    before = fake.writes(registration_id)

    changed = with_field(deployment.resources[lid].properties, EDITED_PATH, "Example Corp LLC")
    result = deployment.update(lid, changed)
    assert result.status == "UPDATE_COMPLETE", result.statuses
    sent = result.one("Update", lid)
    assert sent.status == SUCCESS and sent.physical_id == registration_id
    assert sent.data[ATTR_VERSION_NUMBER] == "2"
    assert sent.data[ATTR_VERSION_STATUS] == "SUBMITTED"
    assert sent.data[ATTR_STATUS] == "SUBMITTED"
    assert_absent(result, [PRIVATE_NAME])

    # A new version starts empty: every declared field is written, then submitted.
    new_writes = fake.write_log(registration_id)[before:]
    assert all(entry["Error"] is None for entry in new_writes), new_writes
    declared = len(REGISTRATION_FIELDS) + 1  # and the opt-in image
    assert operations(new_writes) == [
        "CreateRegistrationVersion",
        *["PutRegistrationFieldValue"] * declared,
        "SubmitRegistrationVersion",
    ]
    written = {entry["FieldPath"] for entry in new_writes if entry.get("FieldPath")}
    assert written == {*REGISTRATION_FIELDS, OPT_IN_PATH}
    registration = fake.registration(registration_id)
    assert registration is not None
    first, second = registration["Versions"]
    assert first["RegistrationVersionStatus"] == "DENIED"
    assert second["RegistrationVersionStatus"] == "SUBMITTED"
    assert second["Values"][EDITED_PATH] == {"TextValue": "Example Corp LLC"}
    assert len(second["Values"]) == declared
    print(
        f"\nnew version writes: create {create_writes}, "
        f"deny -> update {fake.writes(registration_id) - before}"
    )


def test_update_during_review_fails_before_any_write_and_rolls_back_with_none(
    deploy: Deploy, sms_service: FakeSmsService
) -> None:
    deployment, number_id = _deploy_registration(deploy, sms_service, "RegV1")
    registration_id = _create_and_check(deployment, sms_service, number_id)
    lid = _registration_lid(deployment)
    fake = sms_service.registrations
    fake.start_review(registration_id)
    before = fake.write_log(registration_id)

    changed = with_field(deployment.resources[lid].properties, EDITED_PATH, "Example Corp LLC")
    result = deployment.update(lid, changed)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.statuses
    forward, rollback = result.select("Update", lid)
    assert forward.status == FAILED
    assert "REVIEWING" in forward.reason
    assert "the service accepts no change until the review ends" in forward.reason
    assert "nothing written" in forward.reason
    assert rollback.status == SUCCESS and rollback.physical_id == registration_id
    # Zero writes, forward and rollback, and none attempted (no failed call either).
    assert fake.write_log(registration_id) == before
    registration = fake.registration(registration_id)
    assert registration is not None
    [version] = registration["Versions"]
    assert version["RegistrationVersionStatus"] == "REVIEWING"
    assert version["Values"][EDITED_PATH] == {"TextValue": REGISTRATION_FIELDS[EDITED_PATH]}
    assert_absent(result, [PRIVATE_NAME, "Example Corp LLC"])
    print("\nupdate during review: 0 writes, rollback 0 writes")


# --------------------------------------------------------------------------- bad declarations

#: case: (registration type, Fields, Submit, the path the reason names, its rule, secrets).
BAD_DECLARATIONS: dict[str, tuple[str, list[dict[str, Any]], bool, str, str, list[str]]] = {
    "choices-for-text": (
        TOLL_FREE,
        [{"Path": EDITED_PATH, "Choices": ["Secret Kind Corp"]}],
        False,
        EDITED_PATH,
        "is a TEXT field",
        ["Secret Kind Corp"],
    ),
    "choice-not-an-option": (
        TOLL_FREE,
        [{"Path": "companyInfo.businessType", "Text": "SECRET_BUSINESS_KIND"}],
        False,
        "companyInfo.businessType",
        "the choice is not among the options",
        ["SECRET_BUSINESS_KIND"],
    ),
    "too-many-choices": (
        TOLL_FREE,
        [
            {
                "Path": "messagingUseCase.useCaseCategory",
                "Choices": ["MARKETING", "CUSTOMER_CARE", "SECURITY_ALERT", "POLLING_AND_VOTING"],
            }
        ],
        False,
        "messagingUseCase.useCaseCategory",
        "takes 1-3 choices, got 4",
        [],
    ),
    "pattern-mismatch": (
        TOLL_FREE,
        [{"Path": "companyInfo.zipCode", "Text": "Secret Zip Code"}],
        False,
        "companyInfo.zipCode",
        "does not match the pattern",
        ["Secret Zip Code"],
    ),
    "required-missing-on-submit": (
        TOLL_FREE,
        [{"Path": EDITED_PATH, "Text": "Secret Submit Corp"}],
        True,
        "companyInfo.website",
        "is required",
        ["Secret Submit Corp"],
    ),
    "disallowed-conditional": (
        TEN_DLC_BRAND,
        [
            {"Path": "companyInfo.businessType", "Text": "PRIVATE_PROFIT"},
            {"Path": "companyInfo.stockSymbol", "Text": "SECRETSYM"},
        ],
        False,
        "companyInfo.stockSymbol",
        "is not allowed given companyInfo.businessType",
        ["SECRETSYM"],
    ),
}


def declared_stack_deployment(
    deploy: Deploy,
    e2e_assembly: CloudAssembly,
    stack_name: str,
    properties: Mapping[str, Any],
    **options: Any,
) -> StackDeployment:
    """A deployment of ``RegDraft`` whose registration declares ``properties`` instead
    (a hand-written template: no construct checks at synth)."""
    artifact = e2e_assembly.stack("RegDraft")
    lid = artifact.logical_id(f"{REGISTRATION}/Resource")
    artifact.resources[lid]["Properties"].update(properties)
    return deploy(artifact, stack_name=stack_name, **options)


@pytest.mark.parametrize("case", list(BAD_DECLARATIONS))
def test_a_bad_declaration_fails_naming_the_path_and_leaves_nothing(
    case: str, deploy: Deploy, e2e_assembly: CloudAssembly, sms_service: FakeSmsService
) -> None:
    registration_type, fields, submit, path, rule, secrets = BAD_DECLARATIONS[case]
    fields = [*fields, {"Path": "contactInfo.lastName", "Text": PRIVATE_NAME}]
    properties = {"RegistrationType": registration_type, "Fields": fields, "Submit": submit}
    deployment = declared_stack_deployment(deploy, e2e_assembly, f"RegBad-{case}", properties)
    created = deployment.create_all()

    assert created.status == "ROLLBACK_COMPLETE", created.statuses
    lid = _registration_lid(deployment)
    failed = created.one("Create", lid)
    assert failed.status == FAILED
    assert path in failed.reason, failed.reason
    # The reason names every path and, for one problem, the rule; the log has each rule.
    assert f"{path}: {rule}" in failed.deliveries[0].log_tail(size=1_000_000)
    if failed.reason.startswith("1 field "):
        assert rule in failed.reason, failed.reason
    assert "nothing created" in failed.reason
    [delete] = created.select("Delete", lid)
    assert delete.status == SUCCESS and delete.physical_id == failed.physical_id
    # Validation comes before CreateRegistration: not one write, nothing live.
    assert sms_service.registrations.write_counts() == {}
    assert sms_service.registrations.live_registrations() == []
    assert collections.Counter(sent.status for sent in created.requests) == {FAILED: 1, SUCCESS: 1}
    assert_absent(created, [*secrets, PRIVATE_NAME])
