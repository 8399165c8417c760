#!/usr/bin/env python3
"""Example app: one registration attachment from the sample letter of authorization.

`cdk synth` runs it with cdk-nag's AWS Solutions checks, so every synth shows the stack passes.
"""

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import AttachmentSource, RegistrationAttachment, SharedProviderStack

SAMPLE_LOA = Path(__file__).parent / "examples" / "documents" / "sample-letter-of-authorization.pdf"


class SmsRegistrationExampleStack(cdk.Stack):
    """A stack with one attachment and outputs for its ID and ARN."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        letter = RegistrationAttachment(
            self,
            "LetterOfAuthorization",
            source=AttachmentSource.from_file(str(SAMPLE_LOA)),
            tags={"purpose": "sender-id-registration"},
        )
        cdk.CfnOutput(self, "LetterOfAuthorizationId", value=letter.attachment_id)
        cdk.CfnOutput(self, "LetterOfAuthorizationArn", value=letter.attachment_arn)


def build(app: cdk.App) -> cdk.Stack:
    """Add the example stacks to ``app``, with cdk-nag's AWS Solutions pack.

    ``SmsRegistrationAttachmentProvider`` is the shared provider for hand-written templates;
    deploy it on its own (``cdk deploy SmsRegistrationAttachmentProvider --parameters ...``).
    """
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    SharedProviderStack(app, "SmsRegistrationAttachmentProvider")
    return SmsRegistrationExampleStack(app, "SmsRegistrationExample")


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
