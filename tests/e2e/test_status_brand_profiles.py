"""``status`` of brand profiles, as a user runs it (issue 17).

The CLI runs as a subprocess (``python -m cdk_sms_registration status``), as in
test_registration_cli.py, against the fakes over HTTP: ``endusermessaging`` (profiles, their
jobs and the registrations made from them, recorded with ``add_job``), ``pinpoint-sms-voice-v2``
and CloudFormation's ListStackResources (a stand-in stack, no deploy: the deploy path is
test_registration_cli.py's). The output names attributes by name, kind, category and size and
never shows a value, a description, media bytes or a job's error message. The last test signs
with credentials whose only policy is the README's status policy: every call must be allowed.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_registration_handler.brand_profile_contract import OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import owner_mark

from .conftest import REPO
from .fake_brand_profiles import FakeBrandProfiles
from .fake_cloudformation import FakeCloudFormation
from .fake_sms import FakeSmsService
from .iam_eval import IamRegistry, Identity

TOLL_FREE = "US_TOLL_FREE_REGISTRATION"
TEN_DLC_BRAND = "US_TEN_DLC_BRAND_REGISTRATION"
#: Values that must never appear in any output.
SECRET_TEXT = "Quackenbush Zebediah Holdings"
SECRET_DESCRIPTION = "As on the tax record of Zebediah"
SECRET_MEDIA = b"ZEBEDIAH-MEDIA-BYTES"
SECRET_ERROR = "field companyName: Quackenbush Zebediah Holdings is not allowed"
SECRETS = (SECRET_TEXT, SECRET_DESCRIPTION, SECRET_MEDIA.decode(), SECRET_ERROR, "_media/")
PNG = b"\x89PNG\r\n\x1a\n" + SECRET_MEDIA + b"\0" * 100
PDF = b"%PDF-1.7\n" + SECRET_MEDIA + b"x" * 300
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Brands/0f6a2c90-aaaa-bbbb-cccc"
PROFILE_LID = "BrandA1B2C3D4"
#: A user's key, registered with the README's status policy in the IAM test only.
OPERATOR_KEY = "AKIASTATUSOPERATOR01"


def _env(tmp_path: Path, *services: Any) -> dict[str, str]:
    """A user's environment: dummy credentials, a region, the fakes' endpoints, no profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for service in services:
        env.update(service.env())
    return {
        **env,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def cli(env: Mapping[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m cdk_sms_registration ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cdk_sms_registration", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_private(*runs: subprocess.CompletedProcess[str]) -> None:
    for done in runs:
        for secret in SECRETS:
            assert secret not in done.stdout + done.stderr, f"{secret!r} shown"


def _profile(brand_profiles: FakeBrandProfiles) -> dict[str, Any]:
    """A profile with a TEXT, an IMAGE and a DOCUMENT attribute, as the handler makes one."""
    eum: Any = brand_profiles.client()
    made = eum.create_brand_profile(
        brandProfileName="example-corp",
        deletionProtectionEnabled=True,
        tags=[
            {"key": "team", "value": "messaging"},
            {"key": OWNER_TAG_KEY, "value": owner_mark(STACK_ID, PROFILE_LID)},
        ],
    )
    eum.create_brand_profile_attributes(
        brandProfileId=made["brandProfileId"],
        attributes=[
            {
                "attributeName": "legalName",
                "attributeType": "TEXT",
                "attributeValue": SECRET_TEXT,
                "description": SECRET_DESCRIPTION,
                "category": "company",
            },
            {"attributeName": "logo", "attributeType": "IMAGE", "attachmentBody": PNG},
            {
                "attributeName": "loa",
                "attributeType": "DOCUMENT",
                "attachmentBody": PDF,
                "description": SECRET_DESCRIPTION,
                "category": "legal",
            },
        ],
    )
    return dict(made)


def _registration_ids(count: int) -> list[str]:
    return [f"registration-{n:032x}" for n in range(1, count + 1)]


def test_status_shows_a_profile_its_registrations_and_jobs_never_a_value(
    brand_profiles: FakeBrandProfiles, tmp_path: Path
) -> None:
    env = _env(tmp_path, brand_profiles)
    made = _profile(brand_profiles)
    profile_id, arn = made["brandProfileId"], made["brandProfileArn"]
    first, second = _registration_ids(2)
    good = brand_profiles.add_job(
        profile_id, registrations={first: TOLL_FREE, second: TEN_DLC_BRAND}
    )
    failed = brand_profiles.add_job(
        profile_id, "FAILED", error_code="ATTRIBUTE_MAPPING_FAILED", error_message=SECRET_ERROR
    )

    table = cli(env, "status", profile_id, cwd=tmp_path)
    assert table.returncode == 1, table.stderr  # the newest job FAILED
    mark = owner_mark(STACK_ID, PROFILE_LID)
    expected = f"""\
{profile_id}  brand profile
  name:                   example-corp
  status:                 ACTIVE  (NEEDS ACTION)
  deletion protection:    on
  tags:                   {OWNER_TAG_KEY}={mark}, team=messaging
  attributes:             3
    legalName: TEXT, category company
    loa: DOCUMENT, category legal, application/pdf, {len(PDF)} bytes
    logo: IMAGE, image/png, {len(PNG)} bytes
  registrations made:     2
    {first}: {TOLL_FREE} (smart match)
    {second}: {TEN_DLC_BRAND} (smart match)
  jobs:                   2, newest first
    {failed}: FAILED  {FakeBrandProfiles.JOB_CREATE_REGISTRATIONS}  error ATTRIBUTE_MAPPING_FAILED
    {good}: SUCCESS  {FakeBrandProfiles.JOB_CREATE_REGISTRATIONS}
      made REGISTRATION {first}
      made REGISTRATION {second}
"""
    assert table.stdout == expected, table.stdout
    # Values are never fetched: GetBrandProfileAttribute only for the two media attributes.
    assert brand_profiles.calls["GetBrandProfileAttribute"] == 2
    # A job listed without resources (it made none) is read whole, in case the list left them out.
    assert brand_profiles.calls["GetJob"] == 1

    # By ARN, as JSON; a service whose ListJobs leaves resources out: GetJob has them.
    brand_profiles.list_jobs_with_resources = False
    brand_profiles.add_job(profile_id, registrations={})  # a newer SUCCESS: no action now
    as_json = cli(env, "status", arn, "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    found = json.loads(as_json.stdout)
    assert found["Registrations"] == []
    [report] = found["BrandProfiles"]
    assert report["BrandProfileArn"] == arn and report["NeedsAction"] is False
    assert report["DeletionProtection"] is True
    assert report["Tags"] == {OWNER_TAG_KEY: mark, "team": "messaging"}
    assert report["Attributes"][0] == {
        "AttributeName": "legalName",
        "AttributeType": "TEXT",
        "Category": "company",
        "MediaContentType": None,
        "MediaSizeBytes": None,
    }
    assert [r["SmartMatchUsed"] for r in report["Registrations"]] == [True, True]
    jobs = {job["JobId"]: job for job in report["Jobs"]}
    assert [job["Status"] for job in report["Jobs"]] == ["SUCCESS", "FAILED", "SUCCESS"]
    assert [r["ResourceId"] for r in jobs[good]["Resources"]] == [first, second]
    assert jobs[good]["Resources"][0]["ResourceArn"].endswith(f":registration/{first}")
    assert jobs[failed]["ErrorCode"] == "ATTRIBUTE_MAPPING_FAILED"
    assert brand_profiles.calls["GetJob"] == 1 + 3
    _assert_private(table, as_json)


def test_status_errors_are_one_line_naming_the_fix(
    brand_profiles: FakeBrandProfiles, tmp_path: Path
) -> None:
    env = _env(tmp_path, brand_profiles)
    made = _profile(brand_profiles)
    missing = cli(env, "status", "bp-" + "0" * 32, cwd=tmp_path)
    elsewhere_arn = made["brandProfileArn"].replace(":us-east-1:", ":eu-west-2:")
    elsewhere = cli(env, "status", elsewhere_arn, cwd=tmp_path)
    expected = {
        missing: f"error: bp-{'0' * 32}: GetBrandProfile failed (ResourceNotFoundException): "
        "none in us-east-1; if it is in another region, pass --region",
        elsewhere: f"error: {elsewhere_arn}: the brand profile is in eu-west-2, the command "
        "runs in us-east-1: pass --region eu-west-2",
    }
    for done, message in expected.items():
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == message


def test_a_boto3_without_the_service_names_the_upgrade() -> None:
    from cdk_sms_registration.cli_aws import CommandFailed, client

    with pytest.raises(CommandFailed) as raised:
        client("endusermessaging-from-the-future", "us-east-1")
    assert str(raised.value).endswith(
        "this boto3 does not know the service: pip install --upgrade boto3"
    )


class _StandInStack:
    """What FakeCloudFormation reads of a played stack, without playing one."""

    def __init__(self, resources: Mapping[str, tuple[str, str, str]]) -> None:
        self.stack_id = STACK_ID
        self.stack_name = "Brands"
        self.created = datetime.datetime.now(datetime.timezone.utc)
        #: logical ID -> (type, physical ID, status)
        self._resource_state = dict(resources)

    def current_stack_status(self) -> str:
        return "CREATE_COMPLETE"

    def resource_detail(self, logical_id: str) -> Mapping[str, Any] | None:
        kind, physical_id, status = self._resource_state[logical_id]
        return {
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": kind,
            "LastUpdatedTimestamp": self.created,
            "ResourceStatus": status,
        }


def _stand_in_stack(
    brand_profiles: FakeBrandProfiles, sms_service: FakeSmsService
) -> tuple[str, str]:
    """A stack of a profile, a registration made from it and a profile whose Create failed."""
    profile_id = _profile(brand_profiles)["brandProfileId"]
    registration_id = sms_service.client().create_registration(RegistrationType=TOLL_FREE)[
        "RegistrationId"
    ]
    brand_profiles.add_job(profile_id, registrations={registration_id: TOLL_FREE})
    return profile_id, registration_id


def test_status_of_a_stack_lists_its_brand_profiles_and_registrations(
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    fake_cloudformation: FakeCloudFormation,
    tmp_path: Path,
) -> None:
    profile_id, registration_id = _stand_in_stack(brand_profiles, sms_service)
    fake_cloudformation.register(
        _StandInStack(
            {
                "Provider": ("AWS::Lambda::Function", "fn", "CREATE_COMPLETE"),
                PROFILE_LID: ("Custom::SmsBrandProfile", profile_id, "CREATE_COMPLETE"),
                "TollFree": ("Custom::SmsRegistration", registration_id, "CREATE_COMPLETE"),
                "Broken": ("Custom::SmsBrandProfile", "bp-placeholder", "CREATE_FAILED"),
            }
        )
    )
    fake_cloudformation.page_size = 1
    env = _env(tmp_path, brand_profiles, sms_service, fake_cloudformation)
    table = cli(env, "status", "--stack", "Brands", cwd=tmp_path)
    as_json = cli(env, "status", "--stack", "Brands", "--json", cwd=tmp_path)
    assert table.returncode == 0 and as_json.returncode == 0, table.stderr + as_json.stderr
    assert re.search(r"stack Brands: page 4 ", table.stderr)
    assert f"{profile_id} [{PROFILE_LID}]  brand profile\n" in table.stdout
    assert f"{registration_id} [TollFree]  {TOLL_FREE}\n" in table.stdout
    assert f"    {registration_id}: {TOLL_FREE} (smart match)\n" in table.stdout
    assert "bp-placeholder" not in table.stdout
    found = json.loads(as_json.stdout)
    assert [r["LogicalResourceId"] for r in found["BrandProfiles"]] == [PROFILE_LID]
    assert [r["LogicalResourceId"] for r in found["Registrations"]] == ["TollFree"]
    _assert_private(table, as_json)


def _status_policy() -> dict[str, Any]:
    """The policy the README gives for ``status`` (the JSON block after its heading)."""
    readme = (REPO / "README.md").read_text()
    section = readme.partition("**Permissions of `status`.**")[2]
    block = re.search(r"```json\n(.*?)```", section, flags=re.S)
    assert block is not None, "README: the status policy block is missing"
    policy: dict[str, Any] = json.loads(block.group(1))
    return policy


def test_the_readme_status_policy_allows_every_call_and_nothing_else_is_needed(
    brand_profiles: FakeBrandProfiles,
    sms_service: FakeSmsService,
    fake_cloudformation: FakeCloudFormation,
    iam_registry: IamRegistry,
    tmp_path: Path,
) -> None:
    profile_id, registration_id = _stand_in_stack(brand_profiles, sms_service)
    fake_cloudformation.register(
        _StandInStack(
            {
                PROFILE_LID: ("Custom::SmsBrandProfile", profile_id, "CREATE_COMPLETE"),
                "TollFree": ("Custom::SmsRegistration", registration_id, "CREATE_COMPLETE"),
            }
        )
    )
    brand_profiles.list_jobs_with_resources = False  # GetJob too
    operator = "arn:aws:iam::123456789012:user/operator"
    iam_registry.register(OPERATOR_KEY, Identity(operator, operator, (_status_policy(),)))
    env = {
        **_env(tmp_path, brand_profiles, sms_service, fake_cloudformation),
        "AWS_ACCESS_KEY_ID": OPERATOR_KEY,
    }
    allowed = cli(env, "status", "--stack", "Brands", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert iam_registry.denials == []
    assert brand_profiles.calls["ListJobs"] == brand_profiles.calls["GetJob"] == 1
    assert sms_service.calls["DescribeRegistrations"] == 1
    # Without one of its actions, the error names the operation and where the policy is.
    iam_registry.add_deny({"Action": "end-user-messaging:ListJobs", "Resource": "*"})
    denied = cli(env, "status", profile_id, cwd=tmp_path)
    assert denied.returncode == 2
    assert denied.stderr.strip() == (
        f"error: {profile_id}: ListJobs failed (AccessDeniedException): allow the read "
        'permissions in README.md ("Permissions of status")'
    )
    _assert_private(allowed, denied)


@pytest.mark.parametrize(
    "argument", ["bp-1", "arn:aws:end-user-messaging:us-east-1:1:brand-profile/bp-1"]
)
def test_profile_arguments_are_told_from_registration_ids(argument: str) -> None:
    from cdk_sms_registration.cli_status_profiles import is_brand_profile

    assert is_brand_profile(argument)
    assert not is_brand_profile("registration-" + "0" * 32)
