"""The stacks the end-to-end tests deploy, built in one CDK app (one jsii start-up, one bundle).

Versions of a stack (``...V1``, ``...V2``) are separate stacks of the app with the same
construct IDs, so their custom resources share logical IDs: deploying V2 onto a deployment of V1
is a stack update, as ``cdk deploy`` of a changed app would be.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_sms_registration import AttachmentSource, RegistrationAttachment, SharedProviderStack

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
    SharedProviderStack(app, "SharedProvider", env=ENV)
    app.synth()
    return outdir
