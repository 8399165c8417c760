"""Registration service calls and lifecycle, with botocore's Stubber checking each request.

Stubber fails on any call it was not told to expect, so "no write" is asserted by expecting
only reads.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from cdk_sms_registration_handler import registration_lifecycle as lifecycle
from cdk_sms_registration_handler import registrations
from cdk_sms_registration_handler.attachments import client_token
from cdk_sms_registration_handler.registration_contract import (
    OWNER_TAG_KEY,
    FieldValue,
)
from cdk_sms_registration_handler.resource_contract import owner_mark
from cdk_sms_registration_handler.retries import Deadline

from .handler_events import LOGICAL_ID, STACK_ID, event

TYPE = "US_TOLL_FREE_REGISTRATION"
REG_ID = "registration-0123456789abcdef0123456789abcdef"
NEW_ID = "registration-fedcba9876543210fedcba9876543210"
ARN = f"arn:aws:sms-voice:eu-west-1:123456789012:registration/{REG_ID}"
NEW_ARN = f"arn:aws:sms-voice:eu-west-1:123456789012:registration/{NEW_ID}"
PHONE = "phone-0123456789abcdef0123456789abcdef"
PHONE_ARN = f"arn:aws:sms-voice:eu-west-1:123456789012:phone-number/{PHONE}"
CREATED = datetime.datetime(2026, 11, 27, 9, 30, tzinfo=datetime.timezone.utc)
SECRET = "Jane Q. Private"  # a personal value that must never leave the handler
OWNER = owner_mark(STACK_ID, LOGICAL_ID)

DEFINITIONS = [
    {
        "SectionPath": "companyInfo",
        "FieldPath": "companyInfo.companyName",
        "FieldType": "TEXT",
        "FieldRequirement": "REQUIRED",
        "TextValidation": {"MinLength": 1, "MaxLength": 100, "Pattern": ".+"},
        "DisplayHints": {"Title": "Company", "ShortDescription": "Company name"},
    },
    {
        "SectionPath": "contactInfo",
        "FieldPath": "contactInfo.firstName",
        "FieldType": "TEXT",
        "FieldRequirement": "OPTIONAL",
        "TextValidation": {"MinLength": 1, "MaxLength": 100, "Pattern": ".+"},
        "DisplayHints": {"Title": "First name", "ShortDescription": "First name"},
    },
    {
        "SectionPath": "messagingUseCase",
        "FieldPath": "messagingUseCase.monthlyMessageVolume",
        "FieldType": "SELECT",
        "FieldRequirement": "REQUIRED",
        "SelectValidation": {"MinChoices": 1, "MaxChoices": 1, "Options": ["10", "10,000"]},
        "DisplayHints": {"Title": "Volume", "ShortDescription": "Monthly volume"},
    },
    {
        "SectionPath": "messagingUseCase",
        "FieldPath": "messagingUseCase.optInImage",
        "FieldType": "ATTACHMENT",
        "FieldRequirement": "OPTIONAL",
        "DisplayHints": {"Title": "Opt-in", "ShortDescription": "Opt-in image"},
    },
    {
        "SectionPath": "companyInfo",
        "FieldPath": "companyInfo.stockSymbol",
        "FieldType": "TEXT",
        "FieldRequirement": "CONDITIONAL",
        "TextValidation": {"MinLength": 1, "MaxLength": 10, "Pattern": "[A-Z]+"},
        "DisplayHints": {"Title": "Stock", "ShortDescription": "Stock symbol"},
        "ConditionalBehavior": {
            "Rules": [
                {
                    "Conditions": [
                        {
                            "DependsOnFieldPath": "companyInfo.businessType",
                            "Operator": "EQUALS",
                            "Values": ["PUBLIC_PROFIT"],
                        }
                    ],
                    "RuleBehavior": "OPTIONAL",
                }
            ],
            "DefaultBehavior": "DISALLOWED",
        },
    },
]

FIELDS = [
    {"Path": "companyInfo.companyName", "Text": "Example Corp"},
    {"Path": "contactInfo.firstName", "Text": SECRET},
    {"Path": "messagingUseCase.monthlyMessageVolume", "Text": "10,000"},
    {"Path": "messagingUseCase.optInImage", "AttachmentId": "ra-0123"},
]


def properties(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "RegistrationType": TYPE,
        "Fields": copy.deepcopy(FIELDS),
        "Associations": [PHONE],
        "Submit": "true",
        "Tags": [{"Key": "team", "Value": "messaging"}],
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


class Sms:
    """A real pinpoint-sms-voice-v2 client under a Stubber, with response builders."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "pinpoint-sms-voice-v2",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stub = Stubber(self.client)
        self.calls: list[str] = []
        self.client.meta.events.register(
            "before-parameter-build.pinpoint-sms-voice-v2",
            lambda model, **_: self.calls.append(model.name),
        )

    def registration(
        self,
        status: str = "CREATED",
        version: int = 1,
        registration_id: str = REG_ID,
        registration_type: str = TYPE,
        approved: int | None = None,
    ) -> dict[str, Any]:
        described: dict[str, Any] = {
            "RegistrationArn": ARN if registration_id == REG_ID else NEW_ARN,
            "RegistrationId": registration_id,
            "RegistrationType": registration_type,
            "RegistrationStatus": status,
            "CurrentVersionNumber": version,
            "CreatedTimestamp": CREATED,
        }
        if approved is not None:
            described["ApprovedVersionNumber"] = approved
        return described

    def version_info(self, status: str, number: int = 1) -> dict[str, Any]:
        return {
            "VersionNumber": number,
            "RegistrationVersionStatus": status,
            "RegistrationVersionStatusHistory": {"DraftTimestamp": CREATED},
        }

    # reads --------------------------------------------------------------------------------
    def definitions(self, pages: list[list[dict[str, Any]]] | None = None) -> None:
        pages = pages or [DEFINITIONS]
        for index, page in enumerate(pages):
            response: dict[str, Any] = {
                "RegistrationType": TYPE,
                "RegistrationFieldDefinitions": page,
            }
            params: dict[str, Any] = {"RegistrationType": TYPE, "MaxResults": 100}
            if index + 1 < len(pages):
                response["NextToken"] = f"page-{index + 1}"
            if index:
                params["NextToken"] = f"page-{index}"
            self.stub.add_response("describe_registration_field_definitions", response, params)

    def described(self, status: str = "CREATED", version: int = 1, **kwargs: Any) -> None:
        registration_id = kwargs.get("registration_id", REG_ID)
        self.stub.add_response(
            "describe_registrations",
            {"Registrations": [self.registration(status, version, **kwargs)]},
            {"RegistrationIds": [registration_id]},
        )

    def not_found(self, operation: str, code: str = "ResourceNotFoundException") -> None:
        self.stub.add_client_error(operation, service_error_code=code, http_status_code=404)

    def version(self, status: str, number: int = 1) -> None:
        self.stub.add_response(
            "describe_registration_versions",
            {
                "RegistrationArn": ARN,
                "RegistrationId": REG_ID,
                "RegistrationVersions": [self.version_info(status, number)],
            },
            {"RegistrationId": REG_ID, "VersionNumbers": [number]},
        )

    def values(self, entries: list[dict[str, Any]], number: int = 1) -> None:
        self.stub.add_response(
            "describe_registration_field_values",
            {
                "RegistrationArn": ARN,
                "RegistrationId": REG_ID,
                "VersionNumber": number,
                "RegistrationFieldValues": entries,
            },
            {"RegistrationId": REG_ID, "VersionNumber": number, "MaxResults": 100},
        )

    def associations(self, resources: list[str], registration_id: str = REG_ID) -> None:
        self.stub.add_response(
            "list_registration_associations",
            {
                "RegistrationArn": ARN,
                "RegistrationId": registration_id,
                "RegistrationType": TYPE,
                "RegistrationAssociations": [
                    {"ResourceArn": PHONE_ARN, "ResourceId": r, "ResourceType": "phone-number"}
                    for r in resources
                ],
            },
            {"RegistrationId": registration_id, "MaxResults": 100},
        )

    def tags(self, tags: dict[str, str], arn: str = ARN) -> None:
        self.stub.add_response(
            "list_tags_for_resource",
            {"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]},
            {"ResourceArn": arn},
        )

    # writes -------------------------------------------------------------------------------
    def created(self, registration_id: str = REG_ID, token: Any = ANY) -> None:
        self.stub.add_response(
            "create_registration",
            self.registration(registration_id=registration_id),
            {
                "RegistrationType": TYPE,
                "Tags": [
                    {"Key": "team", "Value": "messaging"},
                    {"Key": OWNER_TAG_KEY, "Value": OWNER},
                ],
                "ClientToken": token,
            },
        )

    def put(self, path: str, registration_id: str = REG_ID, **value: Any) -> None:
        self.stub.add_response(
            "put_registration_field_value",
            {
                "RegistrationArn": ARN,
                "RegistrationId": registration_id,
                "VersionNumber": 1,
                "FieldPath": path,
            },
            {"RegistrationId": registration_id, "FieldPath": path, **value},
        )

    def put_refused(self, path: str) -> None:
        self.stub.add_client_error(
            "put_registration_field_value",
            service_error_code="ValidationException",
            service_message=f"Value '{SECRET}' is not valid",
            http_status_code=400,
            response_meta={},
            modeled_fields={
                "Message": f"Value '{SECRET}' is not valid",
                "Reason": "FIELD_VALIDATION_FAILED",
                "Fields": [{"Name": path, "Message": f"'{SECRET}' rejected"}],
            },
        )

    def all_puts(self, registration_id: str = REG_ID) -> None:
        self.put("companyInfo.companyName", registration_id, TextValue="Example Corp")
        self.put("contactInfo.firstName", registration_id, TextValue=SECRET)
        self.put("messagingUseCase.monthlyMessageVolume", registration_id, SelectChoices=["10,000"])
        self.put("messagingUseCase.optInImage", registration_id, RegistrationAttachmentId="ra-0123")

    def deleted_value(self, path: str) -> None:
        self.stub.add_response(
            "delete_registration_field_value",
            {
                "RegistrationArn": ARN,
                "RegistrationId": REG_ID,
                "VersionNumber": 1,
                "FieldPath": path,
            },
            {"RegistrationId": REG_ID, "FieldPath": path},
        )

    def associated(self, registration_id: str = REG_ID) -> None:
        self.stub.add_response(
            "create_registration_association",
            {
                "RegistrationArn": ARN,
                "RegistrationId": registration_id,
                "RegistrationType": TYPE,
                "ResourceArn": PHONE_ARN,
                "ResourceId": PHONE,
                "ResourceType": "phone-number",
            },
            {"RegistrationId": registration_id, "ResourceId": PHONE},
        )

    def submitted(self, number: int = 1, registration_id: str = REG_ID) -> None:
        self.stub.add_response(
            "submit_registration_version",
            {
                "RegistrationArn": ARN,
                "RegistrationId": registration_id,
                **self.version_info("SUBMITTED", number),
                "AwsReview": False,
            },
            {"RegistrationId": registration_id},
        )

    def new_version(self, number: int) -> None:
        self.stub.add_response(
            "create_registration_version",
            {
                "RegistrationArn": ARN,
                "RegistrationId": REG_ID,
                **self.version_info("DRAFT", number),
            },
            {"RegistrationId": REG_ID},
        )

    def discarded(self, number: int) -> None:
        self.stub.add_response(
            "discard_registration_version",
            {
                "RegistrationArn": ARN,
                "RegistrationId": REG_ID,
                **self.version_info("DISCARDED", number),
            },
            {"RegistrationId": REG_ID},
        )

    def registration_deleted(self, registration_id: str = REG_ID) -> None:
        self.stub.add_response(
            "delete_registration",
            self.registration("DELETED", registration_id=registration_id),
            {"RegistrationId": registration_id},
        )

    def error(
        self, operation: str, code: str, reason: str | None = None, status: int = 400
    ) -> None:
        fields: dict[str, Any] = {"Message": "refused"}
        if reason:
            fields["Reason"] = reason
        self.stub.add_client_error(
            operation,
            service_error_code=code,
            service_message="refused",
            http_status_code=status,
            modeled_fields=fields if code in ("ConflictException", "ValidationException") else None,
        )


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sms]:
    monkeypatch.setattr(lifecycle, "SUBMIT_SETTLE_SECONDS", 0.0)
    service = Sms()
    with service.stub:
        yield service
        service.stub.assert_no_pending_responses()


