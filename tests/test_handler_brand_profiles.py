"""The handler on ``Custom::SmsBrandProfile`` requests (Stubber-checked requests and answers).

Each test lists the calls the request must make, in order, with their parameters: a missing or
extra call fails it. Attribute values never reach a reason or the response Data.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from cdk_sms_registration_handler.brand_profile_contract import OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import owner_mark

from .handler_events import LOGICAL_ID, STACK_ID, event
from .test_handler import Service
from .test_handler import service as _stubbed_service  # noqa: F401 (a fixture)

PROFILE_ID = "bp-0123456789abcdef0123456789abcdef"
ARN = f"arn:aws:end-user-messaging:eu-west-1:123456789012:brand-profile/{PROFILE_ID}"
SECRET = "Jane Q. Private Holdings"
WHEN = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
OWNER = owner_mark(STACK_ID, LOGICAL_ID)
PROPERTIES = {
    "BrandProfileName": "example-corp",
    "Attributes": [
        {"Name": "legalName", "Text": SECRET},
        {"Name": "website", "Text": "https://example.com"},
    ],
}


class Profiles:
    """test_handler's stubbed clients plus a stubbed endusermessaging client."""

    def __init__(self, stubbed: Service) -> None:
        self.stubbed = stubbed
        self.eum = Stubber(stubbed.index._client("endusermessaging"))

    def profile(self, *, protected: bool = False) -> dict[str, Any]:
        return {
            "brandProfileId": PROFILE_ID,
            "brandProfileArn": ARN,
            "brandProfileName": "example-corp",
            "status": "ACTIVE",
            "deletionProtectionEnabled": protected,
            "createdAt": WHEN,
            "updatedAt": WHEN,
        }

    def got(self, *, protected: bool = False) -> None:
        self.eum.add_response(
            "get_brand_profile", self.profile(protected=protected), {"brandProfileId": PROFILE_ID}
        )

    def tags(self, owner: str = OWNER) -> None:
        self.eum.add_response(
            "list_tags_for_resource",
            {"tags": [{"key": OWNER_TAG_KEY, "value": owner}]},
            {"resourceArn": ARN},
        )

    def listed(self, *names: str) -> None:
        self.eum.add_response(
            "list_brand_profile_attributes",
            {
                "brandProfileAttributes": [
                    {
                        "attributeName": name,
                        "attributeType": "TEXT",
                        "createdAt": WHEN,
                        "updatedAt": WHEN,
                    }
                    for name in names
                ]
            },
            {"brandProfileId": PROFILE_ID, "maxResults": 100},
        )

    def value(self, name: str, text: str) -> None:
        self.eum.add_response(
            "get_brand_profile_attribute",
            {
                "attributeName": name,
                "attributeType": "TEXT",
                "attributeValue": text,
                "createdAt": WHEN,
                "updatedAt": WHEN,
            },
            {"brandProfileId": PROFILE_ID, "attributeName": name},
        )

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.eum:
            response = self.stubbed.run(request)
            self.eum.assert_no_pending_responses()
        return response


@pytest.fixture
def profiles(request: pytest.FixtureRequest) -> Iterator[Profiles]:
    yield Profiles(request.getfixturevalue("_stubbed_service"))


