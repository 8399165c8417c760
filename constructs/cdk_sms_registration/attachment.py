"""The ``RegistrationAttachment`` construct and its imported counterpart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import jsii
from aws_cdk import (
    Annotations,
    CfnResource,
    ITaggableV2,
    RemovalPolicy,
    Resource,
    Stack,
    TagManager,
    Token,
)
from constructs import Construct, Node

from cdk_sms_registration_handler import resource_contract as contract
from cdk_sms_registration_handler.document_rules import (
    DEFAULT_MAX_SIZE_BYTES,
    AttachmentValidationError,
    check_max_size_setting,
)

from .late_checks import LateValidation, SynthTags, check_removal_policy
from .provider import SERVICE_TIMEOUT_SECONDS as _SERVICE_TIMEOUT
from .provider import RegistrationAttachmentProvider, service_token_problem
from .source import AttachmentSource

#: How long CloudFormation waits for the provider's answer (the function's timeout is 15 min).
SERVICE_TIMEOUT_SECONDS = str(_SERVICE_TIMEOUT)
#: The id of the warning that a shared provider must be allowed to read the asset bucket.
SHARED_PROVIDER_ASSETS_WARNING = "cdk-sms-registration:sharedProviderReadsAssetBucket"


@runtime_checkable
class IRegistrationAttachment(Protocol):
    """A registration attachment, made in this stack or elsewhere."""

    @property
    def node(self) -> Node:
        """The construct tree node."""
        ...

    @property
    def attachment_id(self) -> str:
        """The attachment's ID (for registrations' attachment fields)."""
        ...

    @property
    def attachment_arn(self) -> str:
        """The attachment's ARN (for IAM policies)."""
        ...


def _attachment_arn(scope: Construct, attachment_id: str) -> str:
    return Stack.of(scope).format_arn(
        service="sms-voice", resource="registration-attachment", resource_name=attachment_id
    )


class _ImportedRegistrationAttachment(Resource):
    def __init__(self, scope: Construct, construct_id: str, attachment_id: str) -> None:
        super().__init__(scope, construct_id)
        self._attachment_id = attachment_id

    @property
    def attachment_id(self) -> str:
        return self._attachment_id

    @property
    def attachment_arn(self) -> str:
        return _attachment_arn(self, self._attachment_id)


