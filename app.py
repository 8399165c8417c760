#!/usr/bin/env python3
"""Example app: one registration attachment from the sample letter of authorization."""

from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from cdk_sms_registration import AttachmentSource, RegistrationAttachment

SAMPLE_LOA = Path(__file__).parent / "examples" / "documents" / "sample-letter-of-authorization.pdf"


class SmsRegistrationExampleStack(cdk.Stack):
    """A stack with one attachment and outputs for its ID and ARN."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        letter = RegistrationAttachment(
            self,
            "LetterOfAuthorization",
            source=AttachmentSource.from_file(str(SAMPLE_LOA)),
            tags={"purpose": "sender-id-registration"},
        )
        cdk.CfnOutput(self, "LetterOfAuthorizationId", value=letter.attachment_id)
        cdk.CfnOutput(self, "LetterOfAuthorizationArn", value=letter.attachment_arn)


app = cdk.App()
SmsRegistrationExampleStack(app, "SmsRegistrationExample")
app.synth()
