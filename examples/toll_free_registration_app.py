#!/usr/bin/env python3
"""A US toll-free registration declared end to end: fields, opt-in screenshot, number, submit.

Run: npx cdk synth --app "python3 examples/toll_free_registration_app.py"
Deploy: npx cdk deploy --app "python3 examples/toll_free_registration_app.py" \
    --parameters TollFreeNumberId=phone-0123456789abcdef0123456789abcdef
"""

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import AttachmentSource, Registration, RegistrationAttachment

OPT_IN_SCREENSHOT = Path(__file__).parent / "documents" / "sample-opt-in-screenshot.png"


class TollFreeRegistrationStack(cdk.Stack):
    """An opt-in screenshot attachment and the toll-free registration that references it."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        number = cdk.CfnParameter(
            self,
            "TollFreeNumberId",
            description="The toll-free phone number ID (phone-...) to register",
            allowed_pattern="[A-Za-z0-9_:/-]{1,256}",
        )
        opt_in = RegistrationAttachment(
            self,
            "OptInScreenshot",
            source=AttachmentSource.from_file(str(OPT_IN_SCREENSHOT)),
            # The registration keeps referencing it: keep it as long as the registration.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        registration = Registration(
            self,
            "TollFree",
            registration_type="US_TOLL_FREE_REGISTRATION",
            fields={
                "companyInfo.companyName": "Example Corp",  # TEXT
                "companyInfo.website": "https://www.example.com",
                "companyInfo.address1": "123 Main Street",
                "companyInfo.city": "Seattle",
                "companyInfo.state": "WA",
                "companyInfo.zipCode": "98101",
                "companyInfo.isoCountryCode": "US",
                "companyInfo.businessType": "PRIVATE_PROFIT",  # a single SELECT choice
                "contactInfo.firstName": "Jane",
                "contactInfo.lastName": "Doe",
                "contactInfo.supportEmail": "support@example.com",
                "contactInfo.supportPhoneNumber": "+12065550100",
                "messagingUseCase.monthlyMessageVolume": "10,000",  # a single SELECT choice
                "messagingUseCase.useCaseCategory": [  # SELECT choices
                    "ACCOUNT_NOTIFICATIONS",
                    "DELIVERY_NOTIFICATIONS",
                ],
                "messagingUseCase.useCaseDetails": (
                    "Order confirmations and delivery updates for customers who opted in at "
                    "checkout."
                ),
                "messagingUseCase.optInDescription": (
                    "Customers tick an unchecked SMS consent box at checkout; see the screenshot."
                ),
                "messagingUseCase.optInImage": opt_in,  # ATTACHMENT
                "messagingUseCase.privacyPolicyUrl": "https://www.example.com/privacy",
                "messageSamples.messageSample1": (
                    "Example Corp: your order 1234 has shipped. Reply STOP to opt out."
                ),
            },
            associations=[number.value_as_string],  # toll-free numbers: before submit
            submit=True,
            tags={"team": "messaging"},
            # removal_policy defaults to RETAIN: a registration outlives the stack.
        )
        cdk.CfnOutput(self, "RegistrationId", value=registration.registration_id)
        cdk.CfnOutput(self, "RegistrationStatus", value=registration.registration_status)
        cdk.CfnOutput(self, "VersionNumber", value=registration.version_number)
        cdk.CfnOutput(self, "VersionStatus", value=registration.version_status)


def build(app: cdk.App) -> cdk.Stack:
    """Add the example stack to ``app``, with cdk-nag's AWS Solutions pack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="us-east-1")
    return TollFreeRegistrationStack(app, "SmsTollFreeRegistrationExample", env=env)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
