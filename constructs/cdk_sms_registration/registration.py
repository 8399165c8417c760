"""The ``Registration`` construct and its imported counterpart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import jsii
from aws_cdk import (
    Annotations,
    CfnDeletionPolicy,
    CfnResource,
    ITaggableV2,
    RemovalPolicy,
    Resource,
    Stack,
    TagManager,
    Token,
)
from aws_cdk import aws_events as events
from constructs import Construct, IValidation, Node

from cdk_sms_registration_handler import registration_contract as contract
from cdk_sms_registration_handler.registration_contract import (
    FieldValue,
    RegistrationValidationError,
)
from cdk_sms_registration_handler.registration_rules import problem_lines

from .attachment import SERVICE_TIMEOUT_SECONDS, IRegistrationAttachment, RegistrationAttachment
from .brand_profile import BrandAttributeValue, IBrandProfile
from .definitions import RegistrationDefinitions
from .late_checks import LateValidation, SynthTags, check_removal_policy
from .provider import RegistrationAttachmentProvider, service_token_problem
from .source import AttachmentSource
from .status_events import status_change_rule

#: The id of the warning that a retained registration references an attachment that is deleted.
KEPT_REFERENCE_WARNING = "cdk-sms-registration:retainedRegistrationReferencesDeletedAttachment"

#: What a field of ``Registration(fields=...)`` may be.
FieldInput = str | Sequence[str] | IRegistrationAttachment | AttachmentSource | BrandAttributeValue


@runtime_checkable
class IRegistration(Protocol):
    """A registration, made in this stack or elsewhere."""

    @property
    def node(self) -> Node:
        """The construct tree node."""
        ...

    @property
    def registration_id(self) -> str:
        """The registration's ID."""
        ...

    @property
    def registration_arn(self) -> str:
        """The registration's ARN (for IAM policies)."""
        ...

    def on_status_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule for this registration's status changes."""
        ...


def _registration_arn(scope: Construct, registration_id: str) -> str:
    return Stack.of(scope).format_arn(
        service="sms-voice", resource="registration", resource_name=registration_id
    )


class _ImportedRegistration(Resource):
    def __init__(self, scope: Construct, construct_id: str, registration_id: str) -> None:
        super().__init__(scope, construct_id)
        self._registration_id = registration_id

    @property
    def registration_id(self) -> str:
        return self._registration_id

    @property
    def registration_arn(self) -> str:
        return _registration_arn(self, self._registration_id)

    def on_status_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        description: str | None = None,
    ) -> events.Rule:
        return status_change_rule(
            self, id, self._registration_id, target=target, description=description
        )


@jsii.implements(IValidation)
class _ProfileValueProblems:
    """Fails the synth for rules that brand profile values break (under this construct)."""

    def __init__(self, problems: list[str]) -> None:
        self._problems = problems

    def validate(self) -> list[str]:
        """The problems, each naming field paths and the profile attributes."""
        return list(self._problems)


def _deleted_with_stack(resource: CfnResource) -> bool:
    """Whether CloudFormation deletes the resource when it leaves the stack."""
    return resource.cfn_options.deletion_policy in (None, CfnDeletionPolicy.DELETE)


@jsii.implements(IValidation)
class _KeptReferences:
    """Warns when a registration that is kept references an attachment that is deleted.

    Checked once aspects have run, as removal policies may be set by ``RemovalPolicies.of()``.
    When the stack is deleted, the registration stays and keeps referencing the attachment,
    so the service may refuse the attachment's deletion (DELETE_FAILED).
    """

    def __init__(self, registration: Registration) -> None:
        self._registration = registration

    def validate(self) -> list[str]:
        """No errors; a warning per such field."""
        registration = self._registration
        if _deleted_with_stack(registration._resource):
            return []
        for path, attachment in registration._attachments.items():
            resource = attachment.node.default_child
            if isinstance(resource, CfnResource) and _deleted_with_stack(resource):
                Annotations.of(registration).add_warning_v2(
                    KEPT_REFERENCE_WARNING,
                    f'fields["{path}"]: this registration is retained, but the attachment '
                    f"{attachment.node.path} it references is deleted with the stack, which "
                    "the service may refuse while the registration references it; give the "
                    "attachment removal_policy=RemovalPolicy.RETAIN too",
                )
        return []


