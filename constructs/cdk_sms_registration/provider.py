"""The stack's one handler for ``Custom::SmsRegistrationAttachment``: function, role, policy.

Every attachment in a stack shares it. The first attachment creates it; later ones only add
what they read to its policy, in a form whose size stays bounded (see README, IAM).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import jsii
from aws_cdk import Aws, Duration, RemovalPolicy, Stack, TagManager, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IValidation

from cdk_sms_registration_handler.registration_contract import OWNER_TAG_KEY
from cdk_sms_registration_handler.resource_contract import SOURCE_TAG_KEY

from .handler_asset import ARCHITECTURE, HANDLER, RUNTIME, handler_code
from .nag import acknowledge_wildcard_resource
from .source import BoundSource

#: Never rename: the function's logical ID derives from it, and a custom resource's
#: ServiceToken can never change once deployed.
PROVIDER_ID = "SmsRegistrationAttachmentProvider"
_PROVIDER_ATTRIBUTE = "_cdk_sms_registration_provider"

#: Covers the longest path: throttled Create, a 300 s upload wait, a throttled cleanup Delete.
HANDLER_TIMEOUT_SECONDS = 900
HANDLER_TIMEOUT = Duration.seconds(HANDLER_TIMEOUT_SECONDS)
#: How long CloudFormation waits for an answer (each resource's ServiceTimeout property).
SERVICE_TIMEOUT_SECONDS = 1200
#: Lambda retries an invocation that crashed or timed out, but only while the event is younger
#: than this: the last possible invocation then ends before ServiceTimeout (age + timeout, and
#: a minute for CloudFormation's own invoke), so no invocation runs after CloudFormation gave up.
MAX_EVENT_AGE = Duration.seconds(SERVICE_TIMEOUT_SECONDS - HANDLER_TIMEOUT_SECONDS - 60)
RETRY_ATTEMPTS = 2
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

#: IAM's limit for all inline policies of one role together, in characters.
IAM_INLINE_POLICY_LIMIT = 10_240
#: Generous room for everything but per-object grants (measured: about 2,050 characters).
FIXED_POLICY_CHARS = 3_000
#: The registration statements, added only to stacks with registrations (measured: about
#: 2,850 characters as the template holds them, before CloudFormation resolves the ARNs).
REGISTRATION_POLICY_CHARS = 3_500
#: The brand profile statements, added only to stacks with a brand profile (measured: about
#: 2,100 characters as the template holds them).
BRAND_PROFILE_POLICY_CHARS = 2_500
#: Unresolved bucket names are estimated at S3's maximum length, keys at a long path.
_TOKEN_BUCKET_CHARS = 63
_TOKEN_KEY_CHARS = 200

#: Reads stay unconditioned, so that an attachment that is gone still reads as not found.
READ_ACTIONS = [
    "sms-voice:DescribeRegistrationAttachments",
    "sms-voice:ListTagsForResource",
]
#: Writes only on attachments that carry the handler's source tag.
WRITE_ACTIONS = [
    "sms-voice:DeleteRegistrationAttachment",
    "sms-voice:TagResource",
    "sms-voice:UntagResource",
]
#: Read-only questions to CloudFormation: is this request still awaited?
CLOUDFORMATION_READ_ACTIONS = [
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackResource",
]

#: Registration reads (``registration/*``) stay unconditioned, like attachment reads.
REGISTRATION_READ_ACTIONS = [
    "sms-voice:DescribeRegistrations",
    "sms-voice:DescribeRegistrationVersions",
    "sms-voice:DescribeRegistrationFieldValues",
    "sms-voice:ListRegistrationAssociations",
    "sms-voice:ListTagsForResource",
]
#: Registration writes only on registrations that carry the handler's owner tag. TagResource
#: has a statement of its own (the owner tag is never rewritten) and so has
#: CreateRegistrationAssociation (authorized against the associated resource too).
REGISTRATION_WRITE_ACTIONS = [
    "sms-voice:PutRegistrationFieldValue",
    "sms-voice:DeleteRegistrationFieldValue",
    "sms-voice:SubmitRegistrationVersion",
    "sms-voice:CreateRegistrationVersion",
    "sms-voice:DiscardRegistrationVersion",
    "sms-voice:DeleteRegistration",
    "sms-voice:UntagResource",
]
#: Brand profile reads (``brand-profile/*``) stay unconditioned, like the other reads.
BRAND_PROFILE_READ_ACTIONS = [
    "end-user-messaging:GetBrandProfile",
    "end-user-messaging:ListBrandProfileAttributes",
    "end-user-messaging:GetBrandProfileAttribute",
    "end-user-messaging:ListTagsForResource",
]
#: Brand profile writes only on profiles that carry the handler's owner tag; TagResource has
#: statements of its own (the owner tag is set once, at create, and never rewritten).
BRAND_PROFILE_WRITE_ACTIONS = [
    "end-user-messaging:UpdateBrandProfile",
    "end-user-messaging:DeleteBrandProfile",
    "end-user-messaging:CreateBrandProfileAttributes",
    "end-user-messaging:UpdateBrandProfileAttribute",
    "end-user-messaging:DeleteBrandProfileAttribute",
    "end-user-messaging:UntagResource",
]
#: What a registration may be associated with, besides another owner-tagged registration: the
#: Service Authorization Reference lists PhoneNumber (and RcsAgent, which the handler does not
#: associate) as resources of CreateRegistrationAssociation; sender-id is granted in case the
#: service authorizes a sender ID association against it too.
ASSOCIATED_RESOURCE_TYPES = ("phone-number", "sender-id")
#: Field definitions have no resource type: IAM takes only Resource "*" for them.
REGISTRATION_DEFINITION_ACTIONS = [
    "sms-voice:DescribeRegistrationFieldDefinitions",
    "sms-voice:DescribeRegistrationSectionDefinitions",
    "sms-voice:DescribeRegistrationTypeDefinitions",
]


def service_token_problem(where: str, service_token: object) -> str | None:
    """What is wrong with a ``service_token`` prop (None when it is a string or not given).

    A Function or a provider object instead of its ARN would otherwise surface as a jsii
    ``CircularReferenceDetected`` trace deep inside synth.
    """
    if service_token is None or isinstance(service_token, str):
        return None
    arn = next(
        (name for name in ("function_arn", "service_token") if hasattr(service_token, name)),
        None,
    )
    hint = f" (this one's is .{arn})" if arn else ""
    return (
        f"{where}: service_token must be a string, the provider function's ARN{hint}: "
        f"import_service_token() or function.function_arn, not a {type(service_token).__name__}"
    )


class RegistrationAttachmentProvider(Construct):
    """The Lambda function behind every registration attachment of one stack."""

    @classmethod
    def of(cls, scope: Construct) -> RegistrationAttachmentProvider:
        """The provider of ``scope``'s stack, created on first use."""
        stack = Stack.of(scope)
        # Remembered on the stack object itself: every call into the CDK costs a round trip to
        # its Node.js process, and a stack may hold hundreds of attachments.
        provider = getattr(stack, _PROVIDER_ATTRIBUTE, None)
        if provider is None:
            existing = stack.node.try_find_child(PROVIDER_ID)
            provider = existing if isinstance(existing, cls) else cls(stack, PROVIDER_ID)
            setattr(stack, _PROVIDER_ATTRIBUTE, provider)
        return cast(RegistrationAttachmentProvider, provider)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        readable_stacks: Sequence[str] | None = None,
    ) -> None:
        """Create the provider; ``readable_stacks``: stack ARNs it may describe (its own stack).

        Use ``RegistrationAttachmentProvider.of(stack)``; ``SharedProviderStack`` passes every
        stack of its account and region.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates and deletes SMS registration attachments for CloudFormation",
        )
        log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.policy = iam.Policy(self, "Policy", roles=[self.role])
        attachments_arn = stack.format_arn(
            service="sms-voice", resource="registration-attachment", resource_name="*"
        )
        source_tagged = {"Null": {f"aws:ResourceTag/{SOURCE_TAG_KEY}": "false"}}
        # Tag-on-create as narrow as IAM allows: the request carries the source tag and the
        # resource does not carry one yet. IAM cannot tell a create from a later TagResource,
        # but this way the grant never re-marks an attachment that is already marked.
        source_on_create = {
            "Null": {
                f"aws:RequestTag/{SOURCE_TAG_KEY}": "false",
                f"aws:ResourceTag/{SOURCE_TAG_KEY}": "true",
            }
        }
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
            # CreateRegistrationAttachment has no resource type, so IAM only takes "*" here. The
            # condition narrows it to requests carrying the handler's source-fingerprint tag.
            iam.PolicyStatement(
                sid="CreateTaggedAttachments",
                actions=["sms-voice:CreateRegistrationAttachment"],
                resources=["*"],
                conditions={"Null": {f"aws:RequestTag/{SOURCE_TAG_KEY}": "false"}},
            ),
            # Tagging on create needs TagResource too, on the new (still untagged) attachment.
            iam.PolicyStatement(
                sid="TagOnCreate",
                actions=["sms-voice:TagResource"],
                resources=[attachments_arn],
                conditions=source_on_create,
            ),
            iam.PolicyStatement(
                sid="ReadAttachments", actions=READ_ACTIONS, resources=[attachments_arn]
            ),
            iam.PolicyStatement(
                sid="ChangeOwnAttachments",
                actions=WRITE_ACTIONS,
                resources=[attachments_arn],
                conditions=source_tagged,
            ),
            iam.PolicyStatement(
                sid="KeepSourceTag",
                effect=iam.Effect.DENY,
                actions=["sms-voice:UntagResource"],
                resources=[attachments_arn],
                conditions={"ForAnyValue:StringEquals": {"aws:TagKeys": [SOURCE_TAG_KEY]}},
            ),
            iam.PolicyStatement(
                sid="AskCloudFormation",
                actions=CLOUDFORMATION_READ_ACTIONS,
                resources=list(readable_stacks or [stack.stack_id]),
            ),
        )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "CreateRegistrationAttachment has no resource type, so IAM takes only Resource '*'; "
            "the Null condition on aws:RequestTag/cdk-sms-registration:source narrows it to the "
            "handler's own tagged requests",
        )
        acknowledge_wildcard_resource(
            self.policy,
            attachments_arn,
            "the service assigns attachment IDs at deploy time; the handler manages only "
            "registration attachments of this account and region",
        )
        self.function = lambda_.Function(
            self,
            "Handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=handler_code(),
            timeout=HANDLER_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=log_group,
            description="Custom::SmsRegistrationAttachment provider (cdk-sms-registration)",
        )
        self.function.configure_async_invoke(
            max_event_age=MAX_EVENT_AGE, retry_attempts=RETRY_ATTEMPTS
        )
        # Only the policy: the role dependency is already implied by the Role GetAtt, and
        # CDK's redundant DependsOn on it draws cfn-lint's W3005.
        policy_resource = cast(iam.CfnPolicy, self.policy.node.default_child)
        #: The policy's CloudFormation resource, which every attachment depends on.
        self.policy_resource = policy_resource
        function_resource = cast(lambda_.CfnFunction, self.function.node.default_child)
        function_resource.add_override("DependsOn", [stack.get_logical_id(policy_resource)])
        self._asset_reads = iam.PolicyStatement(sid="ReadDocumentAssets", actions=["s3:GetObject"])
        self._object_reads = iam.PolicyStatement(sid="ReadDocuments", actions=["s3:GetObject"])
        self._version_reads = iam.PolicyStatement(
            sid="ReadDocumentVersions", actions=["s3:GetObjectVersion"]
        )
        self._key_use = iam.PolicyStatement(sid="DecryptDocuments", actions=["kms:Decrypt"])
        self._granted: set[tuple[str, ...]] = set()
        self._partition = Aws.PARTITION
        self._service_token = self.function.function_arn
        self._object_grant_chars = 0
        self.node.add_validation(_PolicySizeValidation(self))
        self.node.add_validation(_RoleTagsValidation(self.role))

    def enable_registrations(self) -> None:
        """Let the handler manage registrations too; once, and only for stacks that have one."""
        if getattr(self, "_registrations_enabled", False):
            return
        self._registrations_enabled = True
        stack = Stack.of(self)
        registrations_arn = stack.format_arn(
            service="sms-voice", resource="registration", resource_name="*"
        )
        associated_arns = [
            stack.format_arn(service="sms-voice", resource=resource_type, resource_name="*")
            for resource_type in ASSOCIATED_RESOURCE_TYPES
        ]
        owner_tagged = {"Null": {f"aws:ResourceTag/{OWNER_TAG_KEY}": "false"}}
        self.policy.add_statements(
            # Like attachments: no resource type, so "*" narrowed to the handler's own tagged
            # requests (every registration it creates carries the owner mark).
            iam.PolicyStatement(
                sid="CreateTaggedRegistrations",
                actions=["sms-voice:CreateRegistration"],
                resources=["*"],
                conditions={"Null": {f"aws:RequestTag/{OWNER_TAG_KEY}": "false"}},
            ),
            iam.PolicyStatement(
                sid="ReadRegistrationDefinitions",
                actions=REGISTRATION_DEFINITION_ACTIONS,
                resources=["*"],
            ),
            # Tagging on create needs TagResource too, on the new (still untagged) registration:
            # the request carries the owner tag, the registration has none yet, so the grant can
            # never re-mark a registration another stack's handler owns.
            iam.PolicyStatement(
                sid="TagRegistrationOnCreate",
                actions=["sms-voice:TagResource"],
                resources=[registrations_arn],
                conditions={
                    "Null": {
                        f"aws:RequestTag/{OWNER_TAG_KEY}": "false",
                        f"aws:ResourceTag/{OWNER_TAG_KEY}": "true",
                    }
                },
            ),
            iam.PolicyStatement(
                sid="ReadRegistrations",
                actions=REGISTRATION_READ_ACTIONS,
                resources=[registrations_arn],
            ),
            iam.PolicyStatement(
                sid="ChangeOwnRegistrations",
                actions=REGISTRATION_WRITE_ACTIONS,
                resources=[registrations_arn],
                conditions=owner_tagged,
            ),
            # The handler reconciles the user's tags on registrations it owns; the owner tag
            # itself is set once, at create, and never rewritten (so never re-pointed).
            iam.PolicyStatement(
                sid="RetagOwnRegistrations",
                actions=["sms-voice:TagResource"],
                resources=[registrations_arn],
                conditions={
                    **owner_tagged,
                    "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG_KEY]},
                },
            ),
            # IAM authorizes CreateRegistrationAssociation against every resource of the
            # request: the registration and what it is associated with. Each is checked against
            # the statements on its own, so the two sides need separate statements: this one
            # for registrations (owner-tagged: the handler's own, and a brand another
            # Registration made) ...
            iam.PolicyStatement(
                sid="AssociateOwnRegistrations",
                actions=["sms-voice:CreateRegistrationAssociation"],
                resources=[registrations_arn],
                conditions=owner_tagged,
            ),
            # ... and this one for phone numbers and sender IDs, which carry no owner tag. It
            # names no registration/*: unconditioned, that would let the registration side pass
            # without the owner tag too.
            iam.PolicyStatement(
                sid="AssociateNumbersAndSenderIds",
                actions=["sms-voice:CreateRegistrationAssociation"],
                resources=associated_arns,
            ),
            iam.PolicyStatement(
                sid="KeepOwnerTag",
                effect=iam.Effect.DENY,
                actions=["sms-voice:UntagResource"],
                resources=[registrations_arn],
                conditions={"ForAnyValue:StringEquals": {"aws:TagKeys": [OWNER_TAG_KEY]}},
            ),
        )
        for arn, resource_type in zip(associated_arns, ASSOCIATED_RESOURCE_TYPES, strict=True):
            acknowledge_wildcard_resource(
                self.policy,
                arn,
                "CreateRegistrationAssociation is authorized against the associated "
                f"{resource_type} too, whose ID the deployer passes as a property; the "
                "registration side keeps the owner-tag condition",
            )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "CreateRegistrationAttachment, CreateRegistration and the registration definition "
            "reads have no resource type, so IAM takes only Resource '*'; both creates carry a "
            "Null condition on the handler's own request tag",
        )
        acknowledge_wildcard_resource(
            self.policy,
            registrations_arn,
            "the service assigns registration IDs at deploy time; the handler manages only "
            "registrations of this account and region",
        )

    def enable_brand_profiles(self) -> None:
        """Let the handler manage brand profiles too; once, only for stacks that have one."""
        if getattr(self, "_brand_profiles_enabled", False):
            return
        self._brand_profiles_enabled = True
        stack = Stack.of(self)
        profiles_arn = stack.format_arn(
            service="end-user-messaging", resource="brand-profile", resource_name="*"
        )
        owner_tagged = {"Null": {f"aws:ResourceTag/{OWNER_TAG_KEY}": "false"}}
        self.policy.add_statements(
            # CreateBrandProfile has no resource type: "*", narrowed to the handler's own
            # tagged requests (every profile it creates carries the owner mark).
            iam.PolicyStatement(
                sid="CreateTaggedBrandProfiles",
                actions=["end-user-messaging:CreateBrandProfile"],
                resources=["*"],
                conditions={"Null": {f"aws:RequestTag/{OWNER_TAG_KEY}": "false"}},
            ),
            # Tagging on create may need TagResource too, on the new, untagged profile; the
            # condition keeps it from re-marking a profile that already has an owner.
            iam.PolicyStatement(
                sid="TagBrandProfileOnCreate",
                actions=["end-user-messaging:TagResource"],
                resources=[profiles_arn],
                conditions={
                    "Null": {
                        f"aws:RequestTag/{OWNER_TAG_KEY}": "false",
                        f"aws:ResourceTag/{OWNER_TAG_KEY}": "true",
                    }
                },
            ),
            iam.PolicyStatement(
                sid="ReadBrandProfiles",
                actions=BRAND_PROFILE_READ_ACTIONS,
                resources=[profiles_arn],
            ),
            iam.PolicyStatement(
                sid="ChangeOwnBrandProfiles",
                actions=BRAND_PROFILE_WRITE_ACTIONS,
                resources=[profiles_arn],
                conditions=owner_tagged,
            ),
            iam.PolicyStatement(
                sid="RetagOwnBrandProfiles",
                actions=["end-user-messaging:TagResource"],
                resources=[profiles_arn],
                conditions={
                    **owner_tagged,
                    "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG_KEY]},
                },
            ),
            iam.PolicyStatement(
                sid="KeepBrandProfileOwnerTag",
                effect=iam.Effect.DENY,
                actions=["end-user-messaging:UntagResource"],
                resources=[profiles_arn],
                conditions={"ForAnyValue:StringEquals": {"aws:TagKeys": [OWNER_TAG_KEY]}},
            ),
        )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "CreateRegistrationAttachment, CreateRegistration, CreateBrandProfile and the "
            "registration definition reads have no resource type, so IAM takes only Resource "
            "'*'; every create carries a Null condition on the handler's own request tag",
        )
        acknowledge_wildcard_resource(
            self.policy,
            profiles_arn,
            "the service assigns brand profile IDs at deploy time; writes need the handler's "
            "owner tag",
        )

    def enable_prefill(self) -> None:
        """Let the handler prefill registration drafts from brand profiles (``brand_profile=``).

        CreateRegistrationsFromBrandProfile reads the profile and makes a registration: any
        profile of the account and region (an imported one too), since it changes none of
        them. GetJob has no resource type. The draft the job makes is marked as the
        handler's with TagResource, which TagRegistrationOnCreate already allows (an untagged
        registration, the owner tag in the request). Whether the job also needs sms-voice
        permissions of the caller is not documented: an assumption to check on a real account.
        """
        if getattr(self, "_prefill_enabled", False):
            return
        self._prefill_enabled = True
        self.enable_registrations()
        stack = Stack.of(self)
        profiles_arn = stack.format_arn(
            service="end-user-messaging", resource="brand-profile", resource_name="*"
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="PrefillFromBrandProfiles",
                actions=["end-user-messaging:CreateRegistrationsFromBrandProfile"],
                resources=[profiles_arn],
            ),
            iam.PolicyStatement(
                sid="ReadPrefillJobs", actions=["end-user-messaging:GetJob"], resources=["*"]
            ),
        )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "GetJob has no resource type, so IAM takes only Resource '*' (it reads a job)",
        )
        acknowledge_wildcard_resource(
            self.policy,
            profiles_arn,
            "a draft may be prefilled from any brand profile of the account and region, "
            "imported ones included; the call changes no profile",
        )

    @property
    def service_token(self) -> str:
        """The ServiceToken of every attachment: the function's ARN."""
        return self._service_token

    def grant_read(self, source: BoundSource) -> None:
        """Let the handler read an attachment's document."""
        if source.asset_extension is not None:
            self.grant_read_asset(source.bucket_name, source.asset_extension)
        elif source.bucket is not None:
            self.grant_read_object(
                source.bucket, source.object_key, versioned=source.version_id is not None
            )

    def grant_read_asset(self, bucket_name: str, extension: str) -> None:
        """Read file assets with this extension: one resource per extension, not per file.

        CDK names file assets ``<hash><extension>``, so ``*.pdf`` on the asset bucket covers
        every PDF asset however many attachments there are. (The bootstrap asset bucket is
        encrypted with the AWS managed key, which needs no grant.)
        """
        grant = ("asset", bucket_name, extension)
        if grant in self._granted:
            return
        resource = f"arn:{self._partition}:s3:::{bucket_name}/*{extension}"
        self._add(self._asset_reads, grant, resource)
        acknowledge_wildcard_resource(
            self.policy,
            resource,
            f"CDK names file assets <hash>{extension}: one wildcard per document extension "
            "on the asset bucket keeps the policy from growing with every attachment",
        )

    def grant_read_object(self, bucket: s3.IBucket, key: str, *, versioned: bool) -> None:
        """Read one object of an existing bucket (and its versions when one is pinned)."""
        arn = bucket.arn_for_objects(key)
        chars = _estimated_arn_chars(bucket.bucket_name, key)
        if self._add(self._object_reads, ("object", bucket.bucket_name, key), arn):
            self._object_grant_chars += chars
        if versioned and self._add(self._version_reads, ("version", bucket.bucket_name, key), arn):
            self._object_grant_chars += chars
        self._grant_key(bucket.encryption_key)

    @property
    def estimated_policy_chars(self) -> int:
        """An upper estimate of the policy's size once CloudFormation resolves it."""
        registrations = getattr(self, "_registrations_enabled", False)
        return (
            FIXED_POLICY_CHARS
            + self._object_grant_chars
            + (REGISTRATION_POLICY_CHARS if registrations else 0)
            + (BRAND_PROFILE_POLICY_CHARS if getattr(self, "_brand_profiles_enabled", False) else 0)
        )

    def _grant_key(self, key: kms.IKey | None) -> None:
        if key is not None:
            self._add(self._key_use, ("key", key.key_arn), key.key_arn)

    def _add(self, statement: iam.PolicyStatement, grant: tuple[str, ...], resource: str) -> bool:
        """Add one resource to a statement unless already granted; say whether it was added."""
        if grant in self._granted:
            return False
        if not statement.has_resource:
            self.policy.add_statements(statement)
        statement.add_resources(resource)
        self._granted.add(grant)
        return True


