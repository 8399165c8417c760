"""The endusermessaging fake, driven by a real boto3 client over HTTP.

Every request botocore sends is routed by the model's requestUri and validated against the model,
as is every response: a fake that drifted from botocore's model would show up in ``violations``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .fake_brand_profiles import FakeBrandProfiles

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture
def fake() -> Iterator[FakeBrandProfiles]:
    with FakeBrandProfiles() as service:
        yield service
        assert service.take_violations() == []


def _code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_a_profile_its_attributes_and_tags_round_trip(fake: FakeBrandProfiles) -> None:
    eum: Any = fake.client()
    made = eum.create_brand_profile(
        brandProfileName="Example Corp", tags=[{"key": "team", "value": "sms"}], clientToken="t1"
    )
    again = eum.create_brand_profile(brandProfileName="Example Corp", clientToken="t1")
    assert again["brandProfileId"] == made["brandProfileId"]
    profile_id = made["brandProfileId"]
    assert made["brandProfileArn"].endswith(f":brand-profile/{profile_id}")

    created = eum.create_brand_profile_attributes(
        brandProfileId=profile_id,
        attributes=[
            {"attributeName": "legalName", "attributeType": "TEXT", "attributeValue": "Ex Corp"},
            {"attributeName": "logo", "attributeType": "IMAGE", "attachmentBody": PNG},
        ],
    )
    logo = next(a for a in created["attributes"] if a["attributeName"] == "logo")
    with urllib.request.urlopen(logo["mediaDownloadUrl"]) as response:
        assert response.read() == PNG

    listed = eum.list_brand_profile_attributes(brandProfileId=profile_id, maxResults=1)
    assert len(listed["brandProfileAttributes"]) == 1 and "nextToken" in listed
    text = eum.get_brand_profile_attribute(brandProfileId=profile_id, attributeName="legalName")
    assert text["attributeValue"] == "Ex Corp"
    eum.update_brand_profile_attribute(
        brandProfileId=profile_id, attributeName="legalName", attributeValue="Example Corp"
    )
    eum.delete_brand_profile_attribute(brandProfileId=profile_id, attributeName="logo")
    assert set(fake.profile(profile_id)["Attributes"]) == {"legalName"}  # type: ignore[index]

    arn = made["brandProfileArn"]
    eum.tag_resource(resourceArn=arn, tags=[{"key": "cost", "value": "1"}])
    eum.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert eum.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "cost", "value": "1"}]
    assert [w[0] for w in fake.writes].count("CreateBrandProfile") == 1


def test_the_service_refuses_what_it_documents(fake: FakeBrandProfiles) -> None:
    eum: Any = fake.client()
    profile_id = eum.create_brand_profile(
        brandProfileName="Guarded", deletionProtectionEnabled=True
    )["brandProfileId"]
    entry = {"attributeName": "a", "attributeType": "TEXT", "attributeValue": "x"}
    eum.create_brand_profile_attributes(brandProfileId=profile_id, attributes=[entry])
    with pytest.raises(ClientError) as taken:
        eum.create_brand_profile_attributes(brandProfileId=profile_id, attributes=[entry])
    assert _code(taken.value) == "ConflictException"
    with pytest.raises(ClientError) as wrong_kind:
        eum.create_brand_profile_attributes(
            brandProfileId=profile_id,
            attributes=[{"attributeName": "logo", "attributeType": "IMAGE", "attachmentBody": PDF}],
        )
    assert _code(wrong_kind.value) == "ValidationException"
    with pytest.raises(ClientError) as protected:
        eum.delete_brand_profile(brandProfileId=profile_id)
    assert _code(protected.value) == "ConflictException"
    eum.update_brand_profile(brandProfileId=profile_id, deletionProtectionEnabled=False)
    eum.delete_brand_profile(brandProfileId=profile_id)
    with pytest.raises(ClientError) as gone:
        eum.get_brand_profile(brandProfileId=profile_id)
    assert _code(gone.value) == "ResourceNotFoundException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_request_the_model_refuses_is_a_violation(fake: FakeBrandProfiles) -> None:
    eum: Any = fake.client()
    eum.meta.events.register(
        "before-parameter-build.endusermessaging.CreateBrandProfile",
        lambda params, **_: params.update(brandProfileName="bad/name"),
    )
    with pytest.raises(ClientError) as refused:
        eum.create_brand_profile(brandProfileName="fine")
    assert _code(refused.value) == "ValidationException"
    assert any("does not match pattern" in v for v in fake.take_violations())


def test_jobs_and_the_registrations_made_from_a_profile(fake: FakeBrandProfiles) -> None:
    eum: Any = fake.client()
    profile_id = eum.create_brand_profile(brandProfileName="jobs")["brandProfileId"]
    other = eum.create_brand_profile(brandProfileName="other")["brandProfileId"]
    made = {f"registration-{n:032x}": "US_TOLL_FREE_REGISTRATION" for n in range(3)}
    first = fake.add_job(profile_id, registrations=made, smart_match=False)
    failed = fake.add_job(profile_id, "FAILED", error_code="MAPPING_FAILED")
    fake.add_job(other)

    page = eum.list_jobs(brandProfileId=profile_id, maxResults=1)
    assert [job["jobId"] for job in page["jobs"]] == [failed]  # newest first
    rest = eum.list_jobs(brandProfileId=profile_id, nextToken=page["nextToken"])
    assert [job["jobId"] for job in rest["jobs"]] == [first] and "nextToken" not in rest
    assert [r["resourceId"] for r in rest["jobs"][0]["resources"]] == list(made)
    assert len(eum.list_jobs()["jobs"]) == 3
    assert [j["jobId"] for j in eum.list_jobs(status="FAILED")["jobs"]] == [failed]
    fake.list_jobs_with_resources = False
    assert "resources" not in eum.list_jobs(brandProfileId=profile_id)["jobs"][1]
    job = eum.get_job(jobId=first)
    assert job["status"] == "SUCCESS" and len(job["resources"]) == 3
    assert eum.get_job(jobId=failed)["errorCode"] == "MAPPING_FAILED"
    with pytest.raises(ClientError) as unknown:
        eum.get_job(jobId="job-0")
    assert _code(unknown.value) == "ResourceNotFoundException"

    listed = eum.list_registrations_from_brand_profile(brandProfileId=profile_id, maxResults=2)
    again = eum.list_registrations_from_brand_profile(
        brandProfileId=profile_id, nextToken=listed["nextToken"]
    )
    found = listed["registrationAssociations"] + again["registrationAssociations"]
    assert {r["registrationId"]: r["registrationType"] for r in found} == made
    assert {r["smartMatchUsed"] for r in found} == {False}
    assert (
        eum.list_registrations_from_brand_profile(brandProfileId=other)["registrationAssociations"]
        == []
    )
