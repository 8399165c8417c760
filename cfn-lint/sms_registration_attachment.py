"""cfn-lint rule E9101: the properties of ``Custom::SmsRegistrationAttachment``.

cfn-lint accepts any property on a ``Custom::`` type, and ``--registry-schemas`` does not apply
to them, so a typo such as ``AttachmentURL`` would pass the lint and fail only at deploy time.
This rule checks the resource against its reference (docs/resource-reference.md): known
property names (cfn-lint suggests the closest), required ``ServiceToken`` and ``AttachmentUrl``,
an ``s3://bucket/key`` URL, whole numbers, and the tag limits.

Use it with ``cfn-lint --append-rules path/to/this/folder template.yaml``. The file needs only
cfn-lint (1.x); copy it into your repository if you do not use this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from cfnlint.helpers import FUNCTIONS
from cfnlint.jsonschema import ValidationError, Validator
from cfnlint.rules.jsonschema.CfnLintJsonSchema import CfnLintJsonSchema

RESOURCE_TYPE = "Custom::SmsRegistrationAttachment"

#: The resource's properties as a JSON schema; each keyword mirrors a rule of the provider.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ServiceToken", "AttachmentUrl"],
    "properties": {
        "ServiceToken": {"type": "string"},
        "ServiceTimeout": {"type": "integer", "minimum": 1, "maximum": 3600},
        "AttachmentUrl": {
            "type": "string",
            "maxLength": 2048,
            "pattern": r"^s3://[^/\s]+/\S+$",
        },
        "AttachmentVersionId": {"type": "string"},
        "MaxSizeBytes": {"type": "integer", "minimum": 1},
        "Tags": {
            "type": "array",
            "maxItems": 199,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["Key", "Value"],
                "properties": {
                    "Key": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "pattern": r"^(?![aA][wW][sS]:)(?!cdk-sms-registration:source$)",
                    },
                    "Value": {"type": "string", "maxLength": 256},
                },
            },
        },
    },
}


class SmsRegistrationAttachmentProperties(CfnLintJsonSchema):
    """Validate Custom::SmsRegistrationAttachment properties against the resource reference."""

    id = "E9101"
    shortdesc = "Custom::SmsRegistrationAttachment properties are valid"
    description = (
        "Property names, required properties, the s3:// URL, numbers and tags of "
        "Custom::SmsRegistrationAttachment, as the provider checks them at deploy time"
    )
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
        """Check one resource of the template, if it is of this type."""
        if not isinstance(instance, dict) or instance.get("Type") != RESOURCE_TYPE:
            return
        properties = instance.get("Properties", {})
        # Like cfn-lint's own property checks: intrinsic functions are allowed anywhere and
        # "1048576" passes as an integer (CloudFormation sends every scalar as a string).
        validator = validator.evolve(
            context=validator.context.evolve(functions=list(FUNCTIONS), strict_types=False)
        )
        for error in super().validate(validator, keywords, properties, SCHEMA):
            error.path.appendleft("Properties")
            yield error