def _estimated_arn_chars(bucket_name: str, key: str) -> int:
    bucket = _TOKEN_BUCKET_CHARS if Token.is_unresolved(bucket_name) else len(bucket_name)
    key_chars = _TOKEN_KEY_CHARS if Token.is_unresolved(key) else len(key)
    return len('"arn:aws-us-gov:s3:::/",') + bucket + key_chars


#: IAM's limit of tags per role (the provider's role gets every Tags.of(stack) tag).
IAM_ROLE_TAG_LIMIT = 50


@jsii.implements(IValidation)
class _RoleTagsValidation:
    """Fails the synth when Tags.of() gives the provider's role more tags than IAM allows."""

    def __init__(self, role: iam.Role) -> None:
        self._role = role

    def validate(self) -> list[str]:
        rendered = TagManager.of(self._role.node.default_child)
        count = len((rendered.render_tags() if rendered else None) or [])
        if count <= IAM_ROLE_TAG_LIMIT:
            return []
        return [
            f"the provider's IAM role gets {count} tags from Tags.of(), over IAM's "
            f"{IAM_ROLE_TAG_LIMIT} per role (registrations and attachments take 199): keep "
            "the extra ones off the role with Tags.of(scope).add(key, value, "
            "exclude_resource_types=['AWS::IAM::Role'])"
        ]


@jsii.implements(IValidation)
class _PolicySizeValidation:
    """Fails the synth when from_bucket grants would overflow IAM's inline policy limit.

    The provider's policy is one inline policy; past 10,240 characters IAM refuses it at deploy
    time, after CloudFormation has started. Saying so at synth is cheaper.
    """

    def __init__(self, provider: RegistrationAttachmentProvider) -> None:
        self._provider = provider

    def validate(self) -> list[str]:
        estimate = self._provider.estimated_policy_chars
        if estimate <= IAM_INLINE_POLICY_LIMIT:
            return []
        objects = sum(1 for grant in self._provider._granted if grant[0] == "object")
        return [
            f"{objects} from_bucket objects need about {estimate} characters of IAM policy, over "
            f"the {IAM_INLINE_POLICY_LIMIT} a role's inline policies may hold: split them across "
            "stacks, or use AttachmentSource.from_file, whose permission does not grow per file"
        ]
