"""Declared values against field definitions shaped exactly as the service returns them."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_sms_registration_handler.registration_contract import FieldValue
from cdk_sms_registration_handler.registration_rules import (
    MAX_REASON_CHARS,
    Problem,
    check_fields,
    condition_holds,
    failure_reason,
    problem_lines,
    resolve,
)

SECRET = "Jane Q. Private"


def definition(path: str, field_type: str, requirement: str = "OPTIONAL", **extra: Any) -> dict:
    return {
        "SectionPath": path.split(".")[0],
        "FieldPath": path,
        "FieldType": field_type,
        "FieldRequirement": requirement,
        "DisplayHints": {"Title": path, "ShortDescription": path},
        **extra,
    }


def text(min_length: int = 1, max_length: int = 100, pattern: str = ".*") -> dict:
    return {
        "TextValidation": {"MinLength": min_length, "MaxLength": max_length, "Pattern": pattern}
    }


def select(options: list[str], low: int = 1, high: int = 1) -> dict:
    return {"SelectValidation": {"MinChoices": low, "MaxChoices": high, "Options": options}}


VOLUMES = ["10", "100", "1,000", "10,000", "100,000"]
CATEGORIES = ["ACCOUNT_NOTIFICATIONS", "MARKETING", "TWO_FACTOR", "POLLING"]
TOLL_FREE = [
    definition("companyInfo.companyName", "TEXT", "REQUIRED", **text(1, 100)),
    definition("companyInfo.zipCode", "TEXT", "REQUIRED", **text(5, 10, r"[0-9]{5}(-[0-9]{4})?")),
    definition("contactInfo.supportEmail", "TEXT", "OPTIONAL", **text(3, 100, r"[^@]+@[^@]+")),
    definition("messagingUseCase.monthlyMessageVolume", "SELECT", "REQUIRED", **select(VOLUMES)),
    definition(
        "messagingUseCase.useCaseCategory", "SELECT", "REQUIRED", **select(CATEGORIES, 1, 2)
    ),
    definition("messagingUseCase.optInImage", "ATTACHMENT", "REQUIRED"),
]

PUBLIC_ONLY = {
    "Rules": [
        {
            "Conditions": [
                {
                    "DependsOnFieldPath": "companyInfo.businessType",
                    "Operator": "EQUALS",
                    "Values": ["PUBLIC_PROFIT"],
                }
            ],
            "RuleBehavior": "REQUIRED",
        }
    ],
    "DefaultBehavior": "DISALLOWED",
}
BRAND = [
    definition(
        "companyInfo.businessType",
        "SELECT",
        "REQUIRED",
        **select(["PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT"]),
    ),
    definition(
        "companyInfo.stockSymbol",
        "TEXT",
        "CONDITIONAL",
        ConditionalBehavior=PUBLIC_ONLY,
        **text(1, 10, "[A-Z]+"),
    ),
    definition(
        "companyInfo.taxId",
        "TEXT",
        "CONDITIONAL",
        ConditionalBehavior={
            "Rules": [
                {
                    "Conditions": [
                        {
                            "DependsOnFieldPath": "companyInfo.businessType",
                            "Operator": "IN",
                            "Values": ["PRIVATE_PROFIT", "PUBLIC_PROFIT"],
                        }
                    ],
                    "RuleBehavior": "REQUIRED",
                    "ConditionalValidation": {"MinLength": 9, "MaxLength": 9, "Pattern": "[0-9]+"},
                }
            ],
            "DefaultBehavior": "OPTIONAL",
        },
        **text(1, 50),
    ),
]


def values(*items: FieldValue) -> dict[str, FieldValue]:
    return {item.path: item for item in items}


def good_toll_free() -> dict[str, FieldValue]:
    return values(
        FieldValue("companyInfo.companyName", text="Example Corp"),
        FieldValue("companyInfo.zipCode", text="98101-1234"),
        FieldValue("messagingUseCase.monthlyMessageVolume", text="10,000"),
        FieldValue("messagingUseCase.useCaseCategory", choices=("ACCOUNT_NOTIFICATIONS",)),
        FieldValue("messagingUseCase.optInImage", attachment_id="ra-0123"),
    )


def test_a_good_declaration_passes_with_submit() -> None:
    assert check_fields(TOLL_FREE, good_toll_free(), submit=True) == []


def test_text_for_a_select_field_is_one_choice() -> None:
    declared = good_toll_free()
    declared["messagingUseCase.useCaseCategory"] = FieldValue(
        "messagingUseCase.useCaseCategory", text="MARKETING"
    )
    assert check_fields(TOLL_FREE, declared, submit=True) == []


def test_every_problem_at_once_without_values() -> None:
    declared = values(
        FieldValue("companyInfo.companyNam", text=SECRET),  # unknown path
        FieldValue("companyInfo.zipCode", text="ABCDE"),  # pattern
        FieldValue("contactInfo.supportEmail", text="a@"),  # too short and pattern
        FieldValue("messagingUseCase.monthlyMessageVolume", choices=("10", "100")),  # count
        FieldValue("messagingUseCase.useCaseCategory", choices=("SPAM", "POLLING")),  # option
        FieldValue("messagingUseCase.optInImage", text=SECRET),  # kind
    )
    problems = check_fields(TOLL_FREE, declared, submit=True, registration_type="TF")
    assert problems == [
        Problem(
            "companyInfo.companyNam",
            "is not a field of TF; nearest known path: companyInfo.companyName",
        ),
        Problem("companyInfo.zipCode", "does not match the pattern [0-9]{5}(-[0-9]{4})?"),
        Problem("contactInfo.supportEmail", "must be 3-100 characters long, got 2"),
        Problem("contactInfo.supportEmail", "does not match the pattern [^@]+@[^@]+"),
        Problem("messagingUseCase.monthlyMessageVolume", "takes exactly 1 choice, got 2"),
        Problem(
            "messagingUseCase.useCaseCategory",
            "choice 1 is not among the options "
            "(ACCOUNT_NOTIFICATIONS, MARKETING, TWO_FACTOR, POLLING)",
        ),
        Problem(
            "messagingUseCase.optInImage",
            "is an ATTACHMENT field: give an attachment, not text or choices",
        ),
        Problem("companyInfo.companyName", "is required before submit"),
    ]
    assert not any(SECRET in line or "ABCDE" in line for line in problem_lines(problems))


def test_pattern_must_match_the_whole_value() -> None:
    declared = good_toll_free()
    declared["companyInfo.zipCode"] = FieldValue("companyInfo.zipCode", text="98101x")
    assert check_fields(TOLL_FREE, declared, submit=False) == [
        Problem("companyInfo.zipCode", "does not match the pattern [0-9]{5}(-[0-9]{4})?")
    ]


def test_a_pattern_python_cannot_read_is_left_to_the_service() -> None:
    definitions = [definition("a.b", "TEXT", **text(1, 10, r"\p{L}+"))]
    assert check_fields(definitions, values(FieldValue("a.b", text="x")), submit=False) == []


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (FieldValue("a.t", choices=("x",)), "is a TEXT field: give one string, not a list"),
        (FieldValue("a.t", attachment_id="ra-1"), "is a TEXT field: give text, not an attachment"),
        (FieldValue("a.s", attachment_id="ra-1"), "is a SELECT field: give text, not an"),
        (FieldValue("a.f", choices=("x",)), "is an ATTACHMENT field: give an attachment"),
    ],
)
def test_wrong_kinds(value: FieldValue, rule: str) -> None:
    definitions = [
        definition("a.t", "TEXT", **text()),
        definition("a.s", "SELECT", **select(["x"])),
        definition("a.f", "ATTACHMENT"),
    ]
    [problem] = check_fields(definitions, values(value), submit=False)
    assert problem.path == value.path
    assert problem.rule.startswith(rule)


def test_required_fields_only_matter_when_submitting() -> None:
    assert check_fields(TOLL_FREE, {}, submit=False) == []
    missing = check_fields(TOLL_FREE, {}, submit=True)
    assert [problem.path for problem in missing] == [
        "companyInfo.companyName",
        "companyInfo.zipCode",
        "messagingUseCase.monthlyMessageVolume",
        "messagingUseCase.useCaseCategory",
        "messagingUseCase.optInImage",
    ]


def test_conditional_disallowed_is_a_problem_even_without_submit() -> None:
    declared = values(
        FieldValue("companyInfo.businessType", text="PRIVATE_PROFIT"),
        FieldValue("companyInfo.stockSymbol", text="EXMP"),
        FieldValue("companyInfo.taxId", text="123456789"),
    )
    assert check_fields(BRAND, declared, submit=False) == [
        Problem(
            "companyInfo.stockSymbol",
            "is not allowed given companyInfo.businessType: remove it "
            "(a version that sends it is denied)",
        )
    ]


def test_conditional_required_and_its_validation() -> None:
    public = FieldValue("companyInfo.businessType", choices=("PUBLIC_PROFIT",))
    assert check_fields(BRAND, values(public), submit=True) == [
        Problem(
            "companyInfo.stockSymbol", "is required given companyInfo.businessType before submit"
        ),
        Problem("companyInfo.taxId", "is required given companyInfo.businessType before submit"),
    ]
    # The matching rule's ConditionalValidation replaces the field's own (1-50 characters).
    short_tax_id = values(
        public,
        FieldValue("companyInfo.stockSymbol", text="EXMP"),
        FieldValue("companyInfo.taxId", text="12345"),
    )
    assert check_fields(BRAND, short_tax_id, submit=True) == [
        Problem("companyInfo.taxId", "must be exactly 9 characters long, got 5")
    ]
    non_profit = values(FieldValue("companyInfo.businessType", text="NON_PROFIT"))
    assert check_fields(BRAND, non_profit, submit=True) == []


def test_conditional_without_readable_behavior_is_optional() -> None:
    definitions = [definition("a.b", "TEXT", "CONDITIONAL", **text())]
    assert resolve(definitions[0], {}).behavior == "OPTIONAL"
    assert check_fields(definitions, {}, submit=True) == []


def test_first_matching_rule_wins() -> None:
    rules = {
        "Rules": [
            {
                "Conditions": [{"DependsOnFieldPath": "a.kind", "Operator": "HAS_VALUE"}],
                "RuleBehavior": "OPTIONAL",
            },
            {
                "Conditions": [
                    {"DependsOnFieldPath": "a.kind", "Operator": "EQUALS", "Values": ["X"]}
                ],
                "RuleBehavior": "DISALLOWED",
            },
        ],
        "DefaultBehavior": "REQUIRED",
    }
    field = definition("a.b", "TEXT", "CONDITIONAL", ConditionalBehavior=rules, **text())
    assert resolve(field, values(FieldValue("a.kind", text="X"))).behavior == "OPTIONAL"
    assert resolve(field, {}).behavior == "REQUIRED"


@pytest.mark.parametrize(
    ("operator", "expected", "dependency", "holds"),
    [
        ("EQUALS", ["X"], FieldValue("d", text="X"), True),
        ("EQUALS", ["X"], FieldValue("d", choices=("X",)), True),
        ("EQUALS", ["X"], FieldValue("d", choices=("X", "Y")), False),
        ("EQUALS", ["X"], None, False),
        ("NOT_EQUALS", ["X"], FieldValue("d", text="Y"), True),
        ("NOT_EQUALS", ["X"], FieldValue("d", text="X"), False),
        ("NOT_EQUALS", ["X"], None, True),
        ("IN", ["X", "Y"], FieldValue("d", text="Y"), True),
        ("IN", ["X", "Y"], FieldValue("d", choices=("Z", "X")), True),
        ("IN", ["X", "Y"], FieldValue("d", text="Z"), False),
        ("IN", ["X"], None, False),
        ("NOT_IN", ["X", "Y"], FieldValue("d", text="Z"), True),
        ("NOT_IN", ["X", "Y"], FieldValue("d", text="X"), False),
        ("NOT_IN", ["X"], None, True),
        ("HAS_VALUE", [], FieldValue("d", attachment_id="ra-1"), True),
        ("HAS_VALUE", [], None, False),
        ("NO_VALUE", [], None, True),
        ("NO_VALUE", [], FieldValue("d", text="x"), False),
        ("GREATER_THAN", ["1"], FieldValue("d", text="2"), False),  # unknown: never holds
    ],
)
def test_operators(
    operator: str, expected: list[str], dependency: FieldValue | None, holds: bool
) -> None:
    condition = {"DependsOnFieldPath": "d", "Operator": operator, "Values": expected}
    present = {"d": dependency} if dependency is not None else {}
    assert condition_holds(condition, present) is holds


def test_a_type_without_fields() -> None:
    assert check_fields([], {}, submit=True) == []
    [problem] = check_fields([], values(FieldValue("a.b", text="x")), submit=False)
    assert problem.rule == "is not a field of this registration type, which has no fields"


def test_long_option_lists_are_shortened() -> None:
    options = [f"OPTION_{index}" for index in range(30)]
    definitions = [definition("a.b", "SELECT", **select(options))]
    [problem] = check_fields(definitions, values(FieldValue("a.b", text="nope")), submit=False)
    assert problem.rule.endswith("OPTION_7, ... 22 more)")


def test_reason_starts_with_count_and_paths() -> None:
    problems = [Problem("a.b", "rule 1"), Problem("c.d", "rule 2"), Problem("a.b", "rule 3")]
    assert failure_reason(problems) == "2 fields break the registration type's rules: a.b, c.d"
    assert failure_reason(problems, "X", suffix="; nothing written") == (
        "2 fields break the rules of X: a.b, c.d; nothing written"
    )


def test_reason_for_one_field_names_its_rules() -> None:
    assert failure_reason([Problem("a.b", "is required before submit")]) == (
        "1 field breaks the registration type's rules: a.b (is required before submit)"
    )


def test_reason_stays_within_the_limit_and_counts_the_rest() -> None:
    problems = [Problem(f"section{index}.someLongFieldName{index}", "x") for index in range(40)]
    reason = failure_reason(problems, "US_TOLL_FREE_REGISTRATION", suffix="; nothing written")
    assert len(reason) <= MAX_REASON_CHARS
    assert reason.startswith("40 fields break the rules of US_TOLL_FREE_REGISTRATION: section0.")
    assert reason.endswith("more (see the log); nothing written")
    shown = reason.split(": ", 1)[1].split(", and ")[0].split(", ")
    hidden = int(reason.split(", and ")[1].split(" ")[0])
    assert len(shown) + hidden == 40
    long_rule = [Problem("a.b", "r" * 400)]
    assert len(failure_reason(long_rule)) <= MAX_REASON_CHARS
