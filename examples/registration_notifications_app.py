#!/usr/bin/env python3
"""Mail a registration's review progress to an SNS topic, with EventBridge.

``Registration.on_status_change`` makes a rule for the registration's ``Registration Status
Change`` events; the topic gets one line per change: the registration, its new status, the
version. An imported registration (made in the console) gets the same rule.

Run: npx cdk synth --app "python3 examples/registration_notifications_app.py"
"""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import Registration

CONSOLE_REGISTRATION_ID = "registration-0123456789abcdef0123456789abcdef"


def status_message() -> events.RuleTargetInput:
    """The line the topic gets: the registration, its new status and the version."""
    details = "$.detail.registrationDetails"
    return events.RuleTargetInput.from_text(
        f"Registration {events.EventField.from_path(f'{details}.registrationId')} "
        f"({events.EventField.from_path(f'{details}.registrationType')}) is now "
        f"{events.EventField.from_path(f'{details}.currentStatus')} "
        f"(version {events.EventField.from_path(f'{details}.registrationVersionNumber')})"
    )


class RegistrationNotificationsStack(cdk.Stack):
    """A 10DLC brand registration and an encrypted topic that hears about its review."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = kms.Key(self, "TopicKey", enable_key_rotation=True)
        # EventBridge publishes to an encrypted topic only with the key's permission.
        key.grant(
            iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        topic = sns.Topic(self, "RegistrationStatus", master_key=key, enforce_ssl=True)

        brand = Registration(
            self,
            "Brand",
            registration_type="US_TEN_DLC_BRAND_REGISTRATION",
            fields={
                "companyInfo.companyName": "Example Corp",
                "companyInfo.businessType": "PRIVATE_PROFIT",
            },
        )
        brand.on_status_change(
            "BrandStatus",
            target=targets.SnsTopic(topic, message=status_message()),
            description="The 10DLC brand registration's review progress",
        )
        Registration.from_registration_id(
            self, "ConsoleRegistration", CONSOLE_REGISTRATION_ID
        ).on_status_change(
            "ConsoleRegistrationStatus",
            target=targets.SnsTopic(topic, message=status_message()),
        )


def build(app: cdk.App) -> cdk.Stack:
    """Add the example stack to ``app``, with cdk-nag's AWS Solutions pack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="us-east-1")
    return RegistrationNotificationsStack(app, "SmsRegistrationNotificationsExample", env=env)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
