"""The stacks the end-to-end tests deploy, built in one CDK app (one jsii start-up, one bundle).

Versions of a stack (``...V1``, ``...V2``) are separate stacks of the app with the same
construct IDs, so their custom resources share logical IDs: deploying V2 onto a deployment of V1
is a stack update, as ``cdk deploy`` of a changed app would be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_sms_registration import (
    AttachmentSource,
    BrandAttribute,
    BrandProfile,
    Registration,
    RegistrationAttachment,
    SharedProviderStack,
)

from ..conftest import SAMPLE_JPEG, SAMPLE_PDF, SAMPLE_PDF_V2, SAMPLE_PNG

ENV = cdk.Environment(account="123456789012", region="us-east-1")

#: Construct IDs, and so logical-ID prefixes, shared by every version of a stack.
ATTACHMENT = "Letter"
BUCKET = "Docs"
VERSION_PARAMETER = "DocVersion"
LOAD_COUNT = 100

TAGS_V1 = {"team": "messaging", "cost-center": "42"}
TAGS_V2 = {"team": "sms", "env": "e2e"}

KEY = "loa/letter.pdf"
NEW_KEY = "loa/letter-v2.pdf"
BAD_KEYS = {
    "Missing": "docs/missing.pdf",
    "TooLarge": "docs/too-large.pdf",
    "WrongType": "docs/not-really.pdf",
    "Denied": "docs/letter.pdf",
}
BATCH_KEY = "batch/letter.pdf"

#: The registration stacks: construct ID, the parameter with the toll-free number's ID.
REGISTRATION = "TollFree"
NUMBER_PARAMETER = "TollFreeNumberId"
OPT_IN_PATH = "messagingUseCase.optInImage"
#: A declared value that is personal data: it must never reach a reason, Data or a log.
PRIVATE_NAME = "Jane Q. Private"
#: Every kind of value: text, one SELECT choice, several, and (OPT_IN_PATH) an attachment.
REGISTRATION_FIELDS: dict[str, str | list[str]] = {
    "companyInfo.companyName": "Example Corp",
    "companyInfo.website": "https://example.com",
    "companyInfo.address1": "1 Main Street",
    "companyInfo.city": "Springfield",
    "companyInfo.state": "IL",
    "companyInfo.zipCode": "62701",
    "companyInfo.isoCountryCode": "US",
    "companyInfo.businessType": "PRIVATE_PROFIT",
    "contactInfo.firstName": "Jane",
    "contactInfo.lastName": PRIVATE_NAME,
    "contactInfo.supportEmail": "support@example.com",
    "contactInfo.supportPhoneNumber": "+12175550100",
    "messagingUseCase.monthlyMessageVolume": "10,000",
    "messagingUseCase.useCaseCategory": ["ACCOUNT_NOTIFICATIONS", "DELIVERY_NOTIFICATIONS"],
    "messagingUseCase.useCaseDetails": "Order and delivery updates for our customers",
    "messagingUseCase.optInDescription": "Customers opt in on the checkout page",
    "messageSamples.messageSample1": "Your order 1234 has shipped and arrives Friday.",
}
REGISTRATION_TAGS_V1 = {"team": "messaging"}
REGISTRATION_TAGS_V2 = {"team": "sms"}
UNKNOWN_PATH = "companyInfo.compnyName"
#: A DRAFT registration edited across versions: V2 changes one text, V3 drops the optional one.
EDITED_PATH = "companyInfo.companyName"
OPTIONAL_PATH = "companyInfo.address2"
EDIT_FIELDS_V1: dict[str, str | list[str]] = {
    EDITED_PATH: "Example Corp",
    OPTIONAL_PATH: "Suite 100",
    "contactInfo.lastName": PRIVATE_NAME,
}
EDIT_FIELDS_V2 = {**EDIT_FIELDS_V1, EDITED_PATH: "Example Corporation"}
EDIT_FIELDS_V3 = {k: v for k, v in EDIT_FIELDS_V2.items() if k != OPTIONAL_PATH}
#: The sibling attachment of the registration in ``RegPhoto`` (a JPEG: the fault rejects it).
PHOTO = "Photo"


def _file_stack(app: cdk.App, name: str, path: Path, tags: dict[str, str]) -> None:
    stack = cdk.Stack(app, name, env=ENV)
    RegistrationAttachment(
        stack, ATTACHMENT, source=AttachmentSource.from_file(str(path)), tags=tags
    )


def _bucket_stack(
    app: cdk.App,
    name: str,
    key: str,
    tags: dict[str, str],
    *,
    versioned: bool = False,
    deny_reads: bool = False,
) -> None:
    stack = cdk.Stack(app, name, env=ENV)
    bucket = s3.Bucket(stack, BUCKET, versioned=versioned, removal_policy=cdk.RemovalPolicy.DESTROY)
    if deny_reads:
        # A bucket policy that keeps every principal, the handler's role included, from reading.
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects("*")],
            )
        )
    version_id = None
    if versioned:
        version_id = cdk.CfnParameter(stack, VERSION_PARAMETER, type="String").value_as_string
    RegistrationAttachment(
        stack,
        ATTACHMENT,
        source=AttachmentSource.from_bucket(bucket, key, version_id=version_id),
        tags=tags,
    )


def _batch_stack(app: Construct, name: str) -> None:
    """Four attachments of every kind: PDF, PNG and JPEG files and an object in a bucket."""
    stack = cdk.Stack(app, name, env=ENV)
    for construct_id, path in (("Pdf", SAMPLE_PDF), ("Png", SAMPLE_PNG), ("Jpeg", SAMPLE_JPEG)):
        RegistrationAttachment(
            stack, construct_id, source=AttachmentSource.from_file(str(path)), tags=TAGS_V1
        )
    bucket = s3.Bucket(stack, BUCKET)
    RegistrationAttachment(
        stack, "FromBucket", source=AttachmentSource.from_bucket(bucket, BATCH_KEY), tags=TAGS_V2
    )


def _trio_stack(app: cdk.App, name: str, letter: Path, *, with_photo: bool) -> None:
    """A letter and a pixel; V2 changes the letter's document and adds a photo (JPEG)."""
    stack = cdk.Stack(app, name, env=ENV)
    documents = {"Letter": letter, "Pixel": SAMPLE_PNG}
    if with_photo:
        documents["Photo"] = SAMPLE_JPEG
    for construct_id, path in documents.items():
        RegistrationAttachment(stack, construct_id, source=AttachmentSource.from_file(str(path)))