def _event(request_type: str, properties: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    request = event(request_type, dict(properties or PROPERTIES), **kwargs)
    request["ResourceType"] = "Custom::SmsBrandProfile"
    return request


def test_create_makes_the_profile_and_its_attributes(profiles: Profiles) -> None:
    profiles.eum.add_response(
        "create_brand_profile",
        {**profiles.profile(), "attributesCreated": 0},
        {
            "brandProfileName": "example-corp",
            "deletionProtectionEnabled": False,
            "tags": [{"key": OWNER_TAG_KEY, "value": OWNER}],
            "clientToken": ANY,
        },
    )
    profiles.listed()
    profiles.tags()
    profiles.eum.add_response(
        "create_brand_profile_attributes",
        {
            "attributes": [
                {"attributeName": "legalName", "attributeType": "TEXT"},
                {"attributeName": "website", "attributeType": "TEXT"},
            ]
        },
        {
            "brandProfileId": PROFILE_ID,
            "attributes": [
                {"attributeName": "legalName", "attributeType": "TEXT", "attributeValue": SECRET},
                {
                    "attributeName": "website",
                    "attributeType": "TEXT",
                    "attributeValue": "https://example.com",
                },
            ],
            "clientToken": ANY,
        },
    )
    profiles.stubbed.awaited()
    profiles.stubbed.taken(PROFILE_ID)
    response = profiles.run(_event("Create"))
    assert response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == PROFILE_ID
    assert response["Data"] == {"BrandProfileId": PROFILE_ID, "BrandProfileArn": ARN}


def test_create_that_fails_deletes_the_profile_and_names_no_value(profiles: Profiles) -> None:
    profiles.eum.add_response(
        "create_brand_profile", {**profiles.profile(), "attributesCreated": 0}, None
    )
    profiles.listed()
    profiles.tags()
    profiles.stubbed.error(profiles.eum, "create_brand_profile_attributes", "ValidationException")
    profiles.got()
    profiles.eum.add_response(
        "delete_brand_profile",
        {"brandProfileId": PROFILE_ID, "brandProfileArn": ARN},
        {"brandProfileId": PROFILE_ID},
    )
    response = profiles.run(_event("Create"))
    assert response["Status"] == "FAILED"
    assert "CreateBrandProfileAttributes failed (ValidationException)" in response["Reason"]
    assert f"brand profile {PROFILE_ID} deleted" in response["Reason"]
    assert SECRET not in str(response)


def test_update_writes_only_the_changed_value(profiles: Profiles) -> None:
    profiles.stubbed.stack_is("UPDATE_IN_PROGRESS")
    profiles.got()
    profiles.tags()
    profiles.listed("legalName", "website")
    profiles.value("legalName", SECRET)
    profiles.value("website", "https://old.example.com")
    profiles.tags()
    profiles.eum.add_response(
        "update_brand_profile_attribute",
        {
            "attributeName": "website",
            "attributeType": "TEXT",
            "createdAt": WHEN,
            "updatedAt": WHEN,
        },
        {
            "brandProfileId": PROFILE_ID,
            "attributeName": "website",
            "attributeValue": "https://example.com",
            "description": "",
        },
    )
    response = profiles.run(_event("Update", physical_id=PROFILE_ID, old_properties=PROPERTIES))
    assert response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == PROFILE_ID


def test_an_update_the_profile_already_holds_writes_nothing(
    profiles: Profiles, caplog: pytest.LogCaptureFixture
) -> None:
    profiles.stubbed.stack_is("UPDATE_ROLLBACK_IN_PROGRESS")
    profiles.got()
    profiles.tags()
    profiles.listed("legalName", "website")
    profiles.value("legalName", SECRET)
    profiles.value("website", "https://example.com")
    profiles.tags()
    caplog.set_level("INFO")
    response = profiles.run(_event("Update", physical_id=PROFILE_ID, old_properties=PROPERTIES))
    assert response["Status"] == "SUCCESS", response
    # A rollback answers SUCCESS whatever fails: the log says whether it wrote nothing.
    assert "holds the declaration: nothing written" in caplog.text
    assert "kept as it is" not in caplog.text


def test_update_of_a_profile_another_resource_made_changes_nothing(profiles: Profiles) -> None:
    profiles.stubbed.stack_is("UPDATE_IN_PROGRESS")
    profiles.got()
    profiles.tags(owner="0" * 32)
    response = profiles.run(_event("Update", physical_id=PROFILE_ID, old_properties=PROPERTIES))
    assert response["Status"] == "FAILED"
    assert "was not made by this resource" in response["Reason"]


def test_delete_under_deletion_protection_fails_with_the_fix(profiles: Profiles) -> None:
    profiles.got(protected=True)
    profiles.tags()
    profiles.stubbed.stack_is("DELETE_IN_PROGRESS")
    response = profiles.run(_event("Delete", physical_id=PROFILE_ID))
    assert response["Status"] == "FAILED"
    assert "deletion protection on" in response["Reason"]
    assert "deletion_protection=False" in response["Reason"]


def test_delete_under_deletion_protection_in_a_rollback_leaves_it(profiles: Profiles) -> None:
    profiles.got(protected=True)
    profiles.tags()
    profiles.stubbed.stack_is("ROLLBACK_IN_PROGRESS")
    response = profiles.run(_event("Delete", physical_id=PROFILE_ID))
    assert response["Status"] == "SUCCESS"


def test_delete_removes_only_this_resources_profile(profiles: Profiles) -> None:
    profiles.got()
    profiles.tags(owner="0" * 32)
    response = profiles.run(_event("Delete", physical_id=PROFILE_ID))
    assert response["Status"] == "SUCCESS"  # left alone: DeleteBrandProfile not stubbed


def test_delete_of_a_gone_profile_succeeds(profiles: Profiles) -> None:
    profiles.stubbed.error(profiles.eum, "get_brand_profile", "ResourceNotFoundException", 404)
    response = profiles.run(_event("Delete", physical_id=PROFILE_ID))
    assert response["Status"] == "SUCCESS"
