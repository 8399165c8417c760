#!/usr/bin/env python3
"""An attachment made in one stack whose ID feeds another (a cross-stack reference).

Run: npx cdk synth --app "python3 examples/cross_stack_app.py"
"""

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_registration import (
    AttachmentSource,
    IRegistrationAttachment,
    RegistrationAttachment,
)

SAMPLE_LOA = Path(__file__).parent / "documents" / "sample-letter-of-authorization.pdf"


class DocumentsStack(cdk.Stack):
    """Owns the attachment."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.letter = RegistrationAttachment(
            self, "LetterOfAuthorization", source=AttachmentSource.from_file(str(SAMPLE_LOA))
        )


class RegistrationStack(cdk.Stack):
    """Uses the attachment's ID: CDK exports it from DocumentsStack and imports it here."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        letter: IRegistrationAttachment,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ssm.StringParameter(
            self,
            "LetterOfAuthorizationId",
            parameter_name="/messaging/registrations/sender-id/loa-attachment-id",
            string_value=letter.attachment_id,
        )


def build(app: cdk.App) -> list[cdk.Stack]:
    """Add both stacks to ``app``, with cdk-nag's AWS Solutions pack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    documents = DocumentsStack(app, "SmsRegistrationDocuments", env=env)
    registration = RegistrationStack(
        app, "SmsRegistrationConsumer", letter=documents.letter, env=env
    )
    return [documents, registration]


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
