"""cfn-lint rules E9101, E9102 and E9104: the properties of this library's custom resource types.

cfn-lint accepts any property on a ``Custom::`` type, and ``--registry-schemas`` does not apply
to them, so a typo such as ``AttachmentURL`` or ``RegistrationTyp`` would pass the lint and fail
only at deploy time. Each rule checks its type against the reference
(docs/resource-reference.md): known property names (cfn-lint suggests the closest), required
properties, value syntax and the tag limits.

- E9101 ``Custom::SmsRegistrationAttachment``: ``ServiceToken`` and ``AttachmentUrl`` required,
  an ``s3://bucket/key`` URL, whole numbers.
- E9102 ``Custom::SmsRegistration``: ``ServiceToken`` and ``RegistrationType`` required, the
  type's syntax, each ``Fields`` entry a ``Path`` with exactly one of ``Text``, ``Choices`` or
  ``AttachmentId``, ``Associations`` IDs, ``Submit`` true or false. Whether a path exists and
  a value fits the field is the service's to say: the provider checks that on deploy.
- E9104 ``Custom::SmsBrandProfile``: ``ServiceToken`` and ``BrandProfileName`` required, the
  name's syntax, each ``Attributes`` entry a ``Name`` with exactly one of ``Text`` or
  ``AttachmentUrl`` (then ``Type`` IMAGE or DOCUMENT), ``DeletionProtection`` true or false,
  at most 49 tags.
- E9103 ``Fn::GetAtt`` on any of the types names one of its attributes (cfn-lint lets any name
  through on a ``Custom::`` type; a wrong one fails only when CloudFormation resolves it).

The file ships in the package: ``python -m cdk_sms_registration cfn-lint-rules`` prints its
folder, for ``cfn-lint --append-rules "$(python -m cdk_sms_registration cfn-lint-rules)"
template.yaml``. It needs only cfn-lint (1.x); copy it into your repository if you do not
install this package where you lint.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any, ClassVar

from cfnlint.helpers import FUNCTIONS
from cfnlint.jsonschema import ValidationError, Validator
from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.rules.jsonschema.CfnLintJsonSchema import CfnLintJsonSchema

ATTACHMENT_TYPE = "Custom::SmsRegistrationAttachment"
REGISTRATION_TYPE = "Custom::SmsRegistration"
BRAND_PROFILE_TYPE = "Custom::SmsBrandProfile"
#: The Fn::GetAtt names of each type (tests keep them equal to the handler's contracts).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    ATTACHMENT_TYPE: (
        "RegistrationAttachmentId",
        "RegistrationAttachmentArn",
        "AttachmentStatus",
        "CreatedTimestamp",
    ),
    REGISTRATION_TYPE: (
        "RegistrationId",
        "RegistrationArn",
        "RegistrationStatus",
        "VersionNumber",
        "VersionStatus",
    ),
    BRAND_PROFILE_TYPE: ("BrandProfileId", "BrandProfileArn"),
}


def _tags(reserved_key_pattern: str, max_items: int = 199) -> dict[str, Any]:
    """The Tags property: user tags (the handler keeps one), no aws: or reserved keys."""
    return {
        "type": "array",
        "maxItems": max_items,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["Key", "Value"],
            "properties": {
                "Key": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 128,
                    "pattern": rf"^(?![aA][wW][sS]:){reserved_key_pattern}",
                },
                "Value": {"type": "string", "maxLength": 256},
            },
        },
    }


#: What every custom resource of the provider takes: its ServiceToken and CloudFormation's
#: ServiceTimeout (seconds).
_PROVIDER_PROPERTIES: dict[str, Any] = {
    "ServiceToken": {"type": "string"},
    "ServiceTimeout": {"type": "integer", "minimum": 1, "maximum": 3600},
}

#: An attachment's properties as a JSON schema; each keyword mirrors a rule of the provider.
ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ServiceToken", "AttachmentUrl"],
    "properties": {
        **_PROVIDER_PROPERTIES,
        "AttachmentUrl": {
            "type": "string",
            "maxLength": 2048,
            "pattern": r"^s3://[^/\s]+/\S+$",
        },
        "AttachmentVersionId": {"type": "string"},
        "MaxSizeBytes": {"type": "integer", "minimum": 1},
        "Tags": _tags(r"(?!cdk-sms-registration:source$)"),
    },
}

_RESOURCE_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_:/-]{1,256}$"}
_CHOICE = {"type": "string", "minLength": 1, "maxLength": 256}

#: A registration's properties as a JSON schema; each keyword mirrors a rule of the provider.
REGISTRATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ServiceToken", "RegistrationType"],
    "properties": {
        **_PROVIDER_PROPERTIES,
        "RegistrationType": {"type": "string", "pattern": r"^[A-Za-z0-9_]{1,64}$"},
        "Fields": {
            "type": ["array", "string"],
            "maxLength": 0,  # the one string the provider accepts: "" (no fields)
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["Path"],
                "properties": {
                    "Path": {"type": "string", "pattern": r"^[A-Za-z0-9_.]{1,100}$"},
                    "Text": {"type": "string", "minLength": 1, "maxLength": 2048},
                    # A hand-written template may give a single choice as a plain string.
                    "Choices": {
                        "type": ["array", "string"],
                        "items": _CHOICE,
                        "minItems": 1,
                        "maxItems": 100,
                        "uniqueItems": True,
                        "minLength": 1,
                        "maxLength": 256,
                    },
                    "AttachmentId": _RESOURCE_ID,
                },
                # cfn-lint's keyword for "exactly one of", which resolves Fn::If branches.
                "requiredXor": ["Text", "Choices", "AttachmentId"],
            },
        },
        # A single ID may be given as a plain string.
        "Associations": {
            "type": ["array", "string"],
            "items": _RESOURCE_ID,
            "uniqueItems": True,
            "pattern": r"^([A-Za-z0-9_:/-]{1,256})?$",
        },
        # true / false, or CloudFormation's strings for them ("" is false).
        "Submit": {
            "type": ["boolean", "string"],
            "pattern": r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])?\s*$",
        },
        "Tags": _tags(r"(?!cdk-sms-registration:)"),
        # The brand profile the service prefills the draft from (Create only), and how.
        "BrandProfileId": _RESOURCE_ID,
        "SmartMatch": {
            "type": ["boolean", "string"],
            "pattern": r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])?\s*$",
        },
    },
    "dependentRequired": {"SmartMatch": ["BrandProfileId"]},
}


_NAME = r"^(?=.*[A-Za-z0-9_-])[A-Za-z0-9_ -]+$"
_BOOLEAN = {
    "type": ["boolean", "string"],
    "pattern": r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])?\s*$",
}

#: A brand profile's properties as a JSON schema; each keyword mirrors a rule of the provider.
BRAND_PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ServiceToken", "BrandProfileName"],
    "properties": {
        **_PROVIDER_PROPERTIES,
        "BrandProfileName": {"type": "string", "maxLength": 64, "pattern": _NAME},
        "Attributes": {
            "type": ["array", "string"],
            "maxLength": 0,  # the one string the provider accepts: "" (no attributes)
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["Name"],
                "properties": {
                    "Name": {"type": "string", "maxLength": 256, "pattern": _NAME},
                    "Type": {"type": "string", "enum": ["TEXT", "IMAGE", "DOCUMENT"]},
                    "Text": {"type": "string", "minLength": 1, "maxLength": 4096},
                    "AttachmentUrl": {
                        "type": "string",
                        "maxLength": 2048,
                        "pattern": r"^s3://[^/\s]+/\S+$",
                    },
                    "AttachmentVersionId": {"type": "string", "minLength": 1},
                    "Description": {"type": "string", "maxLength": 1024},
                    "Category": {"type": "string", "minLength": 1, "maxLength": 64},
                },
                "requiredXor": ["Text", "AttachmentUrl"],
                "dependentRequired": {"AttachmentUrl": ["Type"]},
            },
        },
        "DeletionProtection": _BOOLEAN,
        "Tags": _tags(r"(?!cdk-sms-registration:)", max_items=49),
    },
}


class _CustomResourceProperties(CfnLintJsonSchema):
    """Checks the properties of every resource of ``resource_type`` against ``schema``."""

    resource_type: ClassVar[str]
    schema: ClassVar[dict[str, Any]]
    source_url = (
        "https://github.com/cdk-sms-registration/cdk-sms-registration/blob/main/"
        "docs/resource-reference.md"
    )
    tags: ClassVar[list[str]] = ["resources", "custom"]

    def __init__(self) -> None:
        super().__init__(keywords=["Resources/*"], all_matches=True)

    def validate(
        self, validator: Validator, keywords: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        """Check one resource of the template, if it is of this rule's type."""
        if not isinstance(instance, dict) or instance.get("Type") != self.resource_type:
            return
        properties = instance.get("Properties", {})
        # Like cfn-lint's own property checks: intrinsic functions are allowed anywhere and
        # "1048576" passes as an integer (CloudFormation sends every scalar as a string).
        validator = validator.evolve(
            context=validator.context.evolve(functions=list(FUNCTIONS), strict_types=False)
        )
        for error in super().validate(validator, keywords, properties, self.schema):
            error.path.appendleft("Properties")
            yield error


