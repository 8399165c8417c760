"""Acknowledgments of cdk-nag findings that the provider's design requires, with reasons.

cdk-nag 3 reads CDK's native ``Validations.of(...).acknowledge(...)``; each IAM5 wildcard
finding is named by its resource, flattened the way cdk-nag flattens CloudFormation intrinsics
(``Ref X`` -> ``<X>``, ``Fn::GetAtt [A, B]`` -> ``<A.B>``, ``${X}`` -> ``<X>``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value as the flat text cdk-nag puts in finding IDs."""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, parts = value["Fn::Join"]
            return str(delimiter).join(flatten_reference(part) for part in parts)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    raise ValueError(f"cannot flatten {value!r} for a cdk-nag finding")


def acknowledge_finding(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AWS Solutions finding (``Rule[Finding]``) on ``scope``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::{finding}", reason=reason))


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for one wildcard resource of a policy in ``scope``."""
    flat = flatten_reference(Stack.of(scope).resolve(resource))
    acknowledge_finding(scope, f"AwsSolutions-IAM5[Resource::{flat}]", reason)
