"""One provider per account and region, for hand-written templates and many stacks.

The stack exports the handler's ARN as a ServiceToken, so any template can declare
``Type: Custom::SmsRegistrationAttachment`` with ``ServiceToken: !ImportValue <export>``. It
cannot know the documents in advance, so what it may read is a deploy-time parameter: nothing
is readable unless listed, never ``s3:*`` nor every bucket.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import CfnCondition, CfnOutput, CfnParameter, Fn, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .nag import acknowledge_wildcard_resource
from .provider import RegistrationAttachmentProvider

#: The export holding the shared provider's ServiceToken (the Lambda function ARN).
SERVICE_TOKEN_EXPORT_NAME = "SmsRegistrationAttachmentServiceToken"


def import_service_token(export_name: str = SERVICE_TOKEN_EXPORT_NAME) -> str:
    """The shared provider's ServiceToken, for ``RegistrationAttachment(service_token=...)``."""
    return Fn.import_value(export_name)


class SharedProviderStack(Stack):
    """The handler once per account and region, with its ServiceToken exported.

    Parameters (set with ``cdk deploy --parameters NAME=VALUE``):

    - ``ReadableObjectArns``: comma-separated S3 object ARNs the handler may read, wildcards
      only after the bucket name (``arn:aws:s3:::my-bucket/registrations/*``). Required.
    - ``DecryptKeyArns``: comma-separated KMS key ARNs of SSE-KMS buckets; empty for none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        export_name: str = SERVICE_TOKEN_EXPORT_NAME,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        readable = CfnParameter(
            self,
            "ReadableObjectArns",
            type="CommaDelimitedList",
            description="S3 object ARNs the handler may read, comma-separated; wildcards only "
            "after the bucket name (arn:aws:s3:::my-bucket/registrations/*)",
            allowed_pattern=r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$",
            constraint_description="each entry is arn:<partition>:s3:::<bucket>/<key or prefix*>",
        )
        keys = CfnParameter(
            self,
            "DecryptKeyArns",
            type="CommaDelimitedList",
            default="",
            description="KMS key ARNs of SSE-KMS buckets, comma-separated (empty for none)",
        )
        # Any template of the account may use this provider: it may describe any of its stacks
        # (read-only), to tell whether CloudFormation still waits for a request.
        every_stack = self.format_arn(service="cloudformation", resource="stack", resource_name="*")
        provider = RegistrationAttachmentProvider(
            self, "SmsRegistrationAttachmentProvider", readable_stacks=[every_stack]
        )
        acknowledge_wildcard_resource(
            provider.policy,
            every_stack,
            "the shared provider serves templates of every stack in its account and region; it "
            "only describes a request's own stack (read-only) to tell whether it is still awaited",
        )
        # Hand-written templates may declare Custom::SmsRegistration and Custom::SmsBrandProfile
        # with the same token.
        provider.enable_registrations()
        provider.enable_brand_profiles()
        provider.policy.add_statements(
            iam.PolicyStatement(
                sid="ReadListedDocuments",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=readable.value_as_list,
            )
        )
        has_keys = CfnCondition(
            self,
            "HasDecryptKeys",
            expression=Fn.condition_not(Fn.condition_equals(Fn.join("", keys.value_as_list), "")),
        )
        decrypt = iam.Policy(
            self,
            "DecryptPolicy",
            roles=[provider.role],
            statements=[
                iam.PolicyStatement(
                    sid="DecryptListedKeys",
                    actions=["kms:Decrypt"],
                    resources=keys.value_as_list,
                )
            ],
        )
        cast(iam.CfnPolicy, decrypt.node.default_child).cfn_options.condition = has_keys

        self.service_token = provider.service_token
        CfnOutput(
            self,
            "ServiceToken",
            value=provider.service_token,
            export_name=export_name,
            description="ServiceToken for Custom::SmsRegistrationAttachment and "
            "Custom::SmsRegistration",
        )
