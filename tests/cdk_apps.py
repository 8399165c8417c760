"""Building CDK apps in tests: one shared output directory, so the handler is bundled once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

ENV = cdk.Environment(account="123456789012", region="eu-west-1")


def new_app(outdir: Path, **context: Any) -> cdk.App:
    """An app writing to ``outdir`` (reuse it across apps to reuse the bundled handler)."""
    return cdk.App(outdir=str(outdir), context=context or None)


def template_of(stack: cdk.Stack) -> Template:
    """The synthesized template of ``stack``."""
    return Template.from_stack(stack)


def resources_of_type(template: Template, resource_type: str) -> dict[str, Any]:
    """Logical ID -> resource, for one type."""
    found: dict[str, Any] = template.find_resources(resource_type)
    return found


def policy_document(template: Template) -> dict[str, Any]:
    """The provider's one inline policy document."""
    policies = resources_of_type(template, "AWS::IAM::Policy")
    assert len(policies) == 1, policies.keys()
    document: dict[str, Any] = next(iter(policies.values()))["Properties"]["PolicyDocument"]
    return document


def statement(template: Template, sid: str) -> dict[str, Any]:
    """One statement of the provider policy, by Sid."""
    for candidate in policy_document(template)["Statement"]:
        if candidate.get("Sid") == sid:
            return dict(candidate)
    raise AssertionError(f"no statement {sid}: {json.dumps(policy_document(template))}")


def flat(value: Any) -> str:
    """A template value as text: Fn::Join flattened, other intrinsics shown as ${...}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(flat(part) for part in parts)
    if isinstance(value, dict) and len(value) == 1:
        name, argument = next(iter(value.items()))
        return "${" + name + ":" + json.dumps(argument, sort_keys=True) + "}"
    return json.dumps(value, sort_keys=True)