class SmsRegistrationAttachmentProperties(_CustomResourceProperties):
    """Validate Custom::SmsRegistrationAttachment properties against the resource reference."""

    id = "E9101"
    shortdesc = "Custom::SmsRegistrationAttachment properties are valid"
    description = (
        "Property names, required properties, the s3:// URL, numbers and tags of "
        "Custom::SmsRegistrationAttachment, as the provider checks them at deploy time"
    )
    resource_type = ATTACHMENT_TYPE
    schema = ATTACHMENT_SCHEMA


class SmsRegistrationProperties(_CustomResourceProperties):
    """Validate Custom::SmsRegistration properties against the resource reference."""

    id = "E9102"
    shortdesc = "Custom::SmsRegistration properties are valid"
    description = (
        "Property names, required properties, the registration type, Fields entries, "
        "associations, Submit and tags of Custom::SmsRegistration, as the provider checks "
        "them before any write"
    )
    resource_type = REGISTRATION_TYPE
    schema = REGISTRATION_SCHEMA


class SmsBrandProfileProperties(_CustomResourceProperties):
    """Validate Custom::SmsBrandProfile properties against the resource reference."""

    id = "E9104"
    shortdesc = "Custom::SmsBrandProfile properties are valid"
    description = (
        "Property names, required properties, the profile's name, Attributes entries, "
        "DeletionProtection and tags of Custom::SmsBrandProfile, as the provider checks them "
        "before any write"
    )
    resource_type = BRAND_PROFILE_TYPE
    schema = BRAND_PROFILE_SCHEMA