def _load_stack(app: cdk.App, name: str) -> None:
    stack = cdk.Stack(app, name, env=ENV)
    source = AttachmentSource.from_file(str(SAMPLE_PDF))
    for index in range(LOAD_COUNT):
        RegistrationAttachment(stack, f"Doc{index:03d}", source=source, tags={"n": str(index)})


def _tagged_stack(app: cdk.App, name: str) -> None:
    """Tags from ``Tags.of()`` on the stack, merged with the attachment's own (which win)."""
    stack = cdk.Stack(app, name, env=ENV)
    RegistrationAttachment(
        stack,
        ATTACHMENT,
        source=AttachmentSource.from_file(str(SAMPLE_PDF)),
        tags={"owner": "attachment-prop"},
    )
    cdk.Tags.of(stack).add("team", "messaging")
    cdk.Tags.of(stack).add("owner", "stack")


def _registration_stack(
    app: cdk.App,
    name: str,
    *,
    tags: dict[str, str],
    removal_policy: cdk.RemovalPolicy,
    fields: dict[str, str | list[str]] | None = None,
) -> None:
    """A toll-free registration: every kind of value, an attachment made from a file, the
    number (a parameter) associated before submit."""
    stack = cdk.Stack(app, name, env=ENV)
    number = cdk.CfnParameter(stack, NUMBER_PARAMETER, type="String").value_as_string
    declared: dict[str, Any] = dict(REGISTRATION_FIELDS if fields is None else fields)
    declared[OPT_IN_PATH] = AttachmentSource.from_file(str(SAMPLE_PNG))
    Registration(
        stack,
        REGISTRATION,
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields=declared,
        associations=[number],
        submit=True,
        tags=tags,
        removal_policy=removal_policy,
    )