def _unresolved(value: object) -> bool:
    """Whether a value (or any item of a list) is only known at deploy time."""
    if isinstance(value, (list, tuple)):
        return Token.is_unresolved(value) or any(Token.is_unresolved(item) for item in value)
    return Token.is_unresolved(value)


@jsii.implements(ITaggableV2)
class Registration(Resource):
    """A registration whose fields, associations and submission are declared in the stack.

    Example::

        opt_in = RegistrationAttachment(
            self, "OptIn", source=AttachmentSource.from_file("opt-in.png"),
            removal_policy=RemovalPolicy.RETAIN,  # the retained registration references it
        )
        Registration(
            self, "TollFree",
            registration_type="US_TOLL_FREE_REGISTRATION",
            fields={
                "companyInfo.companyName": "Example Corp",
                "messagingUseCase.monthlyMessageVolume": "10,000",
                "messagingUseCase.useCaseCategory": ["ACCOUNT_NOTIFICATIONS"],
                "messagingUseCase.optInImage": opt_in,
            },
            associations=[toll_free_number_id],
            submit=True,
        )

    Field values hold personal and business data: the handler never puts them in a FAILED
    reason, in the response Data or in its logs (field paths only).
    """

    @staticmethod
    def from_registration_id(
        scope: Construct, construct_id: str, registration_id: str
    ) -> IRegistration:
        """Refer to a registration made outside this stack by its ID."""
        if not Token.is_unresolved(registration_id):
            contract.check_resource_id(registration_id, "registration_id", "a registration ID")
        return _ImportedRegistration(scope, construct_id, registration_id)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registration_type: str,
        fields: Mapping[str, FieldInput] | None = None,
        associations: Sequence[str] | None = None,
        submit: bool = False,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
        service_token: str | None = None,
        definitions: RegistrationDefinitions | None = None,
        brand_profile: IBrandProfile | None = None,
        smart_match: bool | None = None,
    ) -> None:
        """Declare a registration.

        :param registration_type: like ``US_TOLL_FREE_REGISTRATION``; changing it replaces
            the registration.
        :param fields: field path -> value. A ``str`` is a TEXT value, or a single choice when
            the service defines the field as SELECT; a list or tuple of ``str`` is SELECT
            choices; a ``RegistrationAttachment`` (or any ``IRegistrationAttachment``) is an
            ATTACHMENT; an ``AttachmentSource`` makes a child ``RegistrationAttachment`` for
            the field, with the registration's removal policy; ``profile.attribute(name)``
            of a ``BrandProfile`` is that attribute's text, or its document as an
            ATTACHMENT. Checked on deploy, before any
            write, against the service's own field definitions.
        :param associations: resource IDs (phone number, sender ID or registration) to
            associate before submitting.
        :param submit: submit the registration for review once its fields are written. A
            deploy never waits for a review.
        :param tags: tags on the registration; ``Tags.of()`` tags are added, these win.
        :param removal_policy: RETAIN (default) keeps the registration when it leaves the
            stack or is replaced; DESTROY deletes it (the service refuses while under review).
        :param service_token: a shared provider's ServiceToken (``import_service_token()``)
            instead of the stack's own provider.
        :param definitions: a snapshot of the service's definitions
            (``RegistrationDefinitions.from_file``, written by ``python -m cdk_sms_registration
            definitions``): the fields are then checked at synth by the rules the handler
            applies on deploy, and every bad field fails the synth. Values known only on deploy
            (tokens) are skipped. Without it, the fields are checked on deploy only.
        :param brand_profile: a ``BrandProfile`` (or ``BrandProfile.from_brand_profile_id``):
            the service makes the draft prefilled from it (CreateRegistrationsFromBrandProfile),
            on Create only; the declared ``fields`` are then written over the draft. Before
            associating and submitting, the handler checks the whole draft against the live
            definitions, so a REQUIRED field the service did not fill fails the deploy, naming
            its path. What the service maps is its own (docs/brand-profiles.md).
        :param smart_match: with ``brand_profile``: the service's semantic field mapping
            (default True); False maps only what matches exactly.
        """
        super().__init__(scope, construct_id)
        where = self.node.path
        if not Token.is_unresolved(registration_type):
            contract.check_registration_type(registration_type, f"{where}: registration_type")
        if not isinstance(submit, bool):
            raise RegistrationValidationError(f"{where}: submit must be True or False")
        policy = RemovalPolicy.RETAIN if removal_policy is None else removal_policy
        check_removal_policy(where, policy, RegistrationValidationError)
        self._tags = SynthTags(contract, tags, property_name=f"{where}: tags")
        #: Attachments of this app the fields reference, by field path.
        self._attachments: dict[str, RegistrationAttachment] = {}
        #: Fields whose value is a brand profile's attribute, by field path.
        self._from_profiles: dict[str, BrandAttributeValue] = {}
        #: Rule problems of profile values: reported at synth with every other registration's.
        self._profile_problems: list[str] = []
        rendered_fields = [
            self._field(path, value, policy) for path, value in (fields or {}).items()
        ]
        rendered_associations = self._associations(associations or ())
        if smart_match is not None and brand_profile is None:
            raise RegistrationValidationError(
                f"{where}: smart_match needs brand_profile= (the profile the service prefills "
                "the draft from)"
            )
        if smart_match is not None and not isinstance(smart_match, bool):
            raise RegistrationValidationError(f"{where}: smart_match must be True or False")
        if brand_profile is not None and not hasattr(brand_profile, "brand_profile_id"):
            raise RegistrationValidationError(
                f"{where}: brand_profile must be a BrandProfile or "
                "BrandProfile.from_brand_profile_id(...), not a "
                f"{type(brand_profile).__name__}"
            )
        if definitions is not None:
            self._check_definitions(
                definitions,
                registration_type,
                fields or {},
                submit,
                prefilled=brand_profile is not None,
            )

        problem = service_token_problem(self.node.path, service_token)
        if problem is not None:
            raise RegistrationValidationError(problem)
        provider = None if service_token else RegistrationAttachmentProvider.of(self)
        if provider is not None:
            provider.enable_registrations()
            service_token = provider.service_token
        properties: dict[str, Any] = {
            contract.SERVICE_TOKEN: service_token,
            contract.SERVICE_TIMEOUT: SERVICE_TIMEOUT_SECONDS,
            contract.REGISTRATION_TYPE: registration_type,
            contract.FIELDS: rendered_fields,
            contract.SUBMIT: submit,
            contract.TAGS: self._tags,
        }
        if rendered_associations:
            properties[contract.ASSOCIATIONS] = rendered_associations
        if brand_profile is not None:
            properties[contract.BRAND_PROFILE_ID] = brand_profile.brand_profile_id
            properties[contract.SMART_MATCH] = True if smart_match is None else smart_match
            if provider is not None:
                provider.enable_prefill()
        self._resource = CfnResource(
            self, "Resource", type=contract.RESOURCE_TYPE, properties=properties
        )
        if policy is not RemovalPolicy.DESTROY:
            self._resource.apply_removal_policy(policy)
        if provider is not None:
            # A Delete must never run after the handler's permissions are gone.
            self._resource.add_resource_dependency(provider.policy_resource)
        self.node.add_validation(LateValidation(self._tags, self._resource))
        self.node.add_validation(_KeptReferences(self))
        self.node.add_validation(_ProfileValueProblems(self._profile_problems))

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Set the removal policy after construction: RETAIN, DESTROY or RETAIN_ON_UPDATE_OR_DELETE.

        SNAPSHOT is refused, as in the constructor: a registration has no snapshot. The
        attachments made from an ``AttachmentSource`` field get the same policy: they share the
        registration's fate.
        """
        check_removal_policy(self.node.path, policy, RegistrationValidationError)
        super().apply_removal_policy(policy)
        for child in self.node.children:
            if isinstance(child, RegistrationAttachment):  # made for an AttachmentSource field
                child.apply_removal_policy(policy)

    def _field(self, path: str, value: object, policy: RemovalPolicy) -> dict[str, Any]:
        """One entry of the Fields property; errors name the field path, never the value."""
        where = f'{self.node.path}: fields["{path}"]'
        if not Token.is_unresolved(path):
            contract.check_field_path(path, where)
        if isinstance(value, BrandAttributeValue):
            # The profile's value itself: a change to it is an Update of this registration.
            self._from_profiles[path] = value
            if value.source is not None:
                return self._field(path, value.source, policy)
            try:
                return self._field(path, value.text, policy)
            except RegistrationValidationError as error:
                raise RegistrationValidationError(f"{error} (from {value.described})") from None
        if isinstance(value, AttachmentSource):
            # The attachment shares the registration's fate: a retained registration keeps
            # referencing it, so it must not be deleted either.
            child = RegistrationAttachment(self, path, source=value, removal_policy=policy)
            self._attachments[path] = child
            return {contract.FIELD_PATH: path, contract.FIELD_ATTACHMENT_ID: child.attachment_id}
        if isinstance(value, str):
            if not Token.is_unresolved(value):
                contract.check_text(value, where)
                if _looks_like_a_document(value):
                    # The value is the user's data: the warning says what it looks like only.
                    Annotations.of(self).add_warning_v2(
                        "cdk-sms-registration:text-looks-like-a-file",
                        f'fields["{path}"]: the text looks like a local file path or an s3:// '
                        "URL, and a str is sent as TEXT. For an ATTACHMENT field give "
                        'AttachmentSource.from_file("...") or AttachmentSource.from_bucket(bucket, '
                        '"key"); pass definitions= to have the field\'s kind checked',
                    )
            return {contract.FIELD_PATH: path, contract.FIELD_TEXT: value}
        if isinstance(value, (list, tuple)):
            if not all(isinstance(item, str) for item in value):
                raise RegistrationValidationError(
                    f'{where}: choices must all be strings (give numbers as text, like "10,000")'
                )
            if not _unresolved(value):
                contract.check_choices(list(value), where)
            return {contract.FIELD_PATH: path, contract.FIELD_CHOICES: list(value)}
        if isinstance(value, IRegistrationAttachment):
            if isinstance(value, RegistrationAttachment):
                self._attachments[path] = value
            return {contract.FIELD_PATH: path, contract.FIELD_ATTACHMENT_ID: value.attachment_id}
        raise RegistrationValidationError(
            f"{where}: a {type(value).__name__} is not a field value; give a str (text, or one "
            "choice), a list of str (choices), a RegistrationAttachment or an AttachmentSource"
        )

    def _check_definitions(
        self,
        definitions: RegistrationDefinitions,
        registration_type: str,
        fields: Mapping[str, FieldInput],
        submit: bool,
        *,
        prefilled: bool = False,
    ) -> None:
        """The handler's field rules at synth; raises naming every bad field (never a value).

        ``prefilled``: the service fills the draft from a brand profile, so REQUIRED fields
        not declared are left to it (checked on deploy, before the submit) and only warned of.
        """
        where = self.node.path
        if not isinstance(definitions, RegistrationDefinitions):
            raise RegistrationValidationError(
                f"{where}: definitions must be a RegistrationDefinitions "
                "(RegistrationDefinitions.from_file(path))"
            )
        if Token.is_unresolved(registration_type):
            return  # the type is known only on deploy: the handler checks then
        try:
            definitions.of(registration_type)
        except RegistrationValidationError as error:
            raise RegistrationValidationError(f"{where}: {error}") from None
        values: dict[str, FieldValue] = {}
        unknown: list[str] = []
        for path, value in fields.items():
            if Token.is_unresolved(path):
                continue
            if isinstance(value, BrandAttributeValue):
                value = value.source if value.source is not None else str(value.text)
            if isinstance(value, (AttachmentSource, IRegistrationAttachment)):
                values[path] = FieldValue(path, attachment_id="attachment")
            elif isinstance(value, str):
                values[path] = FieldValue(path, text=value)
            else:
                values[path] = FieldValue(path, choices=tuple(str(v) for v in value))
            if not isinstance(value, (AttachmentSource, IRegistrationAttachment)) and _unresolved(
                value
            ):
                unknown.append(path)
        if definitions.is_sample:
            Annotations.of(self).add_warning_v2(
                "cdk-sms-registration:sample-definitions",
                f"{registration_type} is checked against the SAMPLE definitions shipped with "
                "the package, not your account's: before submitting, snapshot yours with "
                f"`python -m cdk_sms_registration definitions {registration_type} --output "
                "FILE` and pass RegistrationDefinitions.from_file(FILE)",
            )
        if prefilled and submit:
            left = [
                p.path
                for p in definitions.check(registration_type, values, submit=True, unknown=unknown)
                if p.path not in values
            ]
            if left:
                Annotations.of(self).add_warning_v2(
                    "cdk-sms-registration:left-to-prefill",
                    f"{len(left)} REQUIRED field{'s are' if len(left) != 1 else ' is'} not "
                    f"declared and left to the brand profile's prefill: {', '.join(left)}; "
                    "the deploy fails before submitting if the service does not fill them",
                )
        problems = definitions.check(
            registration_type, values, submit=submit and not prefilled, unknown=unknown
        )
        if problems:
            count = len({problem.path for problem in problems})
            lines = [
                f"{line} (from {self._from_profiles[problem.path].described})"
                if problem.path in self._from_profiles
                else line
                for problem, line in zip(problems, problem_lines(problems), strict=True)
            ]
            details = "\n".join(f"  {line}" for line in lines)
            message = (
                f"{count} field{'s break' if count != 1 else ' breaks'} the rules of "
                f"{registration_type} (definitions from {definitions.source}, "
                f"{definitions.region}, taken {definitions.taken_at}):\n{details}"
            )
            if any(problem.path in self._from_profiles for problem in problems):
                # One bad profile value breaks every registration that uses it: reported at
                # synth for each of them together, not only for the first one constructed.
                self._profile_problems.append(message)
                return
            raise RegistrationValidationError(f"{where}: {message}")

    def _associations(self, associations: Sequence[str]) -> list[str]:
        where = f"{self.node.path}: associations"
        if isinstance(associations, str) or not isinstance(associations, (list, tuple)):
            raise RegistrationValidationError(f"{where}: must be a list of resource IDs")
        for position, resource in enumerate(associations, start=1):
            if Token.is_unresolved(resource):
                continue
            if isinstance(resource, str) and resource.startswith("+"):
                raise RegistrationValidationError(
                    f"{where}[{position}]: {resource!r} is a phone number; an association "
                    "takes the number's ID (phone-...) or ARN: find it with `aws "
                    "pinpoint-sms-voice-v2 describe-phone-numbers` or use a "
                    "CfnPhoneNumber's attr_phone_number_id"
                )
            contract.check_resource_id(resource, f"{where}[{position}]")
        contract.check_unique(
            (r for r in associations if not Token.is_unresolved(r)), where, "resource"
        )
        return list(associations)

    @property
    def cdk_tag_manager(self) -> TagManager:
        """Where ``Tags.of()`` puts the tags applied to this registration or its parents."""
        return self._tags.tag_manager

    @property
    def registration_id(self) -> str:
        """The registration's ID (``Ref``)."""
        return self._resource.ref

    @property
    def registration_arn(self) -> str:
        """The registration's ARN (``Fn::GetAtt RegistrationArn``)."""
        return self._resource.get_att(contract.ATTR_ARN).to_string()

    @property
    def registration_status(self) -> str:
        """The registration status at the last deploy (``Fn::GetAtt RegistrationStatus``)."""
        return self._resource.get_att(contract.ATTR_STATUS).to_string()

    @property
    def version_number(self) -> str:
        """The current version number at the last deploy (``Fn::GetAtt VersionNumber``)."""
        return self._resource.get_att(contract.ATTR_VERSION_NUMBER).to_string()

    @property
    def version_status(self) -> str:
        """The current version's status at the last deploy (``Fn::GetAtt VersionStatus``)."""
        return self._resource.get_att(contract.ATTR_VERSION_STATUS).to_string()

    def on_status_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule for this registration's ``Registration Status Change`` events.

        Matches source ``aws.sms-voice``, detail-type ``Registration Status Change`` and
        ``detail.registrationDetails.registrationId`` = this registration's ID, on the default
        event bus; ``target`` (optional) is added to it. Like ``on_cloud_trail_event``. The
        event's ``detail.registrationDetails.currentStatus`` is the new status. Delivery is
        best effort: ``python -m cdk_sms_registration status`` is the source of truth.
        """
        return status_change_rule(
            self, id, self.registration_id, target=target, description=description
        )


def _looks_like_a_document(text: str) -> bool:
    """Whether a TEXT value looks like a document reference (s3:// URL or a document's path)."""
    stripped = text.strip()
    if stripped.lower().startswith("s3://"):
        return True
    return (
        " " not in stripped
        and "://" not in stripped
        and stripped.lower().endswith((".pdf", ".png", ".jpg", ".jpeg"))
    )