class SmsRegistrationAttributes(CloudFormationLintRule):
    """Fn::GetAtt on this library's custom types names an attribute the provider returns."""

    id = "E9103"
    shortdesc = "Fn::GetAtt of a Custom::Sms* resource of this library names a real attribute"
    description = (
        "The attributes of Custom::SmsRegistrationAttachment, Custom::SmsRegistration and "
        "Custom::SmsBrandProfile, which cfn-lint does not know for custom types"
    )
    source_url = _CustomResourceProperties.source_url
    tags: ClassVar[list[str]] = ["resources", "custom", "functions"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        """One match per Fn::GetAtt whose attribute the resource's type does not return."""
        resources = cfn.template.get("Resources") or {}
        matches = []
        for path in cfn.search_deep_keys("Fn::GetAtt"):
            value = path[-1]
            if isinstance(value, str):
                value = value.split(".", 1)
            if not (isinstance(value, list) and len(value) == 2):
                continue
            logical_id, attribute = value
            resource = resources.get(logical_id)
            kind = resource.get("Type") if isinstance(resource, dict) else None
            known = ATTRIBUTES.get(kind) if isinstance(kind, str) else None
            if known is None or not isinstance(attribute, str) or attribute in known:
                continue
            close = difflib.get_close_matches(attribute, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            matches.append(
                RuleMatch(
                    path[:-1],
                    f"{logical_id} ({kind}) has no attribute {attribute!r}: {hint}"
                    f"its attributes are {', '.join(known)}",
                )
            )
        return matches
