"""The fake SMS service's registration operations, over real HTTP with real boto3 clients.

The ``sms_service`` fixture fails any test whose requests or responses broke botocore's model.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, cast

import boto3
import botocore.config
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import StructureShape

from .fake_registration_types import (
    INDIA_SENDER_ID,
    TEN_DLC_BRAND,
    TEN_DLC_BRAND_VETTING,
    TOLL_FREE,
    bulk_text_type,
    registration_type,
)
from .fake_registrations import (
    REGISTRATION_ID_RE,
    REGISTRATION_OPERATIONS,
    REGISTRATION_RATE_LIMITS,
    FakeRegistrations,
    model_without_conditional_behavior,
    write_model_without_conditional_behavior,
)
from .fake_sms import OPERATIONS, FakeSmsService, load_service_model
from .test_fake_services import _signed_raw_call

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
NO_RETRIES = botocore.config.Config(retries={"total_max_attempts": 1})
SECRET = "Sensitive Person Name"
TOLL_FREE_TEXT = {
    "companyInfo.companyName": "Example Corp",
    "companyInfo.website": "https://example.com",
    "companyInfo.address1": "1 Main Street",
    "companyInfo.city": "Seattle",
    "companyInfo.state": "WA",
    "companyInfo.zipCode": "98101",
    "companyInfo.isoCountryCode": "US",
    "contactInfo.firstName": "Jane",
    "contactInfo.lastName": "Doe",
    "contactInfo.supportEmail": "support@example.com",
    "contactInfo.supportPhoneNumber": "+12065550100",
    "messagingUseCase.useCaseDetails": "Order and delivery updates",
    "messagingUseCase.optInDescription": "Customers opt in at checkout",
    "messageSamples.messageSample1": "Your order 123 has shipped. Reply STOP to opt out.",
}
TOLL_FREE_CHOICES = {
    "companyInfo.businessType": ["PRIVATE_PROFIT"],
    "messagingUseCase.monthlyMessageVolume": ["10,000"],
    "messagingUseCase.useCaseCategory": ["ACCOUNT_NOTIFICATIONS", "DELIVERY_NOTIFICATIONS"],
}
BRAND_BASE: dict[str, str | list[str]] = {
    "companyInfo.companyName": "Example Corp",
    "companyInfo.taxIdIssuingCountry": "US",
    "companyInfo.taxId": "12-3456789",
    "contactInfo.firstName": "Jane",
    "contactInfo.lastName": "Doe",
    "contactInfo.email": "jane@example.com",
    "contactInfo.phoneNumber": "+12065550100",
}


@pytest.fixture
def client(sms_service: FakeSmsService) -> Any:
    """SMS client without retries, so errors surface at once."""
    return sms_service.client(config=NO_RETRIES)


@pytest.fixture
def fake(sms_service: FakeSmsService) -> FakeRegistrations:
    return sms_service.registrations


def _code(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc_info.value.response["Error"]["Code"])


def _reason(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc_info.value.response.get("Reason"))


def _fails(call: Any, code: str, reason: str | None = None, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as exc_info:
        call(**kwargs)
    assert _code(exc_info) == code, exc_info.value.response
    if reason is not None:
        assert _reason(exc_info) == reason, exc_info.value.response
    return exc_info.value


def _put(client: Any, registration_id: str, path: str, value: str | list[str]) -> Any:
    if isinstance(value, list):
        key = "SelectChoices"
    elif value.startswith("ra-"):
        key = "RegistrationAttachmentId"
    else:
        key = "TextValue"
    return client.put_registration_field_value(
        RegistrationId=registration_id, FieldPath=path, **{key: value}
    )


def _attachment(sms_service: FakeSmsService, client: Any) -> str:
    sms_service.upload_seconds = 0
    sms_service.visibility_seconds = 0
    return str(
        client.create_registration_attachment(AttachmentBody=PNG)["RegistrationAttachmentId"]
    )


def _toll_free(sms_service: FakeSmsService, client: Any, *, associate: bool = True) -> str:
    """A toll-free registration with every REQUIRED field (and a number when ``associate``)."""
    registration_id = str(client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"])
    for path, text in TOLL_FREE_TEXT.items():
        _put(client, registration_id, path, text)
    for path, choices in TOLL_FREE_CHOICES.items():
        _put(client, registration_id, path, choices)
    _put(client, registration_id, "messagingUseCase.optInImage", _attachment(sms_service, client))
    if associate:
        number = sms_service.registrations.add_phone_number()
        client.create_registration_association(
            RegistrationId=registration_id, ResourceId=number["PhoneNumberId"]
        )
    return registration_id


def _brand(client: Any, values: dict[str, str | list[str]]) -> str:
    registration_id = str(
        client.create_registration(RegistrationType=TEN_DLC_BRAND)["RegistrationId"]
    )
    for path, value in {**BRAND_BASE, **values}.items():
        _put(client, registration_id, path, value)
    return registration_id


def _version(client: Any, registration_id: str, number: int | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"RegistrationId": registration_id}
    if number is not None:
        kwargs["VersionNumbers"] = [number]
    versions = client.describe_registration_versions(**kwargs)["RegistrationVersions"]
    return dict(versions[-1])


def _registration(client: Any, registration_id: str) -> dict[str, Any]:
    found = client.describe_registrations(RegistrationIds=[registration_id])["Registrations"]
    return dict(found[0])


def _wait_for_version_status(client: Any, registration_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        version = _version(client, registration_id)
        if version["RegistrationVersionStatus"] == status or time.monotonic() > deadline:
            return version
        time.sleep(0.02)


def _control(service: FakeSmsService, action: str, **kwargs: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{service.url}/_control/registrations/{action}",
        data=json.dumps(kwargs).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _all_pages(call: Any, key: str, **kwargs: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    while True:
        page = call(**kwargs)
        pages.append(page[key])
        if "NextToken" not in page:
            return pages
        kwargs["NextToken"] = page["NextToken"]


# --------------------------------------------------------------------------- definitions


def test_every_registration_operation_is_modeled_and_served() -> None:
    model = load_service_model()
    assert set(model.operation_names) >= REGISTRATION_OPERATIONS
    assert REGISTRATION_OPERATIONS <= OPERATIONS
    assert set(REGISTRATION_RATE_LIMITS) == REGISTRATION_OPERATIONS
    assert set(REGISTRATION_RATE_LIMITS.values()) == {1.0}


def test_type_definitions_filter_and_paginate(client: Any) -> None:
    pages = _all_pages(
        client.describe_registration_type_definitions, "RegistrationTypeDefinitions", MaxResults=2
    )
    names = [d["RegistrationType"] for page in pages for d in page]
    assert len(pages) == 2
    assert names == [TOLL_FREE, TEN_DLC_BRAND, TEN_DLC_BRAND_VETTING, INDIA_SENDER_ID]
    toll_free = client.describe_registration_type_definitions(
        Filters=[{"Name": "supported-association-resource-type", "Values": ["TOLL_FREE"]}]
    )["RegistrationTypeDefinitions"]
    assert [d["RegistrationType"] for d in toll_free] == [TOLL_FREE]
    assert toll_free[0]["SupportedAssociations"] == [
        {
            "ResourceType": "TOLL_FREE",
            "IsoCountryCode": "US",
            "AssociationBehavior": "ASSOCIATE_BEFORE_SUBMIT",
            "DisassociationBehavior": "DISASSOCIATE_ALL_CLOSES_REGISTRATION",
        }
    ]
    india = client.describe_registration_type_definitions(
        Filters=[{"Name": "supported-association-iso-country-code", "Values": ["IN"]}]
    )["RegistrationTypeDefinitions"]
    assert [d["RegistrationType"] for d in india] == [INDIA_SENDER_ID]
    _fails(
        client.describe_registration_type_definitions,
        "ValidationException",
        "UNKNOWN_REGISTRATION_TYPE",
        RegistrationTypes=["NO_SUCH_TYPE"],
    )


def test_section_definitions(client: Any) -> None:
    sections = client.describe_registration_section_definitions(RegistrationType=TOLL_FREE)
    paths = [s["SectionPath"] for s in sections["RegistrationSectionDefinitions"]]
    assert paths == ["companyInfo", "contactInfo", "messagingUseCase", "messageSamples"]
    vetting = client.describe_registration_section_definitions(
        RegistrationType=TEN_DLC_BRAND_VETTING
    )
    assert vetting["RegistrationSectionDefinitions"] == []
    _fails(
        client.describe_registration_section_definitions,
        "ValidationException",
        "UNKNOWN_REGISTRATION_SECTION",
        RegistrationType=TOLL_FREE,
        SectionPaths=["nope"],
    )


def test_field_definitions_span_several_pages(sms_service: FakeSmsService, client: Any) -> None:
    pages = _all_pages(
        client.describe_registration_field_definitions,
        "RegistrationFieldDefinitions",
        RegistrationType=TOLL_FREE,
    )
    fields = [f for page in pages for f in page]
    assert len(pages) >= 3 and all(len(p) <= sms_service.default_page_size for p in pages)
    assert len(fields) >= 25 and len({f["FieldPath"] for f in fields}) == len(fields)
    by_path = {f["FieldPath"]: f for f in fields}
    volume = by_path["messagingUseCase.monthlyMessageVolume"]
    assert volume["FieldType"] == "SELECT" and volume["SelectValidation"]["MaxChoices"] == 1
    assert {"10", "100", "1,000", "10,000"} <= set(volume["SelectValidation"]["Options"])
    assert by_path["messagingUseCase.useCaseCategory"]["SelectValidation"]["MaxChoices"] > 1
    assert by_path["messagingUseCase.optInImage"]["FieldType"] == "ATTACHMENT"
    assert by_path["companyInfo.zipCode"]["TextValidation"]["Pattern"].startswith("^[0-9]")
    assert {f["FieldRequirement"] for f in fields} == {"REQUIRED", "OPTIONAL"}
    paginated = client.get_paginator("describe_registration_field_definitions").paginate(
        RegistrationType=TOLL_FREE, PaginationConfig={"PageSize": 4}
    )
    assert [f for p in paginated for f in p["RegistrationFieldDefinitions"]] == fields
    section = client.describe_registration_field_definitions(
        RegistrationType=TOLL_FREE, SectionPath="messageSamples"
    )["RegistrationFieldDefinitions"]
    assert {f["SectionPath"] for f in section} == {"messageSamples"} and len(section) == 3
    _fails(
        client.describe_registration_field_definitions,
        "ValidationException",
        "UNKNOWN_REGISTRATION_FIELD",
        RegistrationType=TOLL_FREE,
        FieldPaths=["companyInfo.companyNam"],
    )
    assert (
        client.describe_registration_field_definitions(RegistrationType=TEN_DLC_BRAND_VETTING)[
            "RegistrationFieldDefinitions"
        ]
        == []
    )


def test_conditional_behavior_is_emitted(fake: FakeRegistrations, client: Any) -> None:
    shape = load_service_model().shape_for("RegistrationFieldDefinition")
    assert "ConditionalBehavior" in cast(StructureShape, shape).members
    definitions = client.describe_registration_field_definitions(
        RegistrationType=TEN_DLC_BRAND, FieldPaths=["contactInfo.businessContactEmail"]
    )["RegistrationFieldDefinitions"]
    assert definitions[0]["FieldRequirement"] == "CONDITIONAL"
    assert definitions[0]["ConditionalBehavior"] == {
        "Rules": [
            {
                "Conditions": [
                    {
                        "DependsOnFieldPath": "companyInfo.businessType",
                        "Operator": "EQUALS",
                        "Values": ["PUBLIC_PROFIT"],
                    }
                ],
                "RuleBehavior": "REQUIRED",
            }
        ],
        "DefaultBehavior": "DISALLOWED",
    }
    fake.emit_conditional_behavior = False
    again = client.describe_registration_field_definitions(
        RegistrationType=TEN_DLC_BRAND, FieldPaths=["contactInfo.businessContactEmail"]
    )["RegistrationFieldDefinitions"]
    assert "ConditionalBehavior" not in again[0]


def test_conditional_behavior_stays_raw_json_for_a_model_without_it(
    sms_service: FakeSmsService, tmp_path: Path
) -> None:
    """An old botocore drops the member; the raw body still carries it, and nothing is flagged."""
    data_path = write_model_without_conditional_behavior(tmp_path)
    session = botocore.session.Session()
    session.set_config_variable("data_path", str(data_path))
    old_client = boto3.Session(botocore_session=session).client(
        "pinpoint-sms-voice-v2",
        endpoint_url=sms_service.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bodies: list[bytes] = []
    old_client.meta.events.register(
        "after-call.pinpoint-sms-voice-v2.DescribeRegistrationFieldDefinitions",
        lambda http_response, **_: bodies.append(http_response.content),
    )
    modern_model = sms_service.model
    sms_service.model = model_without_conditional_behavior()
    try:
        parsed = old_client.describe_registration_field_definitions(
            RegistrationType=TEN_DLC_BRAND, FieldPaths=["companyInfo.stockSymbol"]
        )["RegistrationFieldDefinitions"][0]
        violations = sms_service.take_violations()
    finally:
        sms_service.model = modern_model
    assert parsed["FieldRequirement"] == "CONDITIONAL" and "ConditionalBehavior" not in parsed
    raw = json.loads(bodies[0])["RegistrationFieldDefinitions"][0]
    assert raw["ConditionalBehavior"]["DefaultBehavior"] == "DISALLOWED"
    assert violations == []


# --------------------------------------------------------------------------- registrations


def test_create_is_idempotent_per_client_token_and_tags_work(
    sms_service: FakeSmsService, fake: FakeRegistrations
) -> None:
    clients = [sms_service.client() for _ in range(8)]
    ids: list[str] = []

    def create(client: Any) -> None:
        response = client.create_registration(
            RegistrationType=TOLL_FREE, ClientToken="token-1", Tags=[{"Key": "team", "Value": "x"}]
        )
        ids.append(response["RegistrationId"])

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1 and REGISTRATION_ID_RE.fullmatch(ids[0])
    assert len(fake.live_registrations()) == 1
    client = clients[0]
    created = client.create_registration(RegistrationType=TOLL_FREE, ClientToken="token-1")
    arn = created["RegistrationArn"]
    assert arn == f"arn:aws:sms-voice:us-east-1:123456789012:registration/{ids[0]}"
    assert (created["RegistrationStatus"], created["CurrentVersionNumber"]) == ("CREATED", 1)
    assert created["Tags"] == [{"Key": "team", "Value": "x"}]
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}
    ]
    _fails(
        client.tag_resource,
        "ValidationException",
        ResourceArn=arn,
        Tags=[{"Key": "aws:x", "Value": "y"}],
    )
    other = client.create_registration(RegistrationType=TEN_DLC_BRAND)["RegistrationId"]
    assert other != ids[0]
    listed = client.describe_registrations(
        Filters=[{"Name": "registration-type", "Values": [TEN_DLC_BRAND]}]
    )["Registrations"]
    assert [r["RegistrationId"] for r in listed] == [other]
    _fails(
        client.describe_registrations,
        "ValidationException",
        "INVALID_FILTER_VALUES",
        Filters=[{"Name": "registration-status", "Values": ["BOGUS"]}],
    )
    _fails(
        client.create_registration,
        "ValidationException",
        "UNKNOWN_REGISTRATION_TYPE",
        RegistrationType="NO_SUCH_TYPE",
    )


def test_registrations_are_regional_and_paginate(sms_service: FakeSmsService, client: Any) -> None:
    ids = [
        client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"] for _ in range(3)
    ]
    pages = _all_pages(client.describe_registrations, "Registrations", MaxResults=2)
    assert [r["RegistrationId"] for page in pages for r in page] == ids and len(pages) == 2
    other = sms_service.client(region="eu-west-1", config=NO_RETRIES)
    assert other.describe_registrations()["Registrations"] == []
    _fails(other.describe_registrations, "ResourceNotFoundException", RegistrationIds=[ids[0]])


def test_values_of_every_kind_are_stored_and_described(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = _toll_free(sms_service, client, associate=False)
    put = _put(client, registration_id, "companyInfo.address2", "Suite 100")
    assert (put["VersionNumber"], put["FieldPath"], put["TextValue"]) == (
        1,
        "companyInfo.address2",
        "Suite 100",
    )
    pages = _all_pages(
        client.describe_registration_field_values,
        "RegistrationFieldValues",
        RegistrationId=registration_id,
        MaxResults=5,
    )
    values = [v for page in pages for v in page]
    assert len(pages) == 4 and len(values) == 19
    by_path = {v["FieldPath"]: v for v in values}
    assert by_path["messagingUseCase.monthlyMessageVolume"]["SelectChoices"] == ["10,000"]
    assert by_path["messagingUseCase.optInImage"]["RegistrationAttachmentId"].startswith("ra-")
    assert by_path["companyInfo.companyName"]["TextValue"] == "Example Corp"
    definition_order = [
        f["FieldPath"]
        for f in client.get_paginator("describe_registration_field_definitions")
        .paginate(RegistrationType=TOLL_FREE)
        .build_full_result()["RegistrationFieldDefinitions"]
    ]
    assert [v["FieldPath"] for v in values] == [p for p in definition_order if p in by_path]
    some = client.describe_registration_field_values(
        RegistrationId=registration_id, FieldPaths=["contactInfo.firstName", "companyInfo.state"]
    )["RegistrationFieldValues"]
    assert [v["FieldPath"] for v in some] == ["companyInfo.state", "contactInfo.firstName"]
    assert fake.field_values(registration_id)["companyInfo.address2"] == {"TextValue": "Suite 100"}


INVALID = "ValidationException"
FIELD_FAILED = "FIELD_VALIDATION_FAILED"
VOLUME = "messagingUseCase.monthlyMessageVolume"
CATEGORY = "messagingUseCase.useCaseCategory"
IMAGE = "messagingUseCase.optInImage"
NAME = "companyInfo.companyName"


@pytest.mark.parametrize(
    ("path", "kwargs", "code", "reason"),
    [
        ("companyInfo.zipCode", {"TextValue": SECRET}, INVALID, FIELD_FAILED),
        (NAME, {"TextValue": "x" * 101}, INVALID, FIELD_FAILED),
        (NAME, {"SelectChoices": ["A"]}, INVALID, FIELD_FAILED),
        (VOLUME, {"TextValue": "10,000"}, INVALID, FIELD_FAILED),
        (VOLUME, {"SelectChoices": [SECRET]}, INVALID, FIELD_FAILED),
        (VOLUME, {"SelectChoices": ["10", "100"]}, INVALID, FIELD_FAILED),
        (CATEGORY, {"SelectChoices": []}, INVALID, FIELD_FAILED),
        (CATEGORY, {"SelectChoices": ["MARKETING", "MARKETING"]}, INVALID, FIELD_FAILED),
        (IMAGE, {"TextValue": SECRET}, INVALID, FIELD_FAILED),
        (IMAGE, {"RegistrationAttachmentId": "ra-" + "0" * 32}, "ResourceNotFoundException", None),
        ("companyInfo.companyNam", {"TextValue": SECRET}, INVALID, "UNKNOWN_REGISTRATION_FIELD"),
        (NAME, {}, INVALID, "MISSING_PARAMETER"),
        (
            NAME,
            {"TextValue": "A", "SelectChoices": ["A"]},
            INVALID,
            "PARAMETERS_CANNOT_BE_USED_TOGETHER",
        ),
    ],
)
def test_bad_values_are_rejected_without_echoing_them(
    fake: FakeRegistrations,
    client: Any,
    path: str,
    kwargs: dict[str, Any],
    code: str,
    reason: str | None,
) -> None:
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    error = _fails(
        client.put_registration_field_value,
        code,
        reason,
        RegistrationId=registration_id,
        FieldPath=path,
        **kwargs,
    )
    assert SECRET not in json.dumps(error.response, default=str)
    if reason == "FIELD_VALIDATION_FAILED":
        assert cast(dict[str, Any], error.response)["Fields"][0]["Name"] == path
    assert fake.field_values(registration_id) == {}


def test_attachment_must_be_upload_complete(sms_service: FakeSmsService, client: Any) -> None:
    sms_service.upload_seconds = 30
    pending = client.create_registration_attachment(AttachmentBody=PNG)["RegistrationAttachmentId"]
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    error = _fails(
        _put,
        "ValidationException",
        "FIELD_VALIDATION_FAILED",
        client=client,
        registration_id=registration_id,
        path="messagingUseCase.optInImage",
        value=pending,
    )
    assert "UPLOAD_IN_PROGRESS" in error.response["Error"]["Message"]
    other_region = sms_service.client(region="eu-west-1", config=NO_RETRIES)
    sms_service.upload_seconds = 0
    elsewhere = other_region.create_registration_attachment(AttachmentBody=PNG)
    _fails(
        _put,
        "ResourceNotFoundException",
        client=client,
        registration_id=registration_id,
        path="messagingUseCase.optInImage",
        value=elsewhere["RegistrationAttachmentId"],
    )


def test_delete_value_only_for_optional_fields(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = _toll_free(sms_service, client, associate=False)
    _put(client, registration_id, "messageSamples.messageSample2", "Your code is 123456, thanks")
    deleted = client.delete_registration_field_value(
        RegistrationId=registration_id, FieldPath="messageSamples.messageSample2"
    )
    assert deleted["TextValue"] == "Your code is 123456, thanks"
    assert "messageSamples.messageSample2" not in fake.field_values(registration_id)
    _fails(
        client.delete_registration_field_value,
        "ValidationException",
        "REGISTRATION_FIELD_CANNOT_BE_DELETED",
        RegistrationId=registration_id,
        FieldPath="companyInfo.companyName",
    )
    _fails(
        client.delete_registration_field_value,
        "ResourceNotFoundException",
        RegistrationId=registration_id,
        FieldPath="messageSamples.messageSample2",
    )
    brand = _brand(client, {"companyInfo.businessType": ["PUBLIC_PROFIT"]})
    _put(client, brand, "companyInfo.stockSymbol", "EXMP")
    client.delete_registration_field_value(
        RegistrationId=brand, FieldPath="companyInfo.stockSymbol"
    )


# --------------------------------------------------------------------------- lifecycle


def test_submit_review_approve_and_the_conflicts_on_the_way(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = _toll_free(sms_service, client, associate=False)
    _fails(
        client.submit_registration_version,
        "ConflictException",
        "SUBMIT_REGISTRATION_VERSION_NOT_ALLOWED",
        RegistrationId=registration_id,
    )
    number = fake.add_phone_number()
    associated = client.create_registration_association(
        RegistrationId=registration_id, ResourceId=number["PhoneNumberArn"]
    )
    assert (associated["ResourceType"], associated["PhoneNumber"]) == (
        "TOLL_FREE",
        number["PhoneNumber"],
    )
    _fails(
        client.create_registration_association,
        "ConflictException",
        "RESOURCE_ALREADY_ASSOCIATED",
        RegistrationId=registration_id,
        ResourceId=number["PhoneNumberId"],
    )
    listed = client.list_registration_associations(RegistrationId=registration_id)
    assert [a["ResourceId"] for a in listed["RegistrationAssociations"]] == [
        number["PhoneNumberId"]
    ]
    submitted = client.submit_registration_version(RegistrationId=registration_id)
    assert (submitted["RegistrationVersionStatus"], submitted["AwsReview"]) == ("SUBMITTED", False)
    assert "SubmittedTimestamp" in submitted["RegistrationVersionStatusHistory"]
    assert _registration(client, registration_id)["RegistrationStatus"] == "SUBMITTED"
    for call, reason in (
        (client.submit_registration_version, "SUBMIT_REGISTRATION_VERSION_NOT_ALLOWED"),
        (client.create_registration_version, "CREATE_REGISTRATION_VERSION_NOT_ALLOWED"),
    ):
        _fails(call, "ConflictException", reason, RegistrationId=registration_id)
    _fails(
        _put,
        "ConflictException",
        "EDIT_REGISTRATION_FIELD_VALUES_NOT_ALLOWED",
        client=client,
        registration_id=registration_id,
        path="companyInfo.city",
        value="Tacoma",
    )
    _fails(
        client.delete_registration_field_value,
        "ConflictException",
        "EDIT_REGISTRATION_FIELD_VALUES_NOT_ALLOWED",
        RegistrationId=registration_id,
        FieldPath="companyInfo.address2",
    )
    status, body = _control(sms_service, "start_review", id_or_arn=registration_id)
    assert status == 200 and body["result"]["RegistrationStatus"] == "REVIEWING"
    assert _version(client, registration_id)["RegistrationVersionStatus"] == "REVIEWING"
    for call, reason in (
        (client.discard_registration_version, "DISCARD_REGISTRATION_VERSION_NOT_ALLOWED"),
        (client.delete_registration, "RESOURCE_DELETION_NOT_ALLOWED"),
        (client.create_registration_version, "CREATE_REGISTRATION_VERSION_NOT_ALLOWED"),
    ):
        _fails(call, "ConflictException", reason, RegistrationId=registration_id)
    status, body = _control(sms_service, "approve", id_or_arn=registration_id)
    assert status == 200
    described = _registration(client, registration_id)
    assert (described["RegistrationStatus"], described["ApprovedVersionNumber"]) == (
        "COMPLETE",
        1,
    )
    version = _version(client, registration_id)
    assert version["RegistrationVersionStatus"] == "APPROVED"
    assert {"ReviewingTimestamp", "ApprovedTimestamp"} <= set(
        version["RegistrationVersionStatusHistory"]
    )
    second = client.create_registration_version(RegistrationId=registration_id)
    assert (second["VersionNumber"], second["RegistrationVersionStatus"]) == (2, "DRAFT")
    assert fake.field_values(registration_id) == {}
    assert len(fake.field_values(registration_id, 1)) == 18


def test_incomplete_submit_is_accepted_then_denied(fake: FakeRegistrations, client: Any) -> None:
    fake.auto_deny_seconds = 0.05
    registration_id = client.create_registration(RegistrationType=TEN_DLC_BRAND)["RegistrationId"]
    _put(client, registration_id, "companyInfo.companyName", "Example Corp")
    submitted = client.submit_registration_version(RegistrationId=registration_id)
    assert submitted["RegistrationVersionStatus"] == "SUBMITTED"
    denied = _wait_for_version_status(client, registration_id, "DENIED")
    assert denied["RegistrationVersionStatus"] == "DENIED"
    assert [r["Reason"] for r in denied["DeniedReasons"]] == ["MISSING_REQUIRED_FIELDS"]
    assert "contactInfo.email" in denied["DeniedReasons"][0]["LongDescription"]
    assert "companyInfo.companyName" not in denied["DeniedReasons"][0]["LongDescription"]
    described = _registration(client, registration_id)
    assert described["RegistrationStatus"] == "REQUIRES_UPDATES"
    assert described["LatestDeniedVersionNumber"] == 1


def test_conditional_rules_decide_the_automatic_review(
    fake: FakeRegistrations, client: Any
) -> None:
    fake.auto_deny_seconds = 0.05
    private_with_stock = _brand(
        client, {"companyInfo.businessType": ["PRIVATE_PROFIT"], "companyInfo.stockSymbol": "EXMP"}
    )
    public_without_email = _brand(client, {"companyInfo.businessType": ["PUBLIC_PROFIT"]})
    public_complete = _brand(
        client,
        {
            "companyInfo.businessType": ["PUBLIC_PROFIT"],
            "companyInfo.stockSymbol": "EXMP",
            "contactInfo.businessContactEmail": "ir@example.com",
        },
    )
    for registration_id in (private_with_stock, public_without_email, public_complete):
        client.submit_registration_version(RegistrationId=registration_id)
    denied = _wait_for_version_status(client, private_with_stock, "DENIED")
    assert [r["Reason"] for r in denied["DeniedReasons"]] == ["CONDITIONAL_FIELD_NOT_ALLOWED"]
    stock = client.describe_registration_field_values(
        RegistrationId=private_with_stock, FieldPaths=["companyInfo.stockSymbol"]
    )["RegistrationFieldValues"][0]
    assert stock["DeniedReason"] == "Conditional field not allowed"
    missing = _wait_for_version_status(client, public_without_email, "DENIED")
    assert "contactInfo.businessContactEmail" in missing["DeniedReasons"][0]["LongDescription"]
    snapshot = fake.registration(public_complete)
    assert snapshot is not None and snapshot["Versions"][0]["AutoDenyPending"] is False
    assert _version(client, public_complete)["RegistrationVersionStatus"] == "SUBMITTED"


def test_deny_with_reasons_then_a_new_version_starts_empty(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = _toll_free(sms_service, client)
    client.submit_registration_version(RegistrationId=registration_id)
    status, body = _control(
        sms_service,
        "deny",
        id_or_arn=registration_id,
        reasons=[{"Reason": "OPT_IN_INSUFFICIENT", "ShortDescription": "Opt-in unclear"}],
        field_feedback={
            "messagingUseCase.optInImage": {
                "DeniedReason": "Image unreadable",
                "Feedback": "Upload a clearer screenshot",
            }
        },
        feedback="See the opt-in image",
    )
    assert status == 200 and body["result"]["RegistrationStatus"] == "REQUIRES_UPDATES"
    version = _version(client, registration_id)
    assert version["RegistrationVersionStatus"] == "DENIED"
    assert version["DeniedReasons"] == [
        {"Reason": "OPT_IN_INSUFFICIENT", "ShortDescription": "Opt-in unclear"}
    ]
    assert version["Feedback"] == "See the opt-in image"
    image = client.describe_registration_field_values(
        RegistrationId=registration_id, FieldPaths=["messagingUseCase.optInImage"]
    )["RegistrationFieldValues"][0]
    assert (image["DeniedReason"], image["Feedback"]) == (
        "Image unreadable",
        "Upload a clearer screenshot",
    )
    created = client.create_registration_version(RegistrationId=registration_id)
    assert (created["VersionNumber"], created["RegistrationVersionStatus"]) == (2, "DRAFT")
    empty = client.describe_registration_field_values(RegistrationId=registration_id)
    assert (empty["VersionNumber"], empty["RegistrationFieldValues"]) == (2, [])
    old = client.describe_registration_field_values(
        RegistrationId=registration_id, VersionNumber=1, MaxResults=100
    )
    assert len(old["RegistrationFieldValues"]) == 18
    _put(client, registration_id, "companyInfo.companyName", "Example Corp 2")
    assert fake.field_values(registration_id) == {
        "companyInfo.companyName": {"TextValue": "Example Corp 2"}
    }
    assert fake.field_values(registration_id, 1)["companyInfo.companyName"] == {
        "TextValue": "Example Corp"
    }
    _fails(
        client.describe_registration_field_values,
        "ValidationException",
        "UNKNOWN_REGISTRATION_VERSION",
        RegistrationId=registration_id,
        VersionNumber=3,
    )
    versions = client.describe_registration_versions(
        RegistrationId=registration_id,
        Filters=[{"Name": "registration-version-status", "Values": ["DENIED"]}],
    )["RegistrationVersions"]
    assert [v["VersionNumber"] for v in versions] == [1]


def test_new_version_can_copy_values_when_configured(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    fake.configure(new_version_copies_values=True)
    registration_id = _toll_free(sms_service, client)
    client.submit_registration_version(RegistrationId=registration_id)
    fake.deny(registration_id)
    client.create_registration_version(RegistrationId=registration_id)
    assert fake.field_values(registration_id) == fake.field_values(registration_id, 1)


def test_discard_only_a_submitted_version(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = _toll_free(sms_service, client)
    _fails(
        client.discard_registration_version,
        "ConflictException",
        "DISCARD_REGISTRATION_VERSION_NOT_ALLOWED",
        RegistrationId=registration_id,
    )
    client.submit_registration_version(RegistrationId=registration_id, AwsReview=True)
    discarded = client.discard_registration_version(RegistrationId=registration_id)
    assert discarded["RegistrationVersionStatus"] == "DISCARDED"
    assert _registration(client, registration_id)["RegistrationStatus"] == "CREATED"
    _fails(
        client.discard_registration_version,
        "ConflictException",
        "DISCARD_REGISTRATION_VERSION_NOT_ALLOWED",
        RegistrationId=registration_id,
    )
    assert client.create_registration_version(RegistrationId=registration_id)["VersionNumber"] == 2
    snapshot = fake.registration(registration_id)
    assert snapshot is not None and snapshot["Versions"][0]["AwsReview"] is True


def test_delete_rules_and_visibility(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = _toll_free(sms_service, client, associate=False)
    number = fake.add_phone_number()
    client.create_registration_association(
        RegistrationId=registration_id, ResourceId=number["PhoneNumberId"]
    )
    _fails(
        client.delete_registration,
        "ConflictException",
        "RESOURCE_DELETION_NOT_ALLOWED",
        RegistrationId=registration_id,
    )
    closed = fake.release_phone_number(number["PhoneNumberId"])
    assert closed is not None and closed["RegistrationStatus"] == "CLOSED"
    deleted = client.delete_registration(RegistrationId=registration_id)
    assert deleted["RegistrationStatus"] == "DELETED"
    for call, kwargs in (
        (client.describe_registrations, {"RegistrationIds": [registration_id]}),
        (client.delete_registration, {"RegistrationId": registration_id}),
        (client.describe_registration_versions, {"RegistrationId": registration_id}),
        (client.list_tags_for_resource, {"ResourceArn": deleted["RegistrationArn"]}),
    ):
        _fails(call, "ResourceNotFoundException", **kwargs)
    assert fake.live_registrations() == []
    sms_service.deleted_visibility = "status_deleted"
    assert _registration(client, registration_id)["RegistrationStatus"] == "DELETED"
    brand = _brand(client, {"companyInfo.businessType": ["PRIVATE_PROFIT"]})
    vetting = client.create_registration(RegistrationType=TEN_DLC_BRAND_VETTING)["RegistrationId"]
    associated = client.create_registration_association(RegistrationId=vetting, ResourceId=brand)
    assert associated["ResourceType"] == TEN_DLC_BRAND
    client.submit_registration_version(RegistrationId=vetting)
    client.discard_registration_version(RegistrationId=vetting)
    client.delete_registration(RegistrationId=vetting)


def test_association_rules(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    first = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    second = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    number = fake.add_phone_number()
    client.create_registration_association(RegistrationId=first, ResourceId=number["PhoneNumberId"])
    _fails(
        client.create_registration_association,
        "ConflictException",
        "RESOURCE_ALREADY_ASSOCIATED",
        RegistrationId=second,
        ResourceId=number["PhoneNumberId"],
    )
    ten_dlc = fake.add_phone_number(number_type="TEN_DLC")
    _fails(
        client.create_registration_association,
        "ValidationException",
        "INVALID_REGISTRATION_ASSOCIATION",
        RegistrationId=second,
        ResourceId=ten_dlc["PhoneNumberId"],
    )
    _fails(
        client.create_registration_association,
        "ResourceNotFoundException",
        RegistrationId=second,
        ResourceId="phone-" + "0" * 32,
    )
    campaign = registration_type(
        "TEST_CAMPAIGN",
        "Campaign",
        associations=[
            {
                "ResourceType": "TEN_DLC",
                "IsoCountryCode": "US",
                "AssociationBehavior": "ASSOCIATE_AFTER_COMPLETE",
                "DisassociationBehavior": "DISASSOCIATE_ALL_ALLOWS_DELETE_REGISTRATION",
            }
        ],
    )
    fake.add_registration_type(campaign)
    registration_id = client.create_registration(RegistrationType="TEST_CAMPAIGN")["RegistrationId"]
    _fails(
        client.create_registration_association,
        "ConflictException",
        "REGISTRATION_NOT_COMPLETE",
        RegistrationId=registration_id,
        ResourceId=ten_dlc["PhoneNumberId"],
    )
    client.submit_registration_version(RegistrationId=registration_id)
    fake.approve(registration_id)
    client.create_registration_association(
        RegistrationId=registration_id, ResourceId=ten_dlc["PhoneNumberArn"]
    )
    filtered = client.list_registration_associations(
        RegistrationId=registration_id,
        Filters=[{"Name": "resource-type", "Values": ["TEN_DLC"]}],
    )["RegistrationAssociations"]
    assert [a["ResourceId"] for a in filtered] == [ten_dlc["PhoneNumberId"]]


def test_write_calls_are_counted_per_registration(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    other = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    _put(client, registration_id, "companyInfo.companyName", "Example Corp")
    _fails(
        client.discard_registration_version,
        "ConflictException",
        RegistrationId=registration_id,
    )
    client.describe_registrations(RegistrationIds=[registration_id])
    client.describe_registration_field_values(RegistrationId=registration_id)
    assert fake.writes(registration_id) == 2
    assert fake.write_counts() == {registration_id: 2, other: 1}
    assert fake.write_log(registration_id) == [
        {"Operation": "CreateRegistration", "Error": None},
        {"Operation": "PutRegistrationFieldValue", "FieldPath": NAME, "Error": None},
        {"Operation": "DiscardRegistrationVersion", "Error": "ConflictException"},
    ]
    status, body = _control(sms_service, "writes", id_or_arn=registration_id)
    assert (status, body) == (200, {"result": 2})


def test_strict_registration_ids(fake: FakeRegistrations, client: Any) -> None:
    _fails(
        client.describe_registration_versions,
        "ResourceNotFoundException",
        RegistrationId="not-a-registration",
    )
    fake.strict_registration_ids = True
    _fails(
        client.describe_registration_versions,
        "ValidationException",
        "INVALID_PARAMETER",
        RegistrationId="not-a-registration",
    )
    _fails(
        client.describe_registration_versions,
        "ResourceNotFoundException",
        RegistrationId="registration-" + "0" * 32,
    )


def test_http_control_endpoint(sms_service: FakeSmsService, client: Any) -> None:
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    calls_before = sum(sms_service.calls.values())
    status, body = _control(sms_service, "registration", id_or_arn=registration_id)
    assert status == 200 and body["result"]["RegistrationStatus"] == "CREATED"
    assert body["result"]["Versions"][0]["RegistrationVersionStatus"] == "DRAFT"
    status, body = _control(sms_service, "live_registrations")
    assert status == 200 and [r["RegistrationId"] for r in body["result"]] == [registration_id]
    assert _control(sms_service, "approve", id_or_arn=registration_id)[0] == 409
    assert _control(sms_service, "approve", id_or_arn="registration-" + "1" * 32)[0] == 404
    assert _control(sms_service, "approve", bogus=1)[0] == 400
    assert _control(sms_service, "no_such_action")[0] == 404
    status, body = _control(sms_service, "configure", auto_deny_seconds=0.01)
    assert status == 200 and body["result"]["auto_deny_seconds"] == 0.01
    assert _control(sms_service, "configure", no_such_setting=1)[0] == 400
    status, body = _control(sms_service, "add_phone_number", number_type="TOLL_FREE")
    assert status == 200 and body["result"]["PhoneNumberId"].startswith("phone-")
    status, body = _control(
        sms_service,
        "force_status",
        id_or_arn=registration_id,
        registration_status="PROVISIONING",
        version_status="APPROVED",
    )
    assert status == 200 and body["result"]["RegistrationStatus"] == "PROVISIONING"
    assert (
        _control(sms_service, "force_status", id_or_arn=registration_id, version_status="X")[0]
        == 409
    )
    assert sum(sms_service.calls.values()) == calls_before


def test_rate_limits_apply_per_operation(sms_service: FakeSmsService, client: Any) -> None:
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    sms_service.registrations.set_rate_limits(REGISTRATION_RATE_LIMITS)
    _put(client, registration_id, "companyInfo.companyName", "Example Corp")
    _fails(
        _put,
        "ThrottlingException",
        client=client,
        registration_id=registration_id,
        path="companyInfo.city",
        value="Seattle",
    )
    client.describe_registrations(RegistrationIds=[registration_id])
    sms_service.set_faults(internal_error_rate={"SubmitRegistrationVersion": 1.0})
    _fails(
        client.submit_registration_version,
        "InternalServerException",
        RegistrationId=registration_id,
    )


def test_added_types_are_checked_and_served(fake: FakeRegistrations, client: Any) -> None:
    fake.add_registration_type(bulk_text_type("TEST_BULK_100", 100))
    definitions = (
        client.get_paginator("describe_registration_field_definitions")
        .paginate(RegistrationType="TEST_BULK_100")
        .build_full_result()["RegistrationFieldDefinitions"]
    )
    assert len(definitions) == 100 and definitions[-1]["FieldPath"] == "bulk.field100"
    broken = bulk_text_type("TEST_BROKEN", 1)
    broken["Fields"][0]["FieldType"] = "NUMBER"
    with pytest.raises(ValueError, match="FieldType"):
        fake.add_registration_type(broken)
    misplaced = bulk_text_type("TEST_MISPLACED", 1)
    misplaced["Fields"][0]["SectionPath"] = "elsewhere"
    with pytest.raises(ValueError, match="section not declared"):
        fake.add_registration_type(misplaced)


def test_referenced_attachments_can_be_marked_in_use(
    sms_service: FakeSmsService, fake: FakeRegistrations, client: Any
) -> None:
    fake.configure(mark_attachments_in_use=True)
    attachment_id = _attachment(sms_service, client)
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    _put(client, registration_id, "messagingUseCase.optInImage", attachment_id)
    _fails(
        client.delete_registration_attachment,
        "ConflictException",
        RegistrationAttachmentId=attachment_id,
    )
    client.delete_registration(RegistrationId=registration_id)
    client.delete_registration_attachment(RegistrationAttachmentId=attachment_id)


def test_registration_quota(fake: FakeRegistrations, client: Any) -> None:
    fake.max_live_registrations = 1
    client.create_registration(RegistrationType=TOLL_FREE)
    _fails(
        client.create_registration,
        "ServiceQuotaExceededException",
        "REGISTRATIONS_PER_ACCOUNT",
        RegistrationType=TOLL_FREE,
    )


def test_model_violations_are_recorded_for_registration_requests(
    sms_service: FakeSmsService, client: Any
) -> None:
    registration_id = client.create_registration(RegistrationType=TOLL_FREE)["RegistrationId"]
    status, body = _signed_raw_call(
        sms_service,
        "PutRegistrationFieldValue",
        {"RegistrationId": registration_id, "FieldPath": "bad path!", "Bogus": 1},
    )
    assert (status, body["__type"]) == (400, "ValidationException")
    violations = sms_service.take_violations()
    assert any("unknown member 'Bogus'" in v for v in violations), violations
    assert any("FieldPath: 'bad path!' does not match" in v for v in violations), violations
    assert sms_service.registrations.writes(registration_id) == 1
