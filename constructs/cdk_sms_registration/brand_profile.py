"""The ``BrandProfile`` construct, its attributes as registration field values, and imports."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import jsii
from aws_cdk import CfnResource, ITaggableV2, RemovalPolicy, Resource, Stack, TagManager, Token
from constructs import Construct, Node

from cdk_sms_registration_handler import brand_profile_contract as contract
from cdk_sms_registration_handler.brand_profile_contract import BrandProfileValidationError
from cdk_sms_registration_handler.document_rules import DocumentType

from .attachment import SERVICE_TIMEOUT_SECONDS
from .late_checks import LateValidation, SynthTags, check_removal_policy
from .provider import RegistrationAttachmentProvider, service_token_problem
from .source import AttachmentSource

#: The attribute kind a document becomes by default, by its content (a file) or key (S3).
_DEFAULT_MEDIA_KIND = {
    DocumentType.PNG: contract.IMAGE,
    DocumentType.JPEG: contract.IMAGE,
    DocumentType.PDF: contract.DOCUMENT,
}


class BrandAttribute:
    """An attribute with what a plain value cannot say: its kind, description or category.

    ``BrandAttribute("Example Corp", description="As on the tax record")``;
    ``BrandAttribute(AttachmentSource.from_file("logo.pdf"), kind="IMAGE")`` is refused (an
    IMAGE is a PNG or JPEG). By default a ``str`` is TEXT, a PNG or JPEG an IMAGE and a PDF a
    DOCUMENT.
    """

    def __init__(
        self,
        value: str | AttachmentSource,
        *,
        kind: str | None = None,
        description: str | None = None,
        category: str | None = None,
    ) -> None:
        """Declare an attribute's value and details (checked when the profile is built)."""
        self.value = value
        self.kind = kind
        self.description = description
        self.category = category

    def __repr__(self) -> str:
        # The value is business data: never in a repr, a log line or a traceback.
        return f"BrandAttribute(kind={self.kind!r})"


class BrandAttributeValue:
    """One attribute of a ``BrandProfile`` of this app, usable as a ``Registration`` field value.

    ``profile.attribute("legalName")``. A TEXT attribute becomes the field's text (or its one
    choice, for a SELECT field); an IMAGE or DOCUMENT attribute becomes a registration
    attachment of the same document. Changing the profile's value changes every registration
    that uses it, through the registration's normal Update.
    """

    def __init__(
        self,
        profile: BrandProfile,
        name: str,
        kind: str,
        text: str | None,
        source: AttachmentSource | None,
    ) -> None:
        self.profile = profile
        self.name = name
        self.kind = kind
        self._text = text
        self.source = source

    @property
    def text(self) -> str | None:
        """The TEXT attribute's value (None for IMAGE and DOCUMENT)."""
        return self._text

    @property
    def described(self) -> str:
        """How error messages name it: the profile's path and the attribute's name."""
        return f'brand profile {self.profile.node.path} attribute "{self.name}"'

    def __repr__(self) -> str:
        return f"BrandAttributeValue({self.profile.node.path!r}, {self.name!r}, {self.kind})"


@runtime_checkable
class IBrandProfile(Protocol):
    """A brand profile, made in this stack or elsewhere."""

    @property
    def node(self) -> Node:
        """The construct tree node."""
        ...

    @property
    def brand_profile_id(self) -> str:
        """The profile's ID."""
        ...

    @property
    def brand_profile_arn(self) -> str:
        """The profile's ARN (for IAM policies)."""
        ...


def _profile_arn(scope: Construct, profile_id: str) -> str:
    return Stack.of(scope).format_arn(
        service="end-user-messaging", resource="brand-profile", resource_name=profile_id
    )


class _ImportedBrandProfile(Resource):
    def __init__(self, scope: Construct, construct_id: str, profile_id: str) -> None:
        super().__init__(scope, construct_id)
        self._profile_id = profile_id

    @property
    def brand_profile_id(self) -> str:
        return self._profile_id

    @property
    def brand_profile_arn(self) -> str:
        return _profile_arn(self, self._profile_id)


