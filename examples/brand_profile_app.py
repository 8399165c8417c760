#!/usr/bin/env python3
"""One company's facts declared once, in a brand profile, and drawn into three registrations.

The ``BrandProfile`` holds Example Corp's legal name, website, address, contact, tax ID, its
logo and a signed letter of authorization. Three registrations of two countries take their
values from it with ``profile.attribute(...)``: a US toll-free registration, a US 10DLC brand
registration and an India sender ID registration. Change a fact in ``FACTS`` and deploy: the
profile gets that one attribute written, and every registration that uses it that one field,
nothing else.

The registrations are DRAFTs (``submit=False``): review them in the console, then associate
the toll-free number (``associations=[...]``) and set ``submit=True`` to send them for review.

Run: npx cdk synth --app "python3 examples/brand_profile_app.py"
Deploy: npx cdk deploy --app "python3 examples/brand_profile_app.py"
To try it out and leave nothing behind, deploy and destroy with ``-c removalPolicy=destroy``:
    npx cdk deploy --app "python3 examples/brand_profile_app.py" -c removalPolicy=destroy
    npx cdk destroy --app "python3 examples/brand_profile_app.py" -c removalPolicy=destroy
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import AttachmentSource, BrandAttribute, BrandProfile, Registration

DOCUMENTS = Path(__file__).parent / "documents"
LOGO = DOCUMENTS / "sample-logo.png"
LETTER_OF_AUTHORIZATION = DOCUMENTS / "sample-letter-of-authorization.pdf"
OPT_IN_SCREENSHOT = DOCUMENTS / "sample-opt-in-screenshot.png"

#: The company's facts, each a TEXT attribute of the profile (business data: it never reaches
#: a log line, a FAILED reason or the stack's outputs).
FACTS: Mapping[str, str] = {
    "legalName": "Example Corp",
    "website": "https://www.example.com",
    "address1": "123 Main Street",
    "city": "Seattle",
    "state": "WA",
    "zipCode": "98101",
    "isoCountryCode": "US",
    "taxId": "12-3456789",
    "contactFirstName": "Jane",
    "contactLastName": "Doe",
    "supportEmail": "support@example.com",
    "supportPhoneNumber": "+12065550100",
}

#: ``cdk deploy -c removalPolicy=destroy``: the profile, the registrations and their
#: attachments go with the stack. The default, ``retain``, keeps them all (a review is weeks of
#: work, and the registrations keep referencing their documents).
REMOVAL_POLICY_CONTEXT = "removalPolicy"
REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


class BrandProfileStack(cdk.Stack):
    """A brand profile and three DRAFT registrations whose fields come from it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        facts: Mapping[str, str] = FACTS,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        profile = BrandProfile(
            self,
            "Brand",
            name="example-corp",
            attributes={
                **facts,  # TEXT
                "logo": AttachmentSource.from_file(LOGO),  # a PNG: IMAGE
                "letterOfAuthorization": BrandAttribute(  # a PDF: DOCUMENT
                    AttachmentSource.from_file(LETTER_OF_AUTHORIZATION),
                    description="Signed letter of authorization",
                    category="legal",
                ),
            },
            tags={"team": "messaging"},
            removal_policy=removal_policy,
        )
        fact = profile.attribute
        company = {
            "companyInfo.companyName": fact("legalName"),
            "companyInfo.website": fact("website"),
        }
        contact = {
            "contactInfo.firstName": fact("contactFirstName"),
            "contactInfo.lastName": fact("contactLastName"),
        }
        toll_free = Registration(
            self,
            "UsTollFree",
            registration_type="US_TOLL_FREE_REGISTRATION",
            fields={
                **company,
                "companyInfo.address1": fact("address1"),
                "companyInfo.city": fact("city"),
                "companyInfo.state": fact("state"),
                "companyInfo.zipCode": fact("zipCode"),
                "companyInfo.isoCountryCode": fact("isoCountryCode"),
                "companyInfo.businessType": "PRIVATE_PROFIT",
                **contact,
                "contactInfo.supportEmail": fact("supportEmail"),
                "contactInfo.supportPhoneNumber": fact("supportPhoneNumber"),
                # What only this registration says: its use case.
                "messagingUseCase.monthlyMessageVolume": "10,000",
                "messagingUseCase.useCaseCategory": ["ACCOUNT_NOTIFICATIONS"],
                "messagingUseCase.useCaseDetails": (
                    "Order confirmations for customers who opted in at checkout."
                ),
                "messagingUseCase.optInDescription": (
                    "Customers tick an unchecked SMS consent box at checkout; see the screenshot."
                ),
                "messagingUseCase.optInImage": AttachmentSource.from_file(OPT_IN_SCREENSHOT),
                "messageSamples.messageSample1": (
                    "Example Corp: your order 1234 has shipped. Reply STOP to opt out."
                ),
            },
            submit=False,  # associate the toll-free number first (associations=[...])
            removal_policy=removal_policy,
        )
        ten_dlc = Registration(
            self,
            "UsTenDlcBrand",
            registration_type="US_TEN_DLC_BRAND_REGISTRATION",
            fields={
                **company,
                "companyInfo.businessType": "PRIVATE_PROFIT",
                "companyInfo.taxIdIssuingCountry": fact("isoCountryCode"),
                "companyInfo.taxId": fact("taxId"),
                **contact,
                "contactInfo.email": fact("supportEmail"),
                "contactInfo.phoneNumber": fact("supportPhoneNumber"),
            },
            submit=False,
            removal_policy=removal_policy,
        )
        india = Registration(
            self,
            "IndiaSenderId",
            registration_type="IN_SENDER_ID_REGISTRATION",
            fields={
                **company,
                "companyInfo.address1": fact("address1"),
                "companyInfo.city": fact("city"),
                "companyInfo.isoCountryCode": fact("isoCountryCode"),
                **contact,
                "contactInfo.email": fact("supportEmail"),
                # India's own: the DLT entity ID and the sender ID registered with it.
                "companyInfo.principalEntityId": "1201160000000000001",
                "senderIdInfo.senderId": "EXMPLE",
                "senderIdInfo.messageType": "TRANSACTIONAL",
                # The profile's document becomes a registration attachment of the same file.
                "senderIdInfo.letterOfAuthorization": fact("letterOfAuthorization"),
            },
            submit=False,
            removal_policy=removal_policy,
        )
        cdk.CfnOutput(self, "BrandProfileId", value=profile.brand_profile_id)
        for construct_id, registration in (
            ("UsTollFree", toll_free),
            ("UsTenDlcBrand", ten_dlc),
            ("IndiaSenderId", india),
        ):
            cdk.CfnOutput(self, f"{construct_id}Id", value=registration.registration_id)


def build(app: cdk.App, *, facts: Mapping[str, str] = FACTS) -> cdk.Stack:
    """Add the example stack to ``app``, with cdk-nag's AWS Solutions pack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    chosen = str(app.node.try_get_context(REMOVAL_POLICY_CONTEXT) or "retain")
    if chosen not in REMOVAL_POLICIES:
        raise ValueError(
            f"-c {REMOVAL_POLICY_CONTEXT}={chosen}: give {' or '.join(REMOVAL_POLICIES)}"
        )
    env = cdk.Environment(account="123456789012", region="us-east-1")
    return BrandProfileStack(
        app,
        "SmsBrandProfileExample",
        facts=facts,
        removal_policy=REMOVAL_POLICIES[chosen],
        env=env,
    )


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
