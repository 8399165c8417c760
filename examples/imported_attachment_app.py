#!/usr/bin/env python3
"""Referring to an attachment made outside CDK (console, script) by its ID.

Run: npx cdk synth --app "python3 examples/imported_attachment_app.py"
"""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import RegistrationAttachment

EXISTING_ATTACHMENT_ID = "registration-attachment-0123456789abcdef0123456789abcdef"


class ImportedAttachmentStack(cdk.Stack):
    """Grants a reviewer role read access to one existing attachment, by its ARN."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        existing = RegistrationAttachment.from_attachment_id(
            self, "ExistingLoa", EXISTING_ATTACHMENT_ID
        )
        reviewer = iam.Role(
            self,
            "RegistrationReviewer",
            assumed_by=iam.AccountRootPrincipal(),
            description="Reviews the sender-ID registration documents",
        )
        reviewer.add_to_policy(
            iam.PolicyStatement(
                actions=["sms-voice:DescribeRegistrationAttachments"],
                resources=[existing.attachment_arn],
            )
        )
        cdk.CfnOutput(self, "ExistingLoaArn", value=existing.attachment_arn)


def build(app: cdk.App) -> cdk.Stack:
    """Add the example stack to ``app``, with cdk-nag's AWS Solutions pack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    return ImportedAttachmentStack(app, "SmsRegistrationImportedExample", env=env)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