@jsii.implements(ITaggableV2)
class BrandProfile(Resource):
    """A company's facts, declared once: a brand profile of AWS End User Messaging.

    Example::

        profile = BrandProfile(
            self, "Brand",
            name="example-corp",
            attributes={
                "legalName": "Example Corp",
                "website": "https://example.com",
                "logo": AttachmentSource.from_file(Path(__file__).parent / "logo.png"),
                "loa": BrandAttribute(
                    AttachmentSource.from_file(Path(__file__).parent / "loa.pdf"),
                    description="Letter of authorization",
                ),
            },
        )
        Registration(
            self, "India",
            registration_type="IN_SENDER_ID_REGISTRATION",
            fields={"companyInfo.companyName": profile.attribute("legalName")},
        )

    Attribute values are business data: the handler never puts them in a FAILED reason, in
    the response Data or in its logs (attribute names only). Documents travel from S3 through
    the handler function: each is read whole into its memory (at most 5 MB, the service's
    limit).
    """

    @staticmethod
    def from_brand_profile_id(
        scope: Construct, construct_id: str, brand_profile_id: str
    ) -> IBrandProfile:
        """Refer to a brand profile made outside this stack by its ID (``bp-...``)."""
        if not Token.is_unresolved(brand_profile_id):
            contract.check_brand_profile_id(brand_profile_id, "brand_profile_id")
        return _ImportedBrandProfile(scope, construct_id, brand_profile_id)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        attributes: Mapping[str, str | AttachmentSource | BrandAttribute],
        deletion_protection: bool = False,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy | None = None,
        service_token: str | None = None,
    ) -> None:
        """Declare a brand profile.

        :param name: the profile's name (1-64 letters, digits, spaces, _ and -); renamed in
            place.
        :param attributes: attribute name -> value: a ``str`` (TEXT), an ``AttachmentSource``
            (a PNG or JPEG becomes an IMAGE, a PDF a DOCUMENT), or a ``BrandAttribute`` for a
            kind, description or category. Names must differ ignoring case. A renamed
            attribute is deleted and created again; only changed attributes are written.
        :param deletion_protection: the service refuses to delete the profile while on; the
            stack's Delete then fails, naming the fix.
        :param tags: tags on the profile (at most 49); ``Tags.of()`` tags are added, these win.
        :param removal_policy: RETAIN (default) keeps the profile when it leaves the stack;
            DESTROY deletes it.
        :param service_token: a shared provider's ServiceToken (``import_service_token()``)
            instead of the stack's own provider; that provider must be allowed to read the
            documents (its ``ReadableObjectArns`` parameter).
        """
        super().__init__(scope, construct_id)
        where = self.node.path
        if not Token.is_unresolved(name):
            contract.check_profile_name(name, f"{where}: name")
        if not isinstance(deletion_protection, bool):
            raise BrandProfileValidationError(f"{where}: deletion_protection must be True or False")
        if not isinstance(attributes, Mapping):
            raise BrandProfileValidationError(
                f"{where}: attributes must be a mapping of attribute name -> value "
                '(like {"legalName": "Example Corp"})'
            )
        policy = RemovalPolicy.RETAIN if removal_policy is None else removal_policy
        check_removal_policy(where, policy, BrandProfileValidationError)
        self._tags = SynthTags(contract, tags, property_name=f"{where}: tags")
        contract.check_unique_names(attributes, f"{where}: attributes")

        problem = service_token_problem(where, service_token)
        if problem is not None:
            raise BrandProfileValidationError(problem)
        provider = None if service_token else RegistrationAttachmentProvider.of(self)
        self._values: dict[str, BrandAttributeValue] = {}
        rendered = [self._attribute(name, value, provider) for name, value in attributes.items()]
        if provider is not None:
            provider.enable_brand_profiles()
            service_token = provider.service_token
        properties: dict[str, Any] = {
            contract.SERVICE_TOKEN: service_token,
            contract.SERVICE_TIMEOUT: SERVICE_TIMEOUT_SECONDS,
            contract.BRAND_PROFILE_NAME: name,
            contract.ATTRIBUTES: rendered,
            contract.TAGS: self._tags,
        }
        if deletion_protection:
            properties[contract.DELETION_PROTECTION] = True
        self._resource = CfnResource(
            self, "Resource", type=contract.RESOURCE_TYPE, properties=properties
        )
        if policy is not RemovalPolicy.DESTROY:
            self._resource.apply_removal_policy(policy)
        if provider is not None:
            # A Delete must never run after the handler's permissions are gone.
            self._resource.add_resource_dependency(provider.policy_resource)
        self.node.add_validation(LateValidation(self._tags, self._resource))

    def _attribute(
        self,
        name: str,
        value: object,
        provider: RegistrationAttachmentProvider | None,
    ) -> dict[str, Any]:
        """One entry of the Attributes property; errors name the attribute, never the value."""
        where = f'{self.node.path}: attributes["{name}"]'
        contract.check_attribute_name(name, where)
        declared = value if isinstance(value, BrandAttribute) else BrandAttribute(value)  # type: ignore[arg-type]
        entry: dict[str, Any] = {contract.ATTRIBUTE_NAME: name}
        if declared.description is not None:
            entry[contract.ATTRIBUTE_DESCRIPTION] = contract.check_description(
                declared.description, f"{where} description"
            )
        if declared.category is not None:
            entry[contract.ATTRIBUTE_CATEGORY] = contract.check_category(
                declared.category, f"{where} category"
            )
        inner = declared.value
        if isinstance(inner, str):
            if declared.kind not in (None, contract.TEXT):
                raise BrandProfileValidationError(
                    f"{where}: kind {declared.kind} takes an AttachmentSource, not a str "
                    "(a str is a TEXT attribute)"
                )
            if not Token.is_unresolved(inner):
                contract.check_attribute_text(inner, where)
            entry[contract.ATTRIBUTE_TEXT] = inner
            self._values[name] = BrandAttributeValue(self, name, contract.TEXT, inner, None)
            return entry
        if not isinstance(inner, AttachmentSource):
            raise BrandProfileValidationError(
                f"{where}: a {type(inner).__name__} is not an attribute value; give a str "
                "(TEXT), an AttachmentSource (IMAGE or DOCUMENT) or a BrandAttribute"
            )
        kind = self._media_kind(where, inner, declared.kind)
        bound = inner.bind(Construct(self, name), contract.MAX_MEDIA_BYTES)
        if provider is not None:
            provider.grant_read(bound)
        entry[contract.ATTRIBUTE_TYPE] = kind
        entry[contract.ATTRIBUTE_URL] = f"s3://{bound.bucket_name}/{bound.object_key}"
        if bound.version_id is not None:
            entry[contract.ATTRIBUTE_VERSION_ID] = bound.version_id
        self._values[name] = BrandAttributeValue(self, name, kind, None, inner)
        return entry

    @staticmethod
    def _media_kind(where: str, source: AttachmentSource, kind: str | None) -> str:
        found = source.document_type
        if kind is None:
            if found is None:
                raise BrandProfileValidationError(
                    f"{where}: the object's key is known only on deploy, so its kind cannot "
                    'be told: give BrandAttribute(source, kind="IMAGE") or kind="DOCUMENT"'
                )
            return _DEFAULT_MEDIA_KIND[found]
        if kind not in contract.MEDIA_TYPES:
            raise BrandProfileValidationError(
                f"{where}: kind {kind!r} for a document must be IMAGE or DOCUMENT"
            )
        if found is not None and found.value not in contract.MEDIA_CONTENT[kind]:
            raise BrandProfileValidationError(
                f"{where}: a {found.value} cannot be an {kind} attribute (an {kind} is a "
                f"{' or '.join(contract.MEDIA_CONTENT[kind])})"
            )
        return kind

    def attribute(self, name: str) -> BrandAttributeValue:
        """The attribute ``name``, as a value for ``Registration(fields=...)``."""
        found = self._values.get(name)
        if found is None:
            close = difflib.get_close_matches(name, list(self._values), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BrandProfileValidationError(
                f"{self.node.path}: has no attribute {name!r}{hint} "
                f"(it has: {', '.join(sorted(self._values)) or 'none'})"
            )
        return found

    @property
    def attribute_names(self) -> list[str]:
        """The declared attribute names, in declaration order."""
        return list(self._values)

    @property
    def cdk_tag_manager(self) -> TagManager:
        """Where ``Tags.of()`` puts the tags applied to this profile or its parents."""
        return self._tags.tag_manager

    @property
    def brand_profile_id(self) -> str:
        """The profile's ID (``Ref``)."""
        return self._resource.ref

    @property
    def brand_profile_arn(self) -> str:
        """The profile's ARN (``Fn::GetAtt BrandProfileArn``)."""
        return self._resource.get_att(contract.ATTR_ARN).to_string()
