"""registration_plan: the documented table (docs/reconcile.md) is what ``decide`` does.

Every row of the table is read from the doc and checked, forward and rollback, so the doc and
the code cannot drift; the status words give every (registration, version) status pair of
botocore's model its own text.
"""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest

from cdk_sms_registration_handler import registration_plan as plan
from cdk_sms_registration_handler.registration_contract import FieldValue, RegistrationSpec

DOC = Path(__file__).resolve().parent.parent / "docs" / "reconcile.md"
HEADER = (
    "| registration status | current version | Submit | current holds it | approved holds it "
    "| forward Update | rollback Update |"
)

DECLARED = (FieldValue("companyInfo.companyName", text="Example Corp"),)
OTHER = {"companyInfo.companyName": FieldValue("companyInfo.companyName", text="Other Corp")}
HELD = {value.path: value for value in DECLARED}

#: The doc's words for each action (the text before any "(" or ", then submit").
ACTIONS = {
    "nothing to write": plan.NOTHING,
    "submit the DRAFT version": plan.SUBMIT,
    "edit the DRAFT version": plan.EDIT_DRAFT,
    "create a new version": plan.NEW_VERSION,
    "discard the submitted version, then create a new one": plan.DISCARD_THEN_NEW_VERSION,
    "discard the submitted version: the approved one holds the declaration": (
        plan.DISCARD_TO_APPROVED
    ),
    "leave it as it is": plan.LEAVE,
    "FAILED before any write": plan.REFUSE,
}


def _rows() -> list[list[str]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _expected(cell: str) -> tuple[str, bool, bool]:
    """(action, submits, warns) as the doc cell says them."""
    words = re.split(r" \(|, then submit", cell)[0].strip()
    return (
        ACTIONS[words],
        ", then submit" in cell or words == "submit the DRAFT version",
        ("warning" in cell),
    )


ROWS = _rows()


def test_the_table_is_there() -> None:
    assert len(ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=[" ".join(row[:5]) for row in ROWS])
@pytest.mark.parametrize("rolling_back", [False, True], ids=["forward", "rollback"])
def test_each_documented_row(row: list[str], rolling_back: bool) -> None:
    registration_status, version_status, submit, current, approved, forward, rollback = row
    observed = plan.Observed(
        registration_id="registration-1",
        registration_status=registration_status,
        version_number=2,
        version_status=version_status,
        values=HELD if current == "yes" else OTHER,
        approved_number=1 if approved == "yes" else None,
        approved_values=HELD if approved == "yes" else None,
    )
    declared = RegistrationSpec("US_TOLL_FREE_REGISTRATION", DECLARED, submit=submit == "true")
    decided = plan.decide(observed, declared, (), rolling_back=rolling_back)
    action, submits, warns = _expected(rollback if rolling_back else forward)
    assert decided.action == action, decided.why
    assert decided.submit == submits
    if rolling_back:
        assert decided.warning is not None if warns else decided.warning is None
        # A rollback never creates a version and never submits.
        assert not decided.new_version and not decided.submit


def test_a_dropped_field_the_version_holds_is_a_change() -> None:
    extra = FieldValue("companyInfo.website", text="https://example.com")
    observed = plan.Observed("registration-1", "CREATED", 1, "DRAFT", {**HELD, extra.path: extra})
    declared = RegistrationSpec("US_TOLL_FREE_REGISTRATION", DECLARED)
    # Never declared (filled in the console): left alone.
    assert plan.decide(observed, declared, (), rolling_back=False).action == plan.NOTHING
    # Declared before, dropped now: deleted.
    decided = plan.decide(observed, declared, (extra.path,), rolling_back=True)
    assert (decided.action, decided.drops, decided.puts) == (plan.EDIT_DRAFT, (extra.path,), ())


def test_a_discarded_current_version_holds_nothing() -> None:
    observed = plan.Observed("registration-1", "CREATED", 1, "DISCARDED", HELD)
    declared = RegistrationSpec("US_TOLL_FREE_REGISTRATION", DECLARED)
    assert not plan.current_holds(observed, declared, ())
    assert plan.decide(observed, declared, (), rolling_back=False).action == plan.NEW_VERSION


def _enum(shape: str) -> list[str]:
    model = botocore.session.get_session().get_service_model("pinpoint-sms-voice-v2")
    return list(model.shape_for(shape).enum)


def test_every_status_pair_has_its_own_words() -> None:
    registration_statuses = _enum("RegistrationStatus")
    version_statuses = _enum("RegistrationVersionStatus")
    assert set(registration_statuses) <= set(plan.REGISTRATION_STATUS_WORDS)
    assert set(version_statuses) <= set(plan.VERSION_STATUS_WORDS)
    texts = {
        plan.status_words(registration, 1, version)
        for registration in registration_statuses
        for version in version_statuses
    }
    assert len(texts) == len(registration_statuses) * len(version_statuses)
    assert len(set(plan.REGISTRATION_STATUS_WORDS.values())) == len(plan.REGISTRATION_STATUS_WORDS)


@pytest.mark.parametrize(
    ("registration_status", "version_status", "words"),
    [
        ("PROVISIONING", "APPROVED", "change it once the registration is COMPLETE"),
        ("REQUIRES_AUTHENTICATION", "REQUIRES_AUTHENTICATION", "complete the authentication"),
        ("CLOSED", "APPROVED", "is CLOSED (its phone number or sender ID was released)"),
        ("REVIEWING", "REVIEWING", "the service accepts no change until the review ends"),
    ],
)
def test_statuses_that_need_the_user_say_what_to_do(
    registration_status: str, version_status: str, words: str
) -> None:
    observed = plan.Observed("registration-1", registration_status, 1, version_status, OTHER)
    declared = RegistrationSpec("US_TOLL_FREE_REGISTRATION", DECLARED, submit=True)
    decided = plan.decide(observed, declared, (), rolling_back=False)
    assert decided.action == plan.REFUSE
    assert words in decided.why
    # "wait for the review" belongs to reviews only.
    assert ("review ends" in decided.why) == (version_status == "REVIEWING")