def deadline(seconds: float = 600.0) -> Deadline:
    return Deadline(seconds)


WRITES = {
    "CreateRegistration",
    "PutRegistrationFieldValue",
    "DeleteRegistrationFieldValue",
    "CreateRegistrationAssociation",
    "SubmitRegistrationVersion",
    "CreateRegistrationVersion",
    "DiscardRegistrationVersion",
    "DeleteRegistration",
    "TagResource",
    "UntagResource",
}


def writes(sms: Sms) -> list[str]:
    return [call for call in sms.calls if call in WRITES]


# Service calls ---------------------------------------------------------------------------


def test_definitions_read_every_page_with_conditional_behavior(sms: Sms) -> None:
    sms.definitions([DEFINITIONS[:2], DEFINITIONS[2:4], DEFINITIONS[4:]])
    found = registrations.definitions(sms.client, TYPE, deadline())
    assert [d["FieldPath"] for d in found] == [d["FieldPath"] for d in DEFINITIONS]
    assert found[-1]["ConditionalBehavior"]["DefaultBehavior"] == "DISALLOWED"


def test_field_values_read_every_page(sms: Sms) -> None:
    first = {
        "RegistrationArn": ARN,
        "RegistrationId": REG_ID,
        "VersionNumber": 2,
        "RegistrationFieldValues": [
            {"FieldPath": "a.text", "TextValue": "x"},
            {"FieldPath": "a.choices", "SelectChoices": ["A", "B"]},
        ],
        "NextToken": "next",
    }
    second = {
        **first,
        "RegistrationFieldValues": [
            {"FieldPath": "a.file", "RegistrationAttachmentId": "ra-1"},
            {"FieldPath": "a.empty"},
        ],
    }
    del second["NextToken"]
    base = {"RegistrationId": REG_ID, "VersionNumber": 2, "MaxResults": 100}
    sms.stub.add_response("describe_registration_field_values", first, base)
    sms.stub.add_response(
        "describe_registration_field_values", second, {**base, "NextToken": "next"}
    )
    assert registrations.field_values(sms.client, REG_ID, 2, deadline()) == {
        "a.text": FieldValue("a.text", text="x"),
        "a.choices": FieldValue("a.choices", choices=("A", "B")),
        "a.file": FieldValue("a.file", attachment_id="ra-1"),
    }


