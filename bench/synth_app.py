"""One synth of N attachments by one contender; run in a fresh process by ``synth_scale``.

Usage: python -m bench.synth_app CONTENDER N DOCUMENTS_DIR OUTDIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import custom_resources as cr

from cdk_sms_registration import AttachmentSource, RegistrationAttachment

ENV = cdk.Environment(account="123456789012", region="us-east-1")


def this_construct(stack: cdk.Stack, index: int, document: Path) -> None:
    RegistrationAttachment(stack, f"Doc{index}", source=AttachmentSource.from_file(str(document)))


def native_l1(stack: cdk.Stack, index: int, document: Path) -> None:
    asset = s3_assets.Asset(stack, f"Asset{index}", path=str(document))
    smsvoice.CfnRegistrationAttachment(
        stack, f"Doc{index}", attachment_url=f"s3://{asset.s3_bucket_name}/{asset.s3_object_key}"
    )


def aws_custom_resource(stack: cdk.Stack, index: int, document: Path) -> None:
    asset = s3_assets.Asset(stack, f"Asset{index}", path=str(document))
    cr.AwsCustomResource(
        stack,
        f"Doc{index}",
        on_create=cr.AwsSdkCall(
            service="PinpointSMSVoiceV2",
            action="createRegistrationAttachment",
            parameters={"AttachmentUrl": f"s3://{asset.s3_bucket_name}/{asset.s3_object_key}"},
            physical_resource_id=cr.PhysicalResourceId.from_response("RegistrationAttachmentId"),
        ),
        on_delete=cr.AwsSdkCall(
            service="PinpointSMSVoiceV2",
            action="deleteRegistrationAttachment",
            parameters={"RegistrationAttachmentId": cr.PhysicalResourceIdReference()},
        ),
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [
                iam.PolicyStatement(
                    actions=[
                        "sms-voice:CreateRegistrationAttachment",
                        "sms-voice:DeleteRegistrationAttachment",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
                ),
            ]
        ),
    )


CONTENDERS = {
    "this-construct": this_construct,
    "native-l1": native_l1,
    "aws-custom-resource": aws_custom_resource,
}


def main(contender: str, count: int, documents: Path, outdir: Path) -> None:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Bench", env=ENV)
    add = CONTENDERS[contender]
    for index in range(count):
        add(stack, index, documents / f"document-{index:04}.pdf")
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
