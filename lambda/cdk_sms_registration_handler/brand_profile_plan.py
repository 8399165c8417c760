"""The attribute decision of a brand profile Update, pure: declared vs held -> the writes.

``brand_profile_lifecycle`` observes what the service holds (``HeldAttribute``s, and for every
attribute declared with the type it is held with, whether the held value is the declared
one), and ``decide`` returns the fewest writes that make the profile hold the declaration:

| Declared | Held | Write |
|---|---|---|
| attribute | not held | create (CreateBrandProfileAttributes, 10 per call) |
| attribute | another type | replace: delete, then create (a type cannot be updated) |
| attribute, no category | a category | replace (a category cannot be cleared, 1-64 characters) |
| attribute | the same type, another value | update value (and description, category) |
| attribute | the same value, another description or category | update those only |
| attribute | the same value, description and category | nothing |
| not declared | held, declared by the previous properties | delete |
| not declared | held, never declared by this resource | nothing (made by hand: left, logged) |

A rollback is a declaration like any other: the previous properties are then the failed
update's, so what it added is deleted and what it changed is written back. The previous
properties only break the tie "not declared now: ours or someone else's?".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .brand_profile_contract import AttributeSpec, BrandProfileSpec
from .brand_profiles import HeldAttribute


@dataclass(frozen=True)
class AttributePlan:
    """The attribute writes of one request, by attribute name, in declaration order."""

    create: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    update_value: tuple[str, ...] = ()
    update_details: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    #: Held, not declared, and not declared before either: left alone.
    foreign: tuple[str, ...] = ()

    @property
    def writes(self) -> int:
        """How many attribute writes the plan makes (a replacement is two)."""
        return (
            len(self.create)
            + 2 * len(self.replace)
            + len(self.update_value)
            + len(self.update_details)
            + len(self.delete)
        )

    @property
    def to_create(self) -> tuple[str, ...]:
        """Every attribute CreateBrandProfileAttributes makes (new and replaced)."""
        return self.replace + self.create


def same_details(declared: AttributeSpec, held: HeldAttribute) -> bool:
    """Description (none and empty are the same) and category."""
    return (declared.description or "") == (held.description or "") and (
        declared.category == held.category
    )


def decide(
    declared: BrandProfileSpec,
    held: Mapping[str, HeldAttribute],
    same_value: Mapping[str, bool],
    old: BrandProfileSpec | None,
) -> AttributePlan:
    """The writes that make the profile hold the declared attributes.

    ``same_value[name]``: for an attribute declared with the type it is held with, whether the
    service holds the declared value (missing: not known, so written).
    """
    create: list[str] = []
    replace: list[str] = []
    update_value: list[str] = []
    update_details: list[str] = []
    for spec in declared.attributes:
        current = held.get(spec.name)
        if current is None:
            create.append(spec.name)
        elif current.attribute_type != spec.attribute_type or (
            spec.category is None and current.category is not None
        ):
            replace.append(spec.name)
        elif not same_value.get(spec.name, False):
            update_value.append(spec.name)
        elif not same_details(spec, current):
            update_details.append(spec.name)
    before = set(old.by_name) if old is not None else set()
    dropped = [name for name in held if name not in declared.by_name]
    return AttributePlan(
        create=tuple(create),
        replace=tuple(replace),
        update_value=tuple(update_value),
        update_details=tuple(update_details),
        delete=tuple(name for name in dropped if name in before),
        foreign=tuple(name for name in dropped if name not in before),
    )