class _DefinitionsService(BaseHTTPRequestHandler):
    """Answers DescribeRegistrationFieldDefinitions with the newest shape, over real HTTP."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(
            {"RegistrationType": TYPE, "RegistrationFieldDefinitions": DEFINITIONS}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _old_botocore_client(models: Path, endpoint: str) -> Any:
    """A client whose model predates ConditionalBehavior, as in older Lambda runtimes."""
    model = botocore.loaders.Loader().load_service_model("pinpoint-sms-voice-v2", "service-2")
    del model["shapes"]["RegistrationFieldDefinition"]["members"]["ConditionalBehavior"]
    folder = models / "pinpoint-sms-voice-v2" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(models))
    return session.create_client(
        "pinpoint-sms-voice-v2",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_raw_definitions_keep_what_an_old_botocore_drops(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DefinitionsService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = _old_botocore_client(tmp_path, f"http://127.0.0.1:{server.server_port}")
        parsed = client.describe_registration_field_definitions(RegistrationType=TYPE)
        assert "ConditionalBehavior" not in parsed["RegistrationFieldDefinitions"][-1]
        found = registrations.definitions(client, TYPE, deadline())
    finally:
        server.shutdown()
        server.server_close()
    assert found == DEFINITIONS


@pytest.mark.parametrize(
    ("declared", "current", "same"),
    [
        (FieldValue("p", text="10"), FieldValue("p", choices=("10",)), True),
        (FieldValue("p", text="10"), FieldValue("p", text="10"), True),
        (FieldValue("p", text="10"), FieldValue("p", text="100"), False),
        (FieldValue("p", choices=("A", "B")), FieldValue("p", choices=("B", "A")), True),
        (FieldValue("p", choices=("A",)), FieldValue("p", choices=("A", "B")), False),
        (FieldValue("p", choices=("A",)), FieldValue("p", text="A"), False),
        (FieldValue("p", attachment_id="ra-1"), FieldValue("p", attachment_id="ra-1"), True),
        (
            FieldValue("p", attachment_id="arn:aws:sms-voice:r:1:registration-attachment/ra-1"),
            FieldValue("p", attachment_id="ra-1"),
            True,
        ),
        (FieldValue("p", attachment_id="ra-1"), FieldValue("p", attachment_id="ra-2"), False),
        (FieldValue("p", text="x"), None, False),
    ],
)
def test_same_value(declared: FieldValue, current: FieldValue | None, same: bool) -> None:
    assert registrations.same_value(declared, current) is same


def test_diff_writes_changes_and_drops_only_what_was_declared_before() -> None:
    current = {
        "a.same": FieldValue("a.same", text="1"),
        "a.changed": FieldValue("a.changed", text="old"),
        "a.dropped": FieldValue("a.dropped", text="x"),
        "a.console": FieldValue("a.console", text="filled by hand"),
    }
    declared = [
        FieldValue("a.same", text="1"),
        FieldValue("a.changed", text="new"),
        FieldValue("a.added", choices=("A",)),
    ]
    changes = registrations.diff_values(
        declared, current, ["a.same", "a.changed", "a.dropped", "a.never.set"]
    )
    assert [value.path for value in changes.puts] == ["a.changed", "a.added"]
    assert changes.drops == ("a.dropped",)
    assert registrations.diff_values(declared[:1], current).empty


def test_required_fields_are_never_deleted() -> None:
    drops = ["companyInfo.companyName", "contactInfo.firstName", "unknown.path"]
    assert registrations.deletable(drops, DEFINITIONS) == ["contactInfo.firstName", "unknown.path"]


@pytest.mark.parametrize(
    ("value", "field_type", "expected"),
    [
        (FieldValue("p", text="10"), "SELECT", {"SelectChoices": ["10"]}),
        (FieldValue("p", choices=("A", "B")), "SELECT", {"SelectChoices": ["A", "B"]}),
        (FieldValue("p", text="x"), "TEXT", {"TextValue": "x"}),
        (FieldValue("p", attachment_id="ra-1"), "ATTACHMENT", {"RegistrationAttachmentId": "ra-1"}),
        (FieldValue("p", text="x"), None, {"TextValue": "x"}),
        (FieldValue("p", choices=("A",)), None, {"SelectChoices": ["A"]}),
    ],
)
def test_put_arguments(value: FieldValue, field_type: str | None, expected: dict) -> None:
    assert registrations.put_arguments(value, field_type) == expected


def test_missing_associations_match_ids_and_arns() -> None:
    held = [{"ResourceId": PHONE, "ResourceArn": PHONE_ARN}]
    assert registrations.missing_associations([PHONE, PHONE_ARN, "phone-other"], held) == [
        "phone-other"
    ]


# Create ----------------------------------------------------------------------------------


def test_create_writes_everything_and_submits(sms: Sms, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    request = event("Create", properties(), request_id="request-1")
    sms.definitions()
    sms.created(token=client_token(STACK_ID, LOGICAL_ID, "request-1"))
    sms.all_puts()
    sms.associations([])
    sms.associated()
    sms.submitted()
    sms.described("SUBMITTED")
    seen: list[str] = []
    physical_id, data = lifecycle.create(request, sms.client, deadline(), on_created=seen.append)
    assert physical_id == REG_ID
    assert seen == [REG_ID]
    assert data == {
        "RegistrationId": REG_ID,
        "RegistrationArn": ARN,
        "RegistrationStatus": "SUBMITTED",
        "VersionNumber": "1",
        "VersionStatus": "SUBMITTED",
    }
    assert SECRET not in caplog.text
    assert "contactInfo.firstName" in caplog.text


@pytest.mark.parametrize("stop_at", [1, 2], ids=["before-associating", "before-submitting"])
def test_create_stops_before_what_cannot_be_undone_when_no_longer_awaited(
    sms: Sms, stop_at: int
) -> None:
    """A number associated or a version under review makes the draft undeletable: ask first."""
    sms.definitions()
    sms.created()
    sms.all_puts()
    if stop_at == 2:
        sms.associations([])
        sms.associated()
    sms.registration_deleted()
    asked: list[str] = []

    def checkpoint(registration_id: str) -> None:
        asked.append(registration_id)
        if len(asked) == stop_at:
            raise lifecycle.NotAwaited("CloudFormation no longer waits (resource CREATE_FAILED)")

    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.create(
            event("Create", properties()), sms.client, deadline(), checkpoint=checkpoint
        )
    assert asked == [REG_ID] * stop_at
    assert str(raised.value).startswith("CloudFormation no longer waits")
    assert str(raised.value).endswith(f"registration {REG_ID} deleted")
    assert "SubmitRegistrationVersion" not in sms.calls
    assert ("CreateRegistrationAssociation" in sms.calls) == (stop_at == 2)


def test_create_without_submit_leaves_a_draft(sms: Sms) -> None:
    request = event("Create", properties(Submit=None, Associations=None, Fields=FIELDS[:1]))
    sms.definitions()
    sms.created()
    sms.put("companyInfo.companyName", TextValue="Example Corp")
    _, data = lifecycle.create(request, sms.client, deadline())
    assert (data["RegistrationStatus"], data["VersionStatus"]) == ("CREATED", "DRAFT")
    assert "SubmitRegistrationVersion" not in sms.calls


def test_create_with_a_bad_declaration_makes_nothing(sms: Sms) -> None:
    bad = [
        {"Path": "companyInfo.companyNam", "Text": SECRET},
        {"Path": "messagingUseCase.monthlyMessageVolume", "Text": "a lot"},
        {"Path": "companyInfo.stockSymbol", "Text": "EXMP"},
    ]
    sms.definitions()
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.create(event("Create", properties(Fields=bad)), sms.client, deadline())
    reason = str(raised.value)
    assert reason == (
        "4 fields break the rules of US_TOLL_FREE_REGISTRATION: companyInfo.companyNam, "
        "messagingUseCase.monthlyMessageVolume, companyInfo.stockSymbol, "
        "companyInfo.companyName; nothing created"
    )
    assert sms.calls == ["DescribeRegistrationFieldDefinitions"]


def test_create_with_an_unknown_type_makes_nothing(sms: Sms) -> None:
    sms.error(
        "describe_registration_field_definitions",
        "ValidationException",
        "UNKNOWN_REGISTRATION_TYPE",
    )
    with pytest.raises(lifecycle.RegistrationFailed, match="RegistrationType US_TOLL_FREE_REG"):
        lifecycle.create(event("Create", properties()), sms.client, deadline())
    assert writes(sms) == []


def test_a_refused_value_deletes_the_draft_and_says_so(
    sms: Sms, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sms.definitions()
    sms.created()
    sms.put("companyInfo.companyName", TextValue="Example Corp")
    sms.put_refused("contactInfo.firstName")
    sms.registration_deleted()
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.create(event("Create", properties()), sms.client, deadline())
    reason = str(raised.value)
    assert reason == (
        "the service refused field contactInfo.firstName (ValidationException "
        "FIELD_VALIDATION_FAILED on contactInfo.firstName); 1 of 4 field writes made; "
        f"registration {REG_ID} deleted"
    )
    assert SECRET not in caplog.text


def test_running_out_of_time_stops_writing_and_deletes_the_draft(sms: Sms) -> None:
    now = [0.0]
    # Each call takes 40 s of a 150 s budget; 30 s stay reserved for the cleanup.
    sms.client.meta.events.register(
        "before-parameter-build.pinpoint-sms-voice-v2",
        lambda **_: now.__setitem__(0, now[0] + 40.0),
    )
    sms.definitions()
    sms.created()
    sms.put("companyInfo.companyName", TextValue="Example Corp")
    sms.registration_deleted()
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.create(
            event("Create", properties()), sms.client, Deadline(150.0, clock=lambda: now[0])
        )
    assert (
        str(raised.value) == f"out of time: 1 of 4 field writes made; registration {REG_ID} deleted"
    )


def test_a_duplicate_delivery_after_submit_writes_nothing(sms: Sms) -> None:
    sms.definitions()
    sms.stub.add_response(
        "create_registration",
        sms.registration("SUBMITTED"),
        {"RegistrationType": TYPE, "Tags": ANY, "ClientToken": ANY},
    )
    sms.version("SUBMITTED")
    physical_id, data = lifecycle.create(event("Create", properties()), sms.client, deadline())
    assert (physical_id, data["VersionStatus"]) == (REG_ID, "SUBMITTED")
    assert writes(sms) == ["CreateRegistration"]


def test_a_failed_cleanup_is_left_for_the_rollback(sms: Sms) -> None:
    sms.definitions()
    sms.created()
    sms.put_refused("companyInfo.companyName")
    sms.error("delete_registration", "AccessDeniedException", status=403)
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.create(event("Create", properties()), sms.client, deadline())
    assert str(raised.value).endswith(
        f"registration {REG_ID} not deleted yet; the rollback Delete retries it"
    )


# Update ----------------------------------------------------------------------------------


def current_values(fields: list[dict[str, Any]] = FIELDS) -> list[dict[str, Any]]:
    keys = {
        "Text": "TextValue",
        "Choices": "SelectChoices",
        "AttachmentId": "RegistrationAttachmentId",
    }
    entries = []
    for field in fields:
        kind = next(key for key in keys if key in field)
        entries.append({"FieldPath": field["Path"], keys[kind]: field[kind]})
    return entries


def updated(new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    return event("Update", new, old_properties=old or properties(), physical_id=REG_ID)


def reads(
    sms: Sms,
    registration: str,
    version: str,
    values: list[dict[str, Any]],
    number: int = 1,
    approved: int | None = None,
) -> None:
    """What every Update reads first: the registration, its current version and values."""
    sms.described(registration, number, approved=approved)
    sms.version(version, number)
    sms.values(values, number)


def owned(sms: Sms) -> None:
    sms.tags({"team": "messaging", OWNER_TAG_KEY: OWNER})


def test_an_update_the_version_already_holds_writes_nothing(sms: Sms) -> None:
    reads(sms, "REVIEWING", "REVIEWING", current_values())
    owned(sms)
    sms.associations([PHONE])
    physical_id, data = lifecycle.update(updated(properties()), sms.client, deadline())
    assert physical_id == REG_ID
    assert data["VersionStatus"] == "REVIEWING"
    assert sms.calls == [
        "DescribeRegistrations",
        "DescribeRegistrationVersions",
        "DescribeRegistrationFieldValues",
        "ListTagsForResource",
        "ListRegistrationAssociations",
    ]


def test_tags_change_in_place(sms: Sms) -> None:
    reads(sms, "COMPLETE", "APPROVED", current_values())
    sms.tags({"team": "old", "gone": "x", OWNER_TAG_KEY: OWNER})
    sms.stub.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["gone"]})
    sms.stub.add_response(
        "tag_resource", {}, {"ResourceArn": ARN, "Tags": [{"Key": "team", "Value": "messaging"}]}
    )
    sms.associations([PHONE])
    lifecycle.update(updated(properties()), sms.client, deadline())
    assert writes(sms) == ["UntagResource", "TagResource"]


def test_draft_update_writes_only_the_change_and_drops(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation"), FIELDS[2], FIELDS[3]]
    reads(sms, "CREATED", "DRAFT", current_values())
    sms.definitions()
    owned(sms)
    sms.put("companyInfo.companyName", TextValue="Example Corporation")
    sms.deleted_value("contactInfo.firstName")
    sms.associations([PHONE])
    _, data = lifecycle.update(
        updated(properties(Fields=new_fields, Submit="false")), sms.client, deadline()
    )
    assert writes(sms) == ["PutRegistrationFieldValue", "DeleteRegistrationFieldValue"]
    assert data["VersionStatus"] == "DRAFT"


def test_fields_filled_in_the_console_are_left_alone(sms: Sms) -> None:
    never_declared = [FIELDS[0], FIELDS[2], FIELDS[3]]  # firstName is filled in the console
    reads(sms, "CREATED", "DRAFT", current_values())
    sms.definitions()
    owned(sms)
    sms.put("companyInfo.companyName", TextValue="Example Corporation")
    sms.associations([PHONE])
    new = properties(Fields=[dict(FIELDS[0], Text="Example Corporation"), *never_declared[1:]])
    old = properties(Fields=never_declared, Submit="false")
    lifecycle.update(updated({**new, "Submit": "false"}, old), sms.client, deadline())
    assert writes(sms) == ["PutRegistrationFieldValue"]


def test_console_values_that_break_a_rule_are_reported(sms: Sms) -> None:
    console = {"FieldPath": "companyInfo.stockSymbol", "TextValue": "EXMP"}
    reads(sms, "CREATED", "DRAFT", [*current_values(FIELDS[:3]), console])
    sms.definitions()
    old = properties(Fields=FIELDS[:3], Submit="false")
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.update(updated(properties(Submit="false"), old), sms.client, deadline())
    assert str(raised.value).startswith(
        "1 field breaks the rules of US_TOLL_FREE_REGISTRATION: companyInfo.stockSymbol "
        "(is not allowed given companyInfo.businessType"
    )
    assert str(raised.value).endswith("; nothing written")
    assert writes(sms) == []


def test_draft_equal_but_submit_asked_submits(sms: Sms) -> None:
    reads(sms, "CREATED", "DRAFT", current_values())
    sms.definitions()
    owned(sms)
    sms.associations([PHONE])
    sms.submitted()
    sms.described("SUBMITTED")
    _, data = lifecycle.update(updated(properties()), sms.client, deadline())
    assert writes(sms) == ["SubmitRegistrationVersion"]
    assert (data["RegistrationStatus"], data["VersionStatus"]) == ("SUBMITTED", "SUBMITTED")


def test_a_rollback_never_submits_a_draft_it_holds(sms: Sms) -> None:
    reads(sms, "CREATED", "DRAFT", current_values())
    owned(sms)
    _, data = lifecycle.update(updated(properties()), sms.client, deadline(), rolling_back=True)
    assert writes(sms) == []
    assert data["VersionStatus"] == "DRAFT"


def test_denied_update_makes_a_new_version_with_the_full_set(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation"), *FIELDS[1:]]
    reads(sms, "REQUIRES_UPDATES", "DENIED", current_values())
    sms.definitions()
    owned(sms)
    sms.new_version(2)
    sms.put("companyInfo.companyName", TextValue="Example Corporation")
    sms.put("contactInfo.firstName", TextValue=SECRET)
    sms.put("messagingUseCase.monthlyMessageVolume", SelectChoices=["10,000"])
    sms.put("messagingUseCase.optInImage", RegistrationAttachmentId="ra-0123")
    sms.associations([PHONE])
    sms.submitted(2)
    sms.described("SUBMITTED", 2)
    _, data = lifecycle.update(updated(properties(Fields=new_fields)), sms.client, deadline())
    assert writes(sms) == [
        "CreateRegistrationVersion",
        *["PutRegistrationFieldValue"] * 4,
        "SubmitRegistrationVersion",
    ]
    assert (data["VersionNumber"], data["VersionStatus"]) == ("2", "SUBMITTED")


def test_a_rollback_never_creates_a_version(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation"), *FIELDS[1:]]
    reads(sms, "REQUIRES_UPDATES", "DENIED", current_values())
    owned(sms)
    lifecycle.update(
        updated(properties(Fields=new_fields)), sms.client, deadline(), rolling_back=True
    )
    assert writes(sms) == []


def test_submitted_update_discards_then_makes_a_new_version(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation")]
    reads(sms, "SUBMITTED", "SUBMITTED", current_values())
    sms.definitions()
    owned(sms)
    sms.discarded(1)
    sms.new_version(2)
    sms.put("companyInfo.companyName", TextValue="Example Corporation")
    sms.associations([PHONE])
    sms.described("CREATED", 2)
    _, data = lifecycle.update(
        updated(properties(Fields=new_fields, Submit="false")), sms.client, deadline()
    )
    assert writes(sms) == [
        "DiscardRegistrationVersion",
        "CreateRegistrationVersion",
        "PutRegistrationFieldValue",
    ]
    assert (data["VersionNumber"], data["VersionStatus"]) == ("2", "DRAFT")


def test_what_the_approved_version_holds_is_restored_by_a_discard(sms: Sms) -> None:
    # Version 2 (SUBMITTED) holds a change; version 1 (APPROVED) holds the declaration.
    changed = current_values([dict(FIELDS[0], Text="Example Corporation"), *FIELDS[1:]])
    reads(sms, "SUBMITTED", "SUBMITTED", changed, number=2, approved=1)
    sms.version("APPROVED", 1)
    sms.values(current_values(), 1)
    owned(sms)
    sms.discarded(2)
    sms.associations([PHONE])
    sms.described("COMPLETE", 2, approved=1)
    _, data = lifecycle.update(updated(properties()), sms.client, deadline(), rolling_back=True)
    assert writes(sms) == ["DiscardRegistrationVersion"]
    assert data["RegistrationStatus"] == "COMPLETE"


def test_what_the_approved_version_holds_needs_no_new_version(sms: Sms) -> None:
    # Version 2 is a DRAFT with other values; version 1 (APPROVED) holds the declaration.
    changed = current_values([dict(FIELDS[0], Text="Example Corporation"), *FIELDS[1:]])
    reads(sms, "COMPLETE", "DRAFT", changed, number=2, approved=1)
    sms.version("APPROVED", 1)
    sms.values(current_values(), 1)
    owned(sms)
    sms.associations([PHONE])
    lifecycle.update(updated(properties()), sms.client, deadline())
    assert writes(sms) == []


def test_a_change_under_review_fails_before_any_write(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation"), *FIELDS[1:]]
    reads(sms, "REVIEWING", "REVIEWING", current_values())
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.update(updated(properties(Fields=new_fields)), sms.client, deadline())
    assert str(raised.value) == (
        f"registration {REG_ID} version 1 is REVIEWING: the service accepts no change until "
        "the review ends; nothing written"
    )
    assert writes(sms) == []


def test_a_change_under_review_is_left_by_a_rollback(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation"), *FIELDS[1:]]
    reads(sms, "REVIEWING", "REVIEWING", current_values())
    owned(sms)
    _, data = lifecycle.update(
        updated(properties(Fields=new_fields)), sms.client, deadline(), rolling_back=True
    )
    assert writes(sms) == []
    assert data["VersionStatus"] == "REVIEWING"


def test_a_new_registration_type_replaces_the_registration(sms: Sms) -> None:
    sms.described(registration_type="US_TEN_DLC_BRAND_REGISTRATION")
    sms.definitions()
    sms.created(registration_id=NEW_ID)
    sms.all_puts(NEW_ID)
    sms.associations([], NEW_ID)
    sms.associated(NEW_ID)
    sms.submitted(registration_id=NEW_ID)
    sms.described("SUBMITTED", registration_id=NEW_ID)
    checked: list[str] = []
    old = properties(RegistrationType="US_TEN_DLC_BRAND_REGISTRATION")
    physical_id, data = lifecycle.update(
        updated(properties(), old), sms.client, deadline(), checkpoint=checked.append
    )
    assert physical_id == NEW_ID
    assert data["RegistrationId"] == NEW_ID
    # The replacement asks CloudFormation before it makes anything (with the ID CloudFormation
    # holds), then where a Create does: before associating, before submitting.
    assert checked == [REG_ID, NEW_ID, NEW_ID]


def test_the_service_type_decides_not_the_old_properties(sms: Sms) -> None:
    # A rollback of a failed type change: old properties say 10DLC, the service holds the
    # declared toll-free type, so the registration is kept and nothing is written.
    reads(sms, "COMPLETE", "APPROVED", current_values())
    owned(sms)
    sms.associations([PHONE])
    old = properties(RegistrationType="US_TEN_DLC_BRAND_REGISTRATION")
    physical_id, _ = lifecycle.update(
        updated(properties(), old), sms.client, deadline(), rolling_back=True
    )
    assert physical_id == REG_ID
    assert writes(sms) == []


def test_a_rollback_never_replaces(sms: Sms) -> None:
    sms.described(registration_type="US_TEN_DLC_BRAND_REGISTRATION")
    physical_id, _ = lifecycle.update(
        updated(properties()), sms.client, deadline(), rolling_back=True
    )
    assert physical_id == REG_ID
    assert writes(sms) == []


def test_a_registration_gone_from_the_service_is_replaced(sms: Sms) -> None:
    sms.stub.add_response(
        "describe_registrations", {"Registrations": []}, {"RegistrationIds": [REG_ID]}
    )
    sms.definitions()
    sms.created(registration_id=NEW_ID)
    sms.put("companyInfo.companyName", registration_id=NEW_ID, TextValue="Example Corp")
    new = properties(Fields=FIELDS[:1], Submit=None, Associations=None)
    physical_id, _ = lifecycle.update(updated(new), sms.client, deadline())
    assert physical_id == NEW_ID


def test_a_failed_update_says_what_was_written(sms: Sms) -> None:
    new_fields = [dict(FIELDS[0], Text="Example Corporation"), dict(FIELDS[1], Text="Janet")]
    reads(sms, "CREATED", "DRAFT", current_values())
    sms.definitions()
    owned(sms)
    sms.put("companyInfo.companyName", TextValue="Example Corporation")
    sms.put_refused("contactInfo.firstName")
    old = properties(Submit="false")
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.update(
            updated(properties(Fields=[*new_fields, *FIELDS[2:]], Submit="false"), old),
            sms.client,
            deadline(),
        )
    reason = str(raised.value)
    assert "1 of 2 field writes made" in reason
    assert reason.endswith("the rollback writes the previous declaration back")
    assert "Janet" not in reason


def test_a_number_held_by_another_registration_fails_naming_it(sms: Sms) -> None:
    reads(sms, "CREATED", "DRAFT", current_values())
    owned(sms)
    sms.associations([])
    sms.error("create_registration_association", "ConflictException", "RESOURCE_ALREADY_ASSOCIATED")
    sms.associations([])
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.update(updated(properties(Submit="false")), sms.client, deadline())
    assert str(raised.value).startswith(
        f"registration {REG_ID}: {PHONE} is associated with another registration"
    )


# Delete ----------------------------------------------------------------------------------


def deleting(physical_id: str = REG_ID) -> dict[str, Any]:
    return event("Delete", properties(), physical_id=physical_id)


def test_delete(sms: Sms) -> None:
    sms.described()
    owned(sms)
    sms.registration_deleted()
    assert lifecycle.delete(deleting(), sms.client, deadline()) == "deleted"


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "ValidationException"])
def test_delete_of_what_is_not_there_calls_no_delete(sms: Sms, code: str) -> None:
    sms.stub.add_client_error(
        "describe_registrations", service_error_code=code, http_status_code=400
    )
    assert lifecycle.delete(deleting(), sms.client, deadline()) == "already gone; nothing to delete"
    assert writes(sms) == []


def test_delete_of_another_resources_registration_leaves_it(sms: Sms) -> None:
    sms.described()
    sms.tags({OWNER_TAG_KEY: "someone-else"})
    assert lifecycle.delete(deleting(), sms.client, deadline()) == (
        "not made by this resource; left alone"
    )
    assert writes(sms) == []


@pytest.mark.parametrize("denied", ["describe_registrations", "list_tags_for_resource"])
def test_delete_never_proceeds_when_the_owner_cannot_be_read(sms: Sms, denied: str) -> None:
    if denied == "list_tags_for_resource":
        sms.described()
    sms.stub.add_client_error(
        denied, service_error_code="AccessDeniedException", http_status_code=403
    )
    with pytest.raises(lifecycle.Refused) as raised:
        lifecycle.delete(deleting(), sms.client, deadline())
    assert str(raised.value).startswith(f"registration {REG_ID}: its owner cannot be read: ")
    assert str(raised.value).endswith("AccessDeniedException); not deleted")
    assert writes(sms) == []


def test_delete_of_an_invented_id_calls_nothing(sms: Sms) -> None:
    request = event("Delete", properties(), physical_id="SmsStack_Registration_AB12 CD34")
    assert (
        lifecycle.delete(request, sms.client, deadline())
        == "not a registration ID; nothing to delete"
    )
    assert sms.calls == []


def test_delete_refused_says_the_status_and_what_to_do(sms: Sms) -> None:
    sms.described("REVIEWING")
    owned(sms)
    sms.error("delete_registration", "ConflictException", "RESOURCE_DELETION_NOT_ALLOWED")
    with pytest.raises(lifecycle.Refused) as raised:
        lifecycle.delete(deleting(), sms.client, deadline())
    assert str(raised.value).startswith(
        f"registration {REG_ID} is REVIEWING: the service refuses to delete it "
        "(RESOURCE_DELETION_NOT_ALLOWED); wait for a review to end"
    )


def test_unexpected_errors_carry_no_service_message(sms: Sms) -> None:
    sms.stub.add_client_error(
        "describe_registrations",
        service_error_code="AccessDeniedException",
        service_message=f"not allowed for {SECRET}",
        http_status_code=403,
    )
    with pytest.raises(lifecycle.RegistrationFailed) as raised:
        lifecycle.update(updated(properties()), sms.client, deadline())
    assert str(raised.value) == "DescribeRegistrations failed (AccessDeniedException)"