@jsii.implements(ITaggableV2)
class RegistrationAttachment(Resource):
    """A document uploaded with CreateRegistrationAttachment, kept in step with the stack.

    Example::

        loa = RegistrationAttachment(
            self, "LetterOfAuthorization",
            source=AttachmentSource.from_file("documents/loa.pdf"),
            tags={"team": "messaging"},
        )
        CfnOutput(self, "LoaId", value=loa.attachment_id)
    """

    @staticmethod
    def from_attachment_id(
        scope: Construct, construct_id: str, attachment_id: str
    ) -> IRegistrationAttachment:
        """Refer to an attachment made outside this stack by its ID."""
        if not Token.is_unresolved(attachment_id) and not contract.ATTACHMENT_ID_PATTERN.fullmatch(
            attachment_id
        ):
            raise AttachmentValidationError(
                f"attachment_id {attachment_id!r}: must be 1-256 characters of "
                "letters, digits, _ : / -"
            )
        return _ImportedRegistrationAttachment(scope, construct_id, attachment_id)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: AttachmentSource,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
        max_size_bytes: int | None = None,
        service_token: str | None = None,
    ) -> None:
        """Declare an attachment.

        :param source: the document, ``AttachmentSource.from_file`` or ``.from_bucket``.
        :param tags: tags on the attachment; ``Tags.of()`` tags are added, these win.
        :param removal_policy: DESTROY (default) deletes the attachment with the resource;
            RETAIN keeps it when it leaves the stack or is replaced.
        :param max_size_bytes: the size limit, default ``DEFAULT_MAX_SIZE_BYTES`` (5 MB).
        :param service_token: a shared provider's ServiceToken (``import_service_token()``)
            instead of the stack's own provider; that provider must be allowed to read the
            document (its ``ReadableObjectArns`` parameter).
        """
        super().__init__(scope, construct_id)
        if not isinstance(source, AttachmentSource):
            raise AttachmentValidationError(
                f"{self.node.path}: source must be AttachmentSource.from_file(...) or "
                ".from_bucket(...)"
            )
        if removal_policy is not None:
            check_removal_policy(self.node.path, removal_policy, AttachmentValidationError)
        size_limit = check_max_size_setting(
            DEFAULT_MAX_SIZE_BYTES if max_size_bytes is None else max_size_bytes
        )
        self._tags = SynthTags(contract, tags, property_name="tags")

        bound = source.bind(self, size_limit)
        problem = service_token_problem(self.node.path, service_token)
        if problem is not None:
            raise AttachmentValidationError(problem)
        provider = None if service_token else RegistrationAttachmentProvider.of(self)
        if provider is not None:
            provider.grant_read(bound)
            service_token = provider.service_token
        elif bound.asset_extension is not None:
            Annotations.of(self).add_warning_v2(
                SHARED_PROVIDER_ASSETS_WARNING,
                "service_token with AttachmentSource.from_file: the document is a CDK asset, "
                "which the shared provider reads only if allowed to. Include the asset bucket "
                "in its ReadableObjectArns parameter: "
                "arn:aws:s3:::cdk-<qualifier>-assets-<account>-<region>/* (the default "
                "qualifier is hnb659fds), e.g. cdk deploy SmsRegistrationAttachmentProvider "
                "--parameters ReadableObjectArns=arn:aws:s3:::cdk-hnb659fds-assets-ACCOUNT-"
                "REGION/*",
            )

        properties: dict[str, Any] = {
            contract.SERVICE_TOKEN: service_token,
            # The handler always answers before its 15-minute timeout; should it never be able
            # to (a crash at start-up), CloudFormation stops waiting after this, not an hour.
            contract.SERVICE_TIMEOUT: SERVICE_TIMEOUT_SECONDS,
            contract.ATTACHMENT_URL: f"s3://{bound.bucket_name}/{bound.object_key}",
            contract.TAGS: self._tags,
        }
        if bound.version_id is not None:
            properties[contract.ATTACHMENT_VERSION_ID] = bound.version_id
        if max_size_bytes is not None:
            properties[contract.MAX_SIZE_BYTES] = size_limit
        # A plain CfnResource, not the CustomResource L2: each call into the CDK is a round trip
        # to its Node.js process, and a stack may hold hundreds of attachments.
        self._resource = CfnResource(
            self, "Resource", type=contract.RESOURCE_TYPE, properties=properties
        )
        if removal_policy not in (None, RemovalPolicy.DESTROY):
            # Delete is CloudFormation's default and is not written: bytes saved per attachment.
            self._resource.apply_removal_policy(removal_policy)
        if provider is not None:
            # A Delete must never run after the handler's permissions are gone.
            self._resource.add_resource_dependency(provider.policy_resource)
        self.node.add_validation(LateValidation(self._tags, self._resource))

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Set the removal policy after construction: DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE.

        SNAPSHOT is refused, as in the constructor: an attachment has no snapshot.
        """
        check_removal_policy(self.node.path, policy, AttachmentValidationError)
        super().apply_removal_policy(policy)

    @property
    def cdk_tag_manager(self) -> TagManager:
        """Where ``Tags.of()`` puts the tags applied to this attachment or its parents."""
        return self._tags.tag_manager

    @property
    def attachment_id(self) -> str:
        """The attachment's ID (``Fn::GetAtt RegistrationAttachmentId``)."""
        return self._resource.get_att(contract.ATTR_ID).to_string()

    @property
    def attachment_arn(self) -> str:
        """The attachment's ARN (``Fn::GetAtt RegistrationAttachmentArn``)."""
        return self._resource.get_att(contract.ATTR_ARN).to_string()

    @property
    def attachment_status(self) -> str:
        """The status at the last deploy (``Fn::GetAtt AttachmentStatus``)."""
        return self._resource.get_att(contract.ATTR_STATUS).to_string()

    @property
    def created_timestamp(self) -> str:
        """When the attachment was created, ISO 8601 (``Fn::GetAtt CreatedTimestamp``)."""
        return self._resource.get_att(contract.ATTR_CREATED).to_string()