def _bad_registration_stack(app: cdk.App, name: str) -> None:
    """A registration whose declaration names a field the type does not have."""
    stack = cdk.Stack(app, name, env=ENV)
    Registration(
        stack,
        REGISTRATION,
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields={UNKNOWN_PATH: "Example Corp", "contactInfo.lastName": PRIVATE_NAME},
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def _draft_registration_stack(app: cdk.App, name: str) -> None:
    """A draft registration with one value: no association, no submit."""
    stack = cdk.Stack(app, name, env=ENV)
    Registration(
        stack,
        REGISTRATION,
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields={"contactInfo.lastName": PRIVATE_NAME},
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def _edit_registration_stack(
    app: cdk.App, name: str, fields: dict[str, str | list[str]]
) -> cdk.Stack:
    """A draft registration of text and choice values: no attachment, association or submit."""
    stack = cdk.Stack(app, name, env=ENV)
    Registration(
        stack,
        REGISTRATION,
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields=dict(fields),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return stack


def _registration_and_photo_stack(app: cdk.App, name: str) -> None:
    """A draft registration of every text and choice value, and a sibling attachment (JPEG)
    that depends on nothing: CloudFormation creates both at once."""
    stack = _edit_registration_stack(app, name, REGISTRATION_FIELDS)
    RegistrationAttachment(stack, PHOTO, source=AttachmentSource.from_file(str(SAMPLE_JPEG)))


#: The stack of the stateful history test (test_histories.py): its registration, the
#: registration's opt-in attachment and a sibling attachment that the test can make fail.
HISTORY_STACK = "History"
OPT_IN = "OptIn"
SIBLING = "Sibling"


def _history_stack(app: cdk.App, name: str) -> None:
    """A submitted toll-free registration whose opt-in image is a sibling attachment, and an
    unrelated attachment in the registration's wave (DependsOn the opt-in image), so that its
    failure cancels the registration's request. The test varies the resolved properties of this
    one template (type, fields, associations, submit, attachments), never synthesizing again."""
    stack = cdk.Stack(app, name, env=ENV)
    number = cdk.CfnParameter(stack, NUMBER_PARAMETER, type="String").value_as_string
    opt_in = RegistrationAttachment(
        stack, OPT_IN, source=AttachmentSource.from_file(str(SAMPLE_PNG))
    )
    declared: dict[str, Any] = {**REGISTRATION_FIELDS, OPT_IN_PATH: opt_in}
    Registration(
        stack,
        REGISTRATION,
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields=declared,
        associations=[number],
        submit=True,
        # DESTROY: replacements and removals reach the handler (the harness plays no
        # UpdateReplacePolicy), so its Delete decisions are part of every history.
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    sibling = RegistrationAttachment(
        stack, SIBLING, source=AttachmentSource.from_file(str(SAMPLE_PDF_V2))
    )
    sibling.node.add_dependency(opt_in)


#: The brand profile stacks: one profile, two registrations of two types drawn from it.
PROFILE = "Brand"
PROFILE_NAME = "example-corp"
PROFILE_REGISTRATIONS = ("TollFreeDraft", "TenDlcBrand")
PROFILE_TEXT_V1 = {"legalName": "Example Corp", "website": "https://example.com"}
PROFILE_TEXT_V2 = {**PROFILE_TEXT_V1, "legalName": "Example Corporation"}


def _brand_profile_stack(app: cdk.App, name: str, texts: dict[str, str]) -> None:
    """A profile (two TEXT attributes, a PNG logo, a PDF letter of authorization) and two DRAFT
    registrations whose company name is the profile's legalName: V1 -> V2 changes only that."""
    stack = cdk.Stack(app, name, env=ENV)
    destroy = cdk.RemovalPolicy.DESTROY
    profile = BrandProfile(
        stack,
        PROFILE,
        name=PROFILE_NAME,
        attributes={
            **texts,
            "logo": AttachmentSource.from_file(str(SAMPLE_PNG)),
            "loa": BrandAttribute(
                AttachmentSource.from_file(str(SAMPLE_PDF)),
                description="Letter of authorization",
                category="legal",
            ),
        },
        tags={"team": "messaging"},
        removal_policy=destroy,
    )
    Registration(
        stack,
        PROFILE_REGISTRATIONS[0],
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields={
            **{k: v for k, v in REGISTRATION_FIELDS.items() if k != "companyInfo.website"},
            "companyInfo.companyName": profile.attribute("legalName"),
            "companyInfo.website": profile.attribute("website"),
        },
        submit=False,
        removal_policy=destroy,
    )
    Registration(
        stack,
        PROFILE_REGISTRATIONS[1],
        registration_type="US_TEN_DLC_BRAND_REGISTRATION",
        fields={
            "companyInfo.companyName": profile.attribute("legalName"),
            "companyInfo.businessType": "PRIVATE_PROFIT",
            "contactInfo.lastName": PRIVATE_NAME,
        },
        submit=False,
        removal_policy=destroy,
    )


#: The prefill stacks: a toll-free registration the service drafts from a profile whose
#: attribute names are the company fields' last path segments; the rest is declared.
PREFILL_REGISTRATION = "Prefilled"
PREFILL_PROFILE_TEXTS = {
    path.rsplit(".", 1)[1]: str(value)
    for path, value in REGISTRATION_FIELDS.items()
    if path.startswith("companyInfo.")
}
PREFILL_DECLARED = {
    path: value
    for path, value in REGISTRATION_FIELDS.items()
    if not path.startswith("companyInfo.")
}


def _prefill_stack(app: cdk.App, name: str, texts: dict[str, str]) -> None:
    stack = cdk.Stack(app, name, env=ENV)
    number = cdk.CfnParameter(stack, NUMBER_PARAMETER, type="String").value_as_string
    profile = BrandProfile(
        stack,
        PROFILE,
        name=PROFILE_NAME,
        attributes=texts,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    Registration(
        stack,
        PREFILL_REGISTRATION,
        registration_type="US_TOLL_FREE_REGISTRATION",
        brand_profile=profile,
        fields={**PREFILL_DECLARED, OPT_IN_PATH: AttachmentSource.from_file(str(SAMPLE_PNG))},
        associations=[number],
        submit=True,
        tags={"team": "messaging"},
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


#: The stack of the brand profile histories (test_profile_histories.py): a profile, a DRAFT
#: registration whose company name is the profile's legalName, and a sibling attachment the
#: test can make fail (no dependency: CloudFormation starts it beside the profile).
PROFILE_HISTORY_STACK = "ProfileHistory"
PROFILE_HISTORY_REGISTRATION = "Brand10Dlc"
PROFILE_SECRET_NAME = "Secret Legal Name Ltd"


def _profile_history_stack(app: cdk.App, name: str) -> None:
    stack = cdk.Stack(app, name, env=ENV)
    destroy = cdk.RemovalPolicy.DESTROY
    profile = BrandProfile(
        stack,
        PROFILE,
        name=PROFILE_NAME,
        attributes={
            "legalName": PROFILE_SECRET_NAME,
            "website": "https://example.com",
            "logo": AttachmentSource.from_file(str(SAMPLE_PNG)),
            "loa": AttachmentSource.from_file(str(SAMPLE_PDF)),
        },
        removal_policy=destroy,
    )
    Registration(
        stack,
        PROFILE_HISTORY_REGISTRATION,
        registration_type="US_TEN_DLC_BRAND_REGISTRATION",
        fields={
            "companyInfo.companyName": profile.attribute("legalName"),
            "companyInfo.businessType": "PRIVATE_PROFIT",
            "contactInfo.lastName": PRIVATE_NAME,
        },
        removal_policy=destroy,
    )
    RegistrationAttachment(
        stack,
        SIBLING,
        source=AttachmentSource.from_file(str(SAMPLE_PDF_V2)),
        removal_policy=destroy,
    )


def build(outdir: Path) -> Path:
    """Synthesize every e2e stack into ``outdir``; returns the cloud assembly directory."""
    # The CDK CLI turns path metadata on; the harness finds resources by their construct path.
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    _file_stack(app, "FileV1", SAMPLE_PDF, TAGS_V1)
    _file_stack(app, "FileV2", SAMPLE_PDF, TAGS_V2)
    _file_stack(app, "FileV3", SAMPLE_PNG, TAGS_V2)
    _bucket_stack(app, "BucketV1", KEY, TAGS_V1)
    _bucket_stack(app, "BucketV2", KEY, TAGS_V2)
    _bucket_stack(app, "BucketV3", NEW_KEY, TAGS_V2)
    _bucket_stack(app, "VersionedV1", KEY, TAGS_V1, versioned=True)
    _bucket_stack(app, "VersionedV2", KEY, TAGS_V2, versioned=True)
    for case, key in BAD_KEYS.items():
        _bucket_stack(app, f"Bad{case}", key, TAGS_V1, deny_reads=case == "Denied")
    _batch_stack(app, "Batch")
    _trio_stack(app, "TrioV1", SAMPLE_PDF, with_photo=False)
    _trio_stack(app, "TrioV2", SAMPLE_PDF_V2, with_photo=True)
    _load_stack(app, "Load")
    _tagged_stack(app, "Tagged")
    retain, destroy = cdk.RemovalPolicy.RETAIN, cdk.RemovalPolicy.DESTROY
    _registration_stack(app, "RegV1", tags=REGISTRATION_TAGS_V1, removal_policy=retain)
    _registration_stack(app, "RegV2", tags=REGISTRATION_TAGS_V2, removal_policy=retain)
    _registration_stack(app, "RegDestroy", tags=REGISTRATION_TAGS_V1, removal_policy=destroy)
    _bad_registration_stack(app, "RegBad")
    _draft_registration_stack(app, "RegDraft")
    _edit_registration_stack(app, "RegEditV1", EDIT_FIELDS_V1)
    _edit_registration_stack(app, "RegEditV2", EDIT_FIELDS_V2)
    _edit_registration_stack(app, "RegEditV3", EDIT_FIELDS_V3)
    _registration_and_photo_stack(app, "RegPhoto")
    _history_stack(app, HISTORY_STACK)
    _brand_profile_stack(app, "ProfileV1", PROFILE_TEXT_V1)
    _brand_profile_stack(app, "ProfileV2", PROFILE_TEXT_V2)
    _profile_history_stack(app, PROFILE_HISTORY_STACK)
    _prefill_stack(app, "Prefill", PREFILL_PROFILE_TEXTS)
    _prefill_stack(
        app,
        "PrefillMissing",
        {k: v for k, v in PREFILL_PROFILE_TEXTS.items() if k != "zipCode"},
    )
    SharedProviderStack(app, "SharedProvider", env=ENV)
    app.synth()
    return outdir
