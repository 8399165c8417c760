#!/usr/bin/env python3
"""An attachment from an existing SSE-KMS bucket, pinned to an object version.

Run: npx cdk synth --app "python3 examples/kms_bucket_app.py"
"""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import AttachmentSource, RegistrationAttachment

DOCUMENTS_BUCKET = "example-corp-registration-documents"
DOCUMENTS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class KmsBucketStack(cdk.Stack):
    """The bucket and its key exist already; the provider gets s3:GetObject and kms:Decrypt."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        documents = s3.Bucket.from_bucket_attributes(
            self,
            "Documents",
            bucket_name=DOCUMENTS_BUCKET,
            encryption_key=kms.Key.from_key_arn(self, "DocumentsKey", DOCUMENTS_KEY_ARN),
        )
        loa = RegistrationAttachment(
            self,
            "SignedLoa",
            source=AttachmentSource.from_bucket(
                documents, "sender-id/signed-loa.pdf", version_id="3sL4kqtJlcpXroDTDmJ.QIFQ6e"
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.CfnOutput(self, "SignedLoaId", value=loa.attachment_id)


def build(app: cdk.App) -> cdk.Stack:
    """Add the example stack to ``app``, with cdk-nag's AWS Solutions pack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    return KmsBucketStack(app, "SmsRegistrationKmsBucketExample", env=env)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
