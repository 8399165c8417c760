"""The handler's dispatch of ``Custom::SmsRegistration`` requests (Stubber-checked requests).

The registration lifecycle itself is tested in test_registrations.py and end to end; here: the
answers name the resource, placeholders are nothing to delete, only this resource's
registration is deleted, and a FAILED reason never shows a value.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from cdk_sms_registration_handler.registration_contract import OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import owner_mark

from .handler_events import LOGICAL_ID, STACK_ID, event
from .test_handler import CLOUDFORMATION_PLACEHOLDER, Service
from .test_handler import service as _stubbed_service  # noqa: F401 (a fixture)

REG_ID = "registration-0123456789abcdef0123456789abcdef"
ARN = f"arn:aws:sms-voice:eu-west-1:123456789012:registration/{REG_ID}"
SECRET = "Jane Q. Private"
PROPERTIES = {
    "RegistrationType": "US_TOLL_FREE_REGISTRATION",
    "Fields": [{"Path": "contactInfo.lastName", "Text": SECRET}],
}


@pytest.fixture
def stubbed(request: pytest.FixtureRequest) -> Service:
    """test_handler's stubbed clients and recorded responses."""
    fixture: Service = request.getfixturevalue("_stubbed_service")
    return fixture


def _registration_event(request_type: str, **kwargs: Any) -> dict[str, Any]:
    request = event(request_type, dict(PROPERTIES), **kwargs)
    request["ResourceType"] = "Custom::SmsRegistration"
    return request


def _described(stubbed: Service, tags: dict[str, str]) -> None:
    _described_only(stubbed)
    stubbed.tags_are(tags, arn=ARN)


def _described_only(stubbed: Service) -> None:
    """DescribeRegistrations answers this resource's CREATED registration."""
    stubbed.sms.add_response(
        "describe_registrations",
        {
            "Registrations": [
                {
                    "RegistrationArn": ARN,
                    "RegistrationId": REG_ID,
                    "RegistrationType": "US_TOLL_FREE_REGISTRATION",
                    "RegistrationStatus": "CREATED",
                    "CurrentVersionNumber": 1,
                    "CreatedTimestamp": datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC),
                }
            ]
        },
        {"RegistrationIds": [REG_ID]},
    )


@pytest.mark.parametrize(
    "placeholder", [f"SmsStack_{LOGICAL_ID}_A1B2C3D4", CLOUDFORMATION_PLACEHOLDER]
)
def test_delete_of_a_placeholder_calls_nothing(stubbed: Service, placeholder: str) -> None:
    response = stubbed.run(_registration_event("Delete", physical_id=placeholder))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == placeholder


def test_delete_removes_this_resources_registration(stubbed: Service) -> None:
    _described(stubbed, {OWNER_TAG_KEY: owner_mark(STACK_ID, LOGICAL_ID)})
    stubbed.sms.add_response(
        "delete_registration",
        {
            "RegistrationArn": ARN,
            "RegistrationId": REG_ID,
            "RegistrationType": "US_TOLL_FREE_REGISTRATION",
            "RegistrationStatus": "DELETED",
            "CurrentVersionNumber": 1,
            "CreatedTimestamp": datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC),
        },
        {"RegistrationId": REG_ID},
    )
    response = stubbed.run(_registration_event("Delete", physical_id=REG_ID))
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", REG_ID)


@pytest.mark.parametrize(
    "tags",
    [{}, {OWNER_TAG_KEY: owner_mark(STACK_ID, "SomeoneElse")}],
    ids=["untagged", "made-for-another-resource"],
)
def test_delete_leaves_what_this_resource_did_not_make(
    stubbed: Service, tags: dict[str, str]
) -> None:
    _described(stubbed, tags)  # and no DeleteRegistration: the Stubber would refuse it
    response = stubbed.run(_registration_event("Delete", physical_id=REG_ID))
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", REG_ID)


def test_a_failed_create_names_a_placeholder_and_shows_no_value(
    stubbed: Service, caplog: pytest.LogCaptureFixture
) -> None:
    stubbed.error(stubbed.sms, "describe_registration_field_definitions", "AccessDeniedException")
    response = stubbed.run(_registration_event("Create"))
    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"].startswith(f"SmsStack_{LOGICAL_ID}_")
    assert "could not read its field definitions" in response["Reason"]
    assert SECRET not in str(response) and SECRET not in caplog.text


def test_delete_of_a_registration_already_gone_calls_no_delete(stubbed: Service) -> None:
    # Gone: DeleteRegistration would only meet IAM's owner-tag condition on a resource
    # without tags, an AccessDenied that would wedge a rollback.
    stubbed.sms.add_client_error(
        "describe_registrations",
        service_error_code="ResourceNotFoundException",
        service_message="gone",
        http_status_code=404,
    )
    response = stubbed.run(_registration_event("Delete", physical_id=REG_ID))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == REG_ID


def _delete_refused_by_the_service(stubbed: Service, stack_status: str) -> dict[str, Any]:
    """A Delete of this resource's registration that the service refuses (under review)."""
    _described(stubbed, {OWNER_TAG_KEY: owner_mark(STACK_ID, LOGICAL_ID)})
    stubbed.sms.add_client_error(
        "delete_registration",
        service_error_code="ConflictException",
        service_message="under review",
        http_status_code=400,
    )
    # The status the refusal names is the one read for the owner check: no second read.
    stubbed.stack_is(stack_status)
    return stubbed.run(_registration_event("Delete", physical_id=REG_ID))


def test_rollback_delete_refused_by_the_service_leaves_it_and_succeeds(stubbed: Service) -> None:
    response = _delete_refused_by_the_service(stubbed, "ROLLBACK_IN_PROGRESS")
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == REG_ID


def test_delete_refused_outside_a_rollback_fails_and_says_why(stubbed: Service) -> None:
    response = _delete_refused_by_the_service(stubbed, "DELETE_IN_PROGRESS")
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith(f"registration {REG_ID} is CREATED")
