"""What both resource constructs render and check only once aspects (``Tags.of()``) have run.

The ``Tags`` property merges ``Tags.of()`` tags with the ``tags`` prop, and a removal policy may
be set by ``RemovalPolicies.of()``: neither is known at construction. CDK resolves tokens before
it validates, so a rule broken there is kept and reported by the construct's validation, which
names the construct's path, instead of a resolution trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import jsii
from aws_cdk import (
    CfnDeletionPolicy,
    CfnResource,
    IResolvable,
    IResolveContext,
    RemovalPolicy,
    TagManager,
    TagType,
)
from constructs import IValidation


class TagContract(Protocol):
    """What a resource type's contract module says about its tags."""

    RESOURCE_TYPE: str
    MAX_USER_TAGS: int

    def check_tags(self, tags: Mapping[str, str], property_name: str = ...) -> dict[str, str]:
        """The tags back, or a ``ValueError`` naming ``property_name`` and the rule."""
        ...


ALLOWED_REMOVAL_POLICIES = (
    RemovalPolicy.DESTROY,
    RemovalPolicy.RETAIN,
    RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
)


def removal_policy_problem(policy: RemovalPolicy) -> str | None:
    """Why a removal policy is refused (neither resource has a snapshot), or None."""
    if policy in ALLOWED_REMOVAL_POLICIES:
        return None
    return (
        f"removal_policy {policy} is not supported; "
        "use DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE"
    )


def check_removal_policy(path: str, policy: RemovalPolicy, error: type[ValueError]) -> None:
    """Raise the construct's own ``error`` for a refused removal policy, naming its path."""
    problem = removal_policy_problem(policy)
    if problem is not None:
        raise error(f"{path}: {problem}")


@jsii.implements(IResolvable)
class SynthTags:
    """The ``Tags`` property, rendered once at synth after ``Tags.of()`` aspects have run."""

    def __init__(
        self, contract: TagContract, prop_tags: Mapping[str, str] | None, *, property_name: str
    ) -> None:
        """Check the ``tags`` prop now (raising the contract's error); the rest at synth."""
        self._contract = contract
        self._prop_tags = contract.check_tags(dict(prop_tags or {}), property_name=property_name)
        #: Where ``Tags.of()`` puts the tags applied to the construct or its parents.
        self.tag_manager = TagManager(TagType.KEY_VALUE, contract.RESOURCE_TYPE)
        self._rendered: list[dict[str, str]] | None = None
        self._done = False
        self.problem: str | None = None
        self.creation_stack: list[str] = []

    def merged(self) -> dict[str, str]:
        """``Tags.of()`` tags merged with the ``tags`` prop (which wins); no ``aws:`` keys."""
        return self._merge(self._applied())

    def _applied(self) -> dict[str, str]:
        return {tag["Key"]: tag["Value"] for tag in self.tag_manager.render_tags() or []}

    def _merge(self, applied: Mapping[str, str]) -> dict[str, str]:
        return {
            key: value
            for key, value in {**applied, **self._prop_tags}.items()
            if not key.lower().startswith("aws:")
        }

    def render(self) -> list[dict[str, str]] | None:
        """The tags as CloudFormation takes them; a broken rule is kept as ``problem``."""
        # CDK resolves a template more than once per synth, all after the aspects (Tags.of)
        # have run, and each render is a round trip from Node.js back into Python: render once.
        if not self._done:
            applied = self._applied()
            merged = self._merge(applied)
            self.problem = self._reserved_key_problem(applied) or self._limit_problem(merged)
            self._rendered = [{"Key": key, "Value": merged[key]} for key in sorted(merged)] or None
            self._done = True
        return self._rendered

    @staticmethod
    def _reserved_key_problem(applied: Mapping[str, str]) -> str | None:
        """An ``aws:`` key from ``Tags.of()`` (the ``tags`` prop refuses them at construction)."""
        reserved = sorted(key for key in applied if key.lower().startswith("aws:"))
        if not reserved:
            return None
        return (
            f"tag key {reserved[0]!r} (from Tags.of()): keys starting with aws: are "
            "reserved by AWS and refused by the service and IAM; use another prefix"
        )

    def _limit_problem(self, merged: Mapping[str, str]) -> str | None:
        try:
            self._contract.check_tags(dict(merged), property_name="tags")
        except ValueError as error:
            # The tags prop was checked at construction: the culprit is a Tags.of() tag.
            return (
                f"{error}; tags from Tags.of() count too (keep them off this resource with "
                f"Tags.of(scope).add(key, value, exclude_resource_types="
                f"[{self._contract.RESOURCE_TYPE!r}]))"
                if len(merged) > self._contract.MAX_USER_TAGS
                else f"{error} (a tag added with Tags.of())"
            )
        return None

    def resolve(self, context: IResolveContext) -> Any:
        """CDK's call while it resolves the template."""
        return self.render()

    def to_string(self) -> str:
        """The name CDK shows for this token."""
        return f"{self._contract.RESOURCE_TYPE}Tags"


@jsii.implements(IValidation)
class LateValidation:
    """Reports the tag problem and a removal policy set after construction (SNAPSHOT).

    CDK reports the messages with the construct's path and fails the synth.
    """

    def __init__(self, tags: SynthTags, resource: CfnResource) -> None:
        self._tags = tags
        self._resource = resource

    def validate(self) -> list[str]:
        """The problems CDK reports under the construct's path; empty when there are none."""
        self._tags.render()
        problems = [self._tags.problem] if self._tags.problem else []
        options = self._resource.cfn_options
        if CfnDeletionPolicy.SNAPSHOT in (options.deletion_policy, options.update_replace_policy):
            problems.append(str(removal_policy_problem(RemovalPolicy.SNAPSHOT)))
        return problems
