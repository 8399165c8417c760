"""Run the README's walkthrough against the fake service and print what each command printed.

``PYTHONPATH=. .venv/bin/python -m tests.e2e.registration_walkthrough`` (offline): definitions ->
scaffold -> status of a registration the fake denied -> status of a brand profile (with a job
that made a registration from it). The README's "Registrations without guesswork" section shows
this script's real output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cdk_sms_registration_handler.brand_profile_contract import OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import owner_mark

from .fake_brand_profiles import FakeBrandProfiles
from .fake_sms import FakeSmsService

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2040
PDF = b"%PDF-1.7\n" + b"x" * 48_000


def main() -> None:
    """Print each command and its output."""
    with (
        FakeSmsService(s3_endpoint_url="http://127.0.0.1:9") as service,
        FakeBrandProfiles() as brand_profiles,
        tempfile.TemporaryDirectory() as work,
    ):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **service.env(),
            **brand_profiles.env(),
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_REGION": "us-east-1",
        }

        def run(*args: str) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "cdk_sms_registration", *args],
                env=env,
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
            )
            print(f"$ python -m cdk_sms_registration {' '.join(args)}")
            print((done.stderr + done.stdout).rstrip())
            print(f"[exit {done.returncode}]\n")

        run(
            "definitions",
            "US_TEN_DLC_BRAND_REGISTRATION",
            "--output",
            "registration-definitions.json",
        )
        run(
            "scaffold",
            "US_TEN_DLC_BRAND_REGISTRATION",
            "--definitions",
            "registration-definitions.json",
        )
        sms = service.client()
        registration_id = sms.create_registration(RegistrationType="US_TEN_DLC_BRAND_REGISTRATION")[
            "RegistrationId"
        ]
        values = {
            "companyInfo.companyName": "Example Corp",
            "companyInfo.taxIdIssuingCountry": "US",
            "companyInfo.taxId": "12-3456789",
            "contactInfo.firstName": "Jane",
            "contactInfo.lastName": "Doe",
            "contactInfo.email": "jane@example.com",
            "contactInfo.phoneNumber": "+12065550100",
        }
        for path, text in values.items():
            sms.put_registration_field_value(
                RegistrationId=registration_id, FieldPath=path, TextValue=text
            )
        sms.put_registration_field_value(
            RegistrationId=registration_id,
            FieldPath="companyInfo.businessType",
            SelectChoices=["PRIVATE_PROFIT"],
        )
        sms.submit_registration_version(RegistrationId=registration_id)
        service.registrations.start_review(registration_id)
        service.registrations.deny(
            registration_id,
            reasons=[
                {
                    "Reason": "INVALID_TAX_ID",
                    "ShortDescription": "The tax ID could not be verified.",
                    "DocumentationLink": "https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations-status.html",
                }
            ],
            field_feedback={
                "companyInfo.taxId": {
                    "DeniedReason": "MISMATCH",
                    "Feedback": "The tax ID does not match the company name.",
                }
            },
        )
        time.sleep(0.1)
        run("status", registration_id)
        Path(work, "registration-definitions.json").unlink()

        eum = brand_profiles.client()
        stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/Brands/0f6a2c90"
        profile_id = eum.create_brand_profile(
            brandProfileName="example-corp",
            deletionProtectionEnabled=True,
            tags=[
                {"key": "team", "value": "messaging"},
                {"key": OWNER_TAG_KEY, "value": owner_mark(stack_id, "Brand1A2B3C4D")},
            ],
        )["brandProfileId"]
        eum.create_brand_profile_attributes(
            brandProfileId=profile_id,
            attributes=[
                {"attributeName": "legalName", "attributeType": "TEXT", "attributeValue": "Ex"},
                {"attributeName": "website", "attributeType": "TEXT", "attributeValue": "x.com"},
                {"attributeName": "logo", "attributeType": "IMAGE", "attachmentBody": PNG},
                {
                    "attributeName": "loa",
                    "attributeType": "DOCUMENT",
                    "attachmentBody": PDF,
                    "description": "Letter of authorization",
                    "category": "legal",
                },
            ],
        )
        toll_free = sms.create_registration(RegistrationType="US_TOLL_FREE_REGISTRATION")
        brand_profiles.add_job(
            profile_id, registrations={toll_free["RegistrationId"]: "US_TOLL_FREE_REGISTRATION"}
        )
        run("status", profile_id)


if __name__ == "__main__":
    main()
