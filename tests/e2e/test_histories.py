"""Model-based tests of whole histories of one registration stack (issue 15).

``test_random_histories`` runs ``histories.HistoryMachine`` for a bounded, derandomized number of
histories (``make test``); ``test_many_histories`` runs at least 500 (``pytest -m load``). Each
prints one line: histories, steps, invariant checks passed. The handler runs in-process
(``inprocess.InProcessRuntime``), so every AWS call still goes over HTTP to the fakes.

Below them, each minimal failing history Hypothesis shrank to is kept as a plain test that
replays its steps, with a docstring saying what broke.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cloudformation import CloudAssembly, LambdaRuntime
from .fake_cloudformation import FakeCloudFormation
from .fake_sms import FakeSmsService
from .histories import HistoryEnv, HistoryMachine, delay_hook, replay, run_histories
from .iam_eval import IamRegistry
from .inprocess import InProcessRuntime
from .servers import MotoS3Server, ResponseReceiver, S3IamProxy

#: ``make test``: histories of at most STEPS steps, seeded (derandomized): the same every run.
BOUNDED_HISTORIES = int(os.environ.get("HISTORIES", "20"))
LOAD_HISTORIES = int(os.environ.get("LOAD_HISTORIES", "500"))
STEPS = 6


@pytest.fixture
def history_env(
    e2e_assembly: CloudAssembly,
    tmp_path: Path,
    s3_server: MotoS3Server,
    sms_service: FakeSmsService,
    response_receiver: ResponseReceiver,
    fake_cloudformation: FakeCloudFormation,
    s3_iam_proxy: S3IamProxy,
    iam_registry: IamRegistry,
) -> Iterator[HistoryEnv]:
    """The servers and an in-process runtime whose environment is LambdaRuntime's.

    Every AWS call is evaluated by IAM against the synthesized role (S3 through the proxy): a
    denied call is a fake's violation, which invariant (g) reports.
    """
    base = LambdaRuntime(
        Path(sys.executable),
        {
            **s3_iam_proxy.env(),
            **sms_service.env(),
            **response_receiver.env(),
            **fake_cloudformation.env(),
        },
        tmp_path / "lambda",
        iam=iam_registry,
    )
    runtime = InProcessRuntime(base, tmp_path / "inprocess")
    env = HistoryEnv(
        assembly=e2e_assembly,
        runtime=runtime,
        receiver=response_receiver,
        sms=sms_service,
        cloudformation=fake_cloudformation,
        s3=s3_server.client(),
    )
    runtime.before_invoke = delay_hook(env)
    try:
        yield env
    finally:
        runtime.close()
        HistoryMachine.ENV = None
        print(f"\n{env.tally.line()}")


def _run(env: HistoryEnv, histories: int) -> None:
    HistoryMachine.ENV = env
    run_histories(HistoryMachine, histories, STEPS)


@pytest.mark.slow
def test_random_histories(history_env: HistoryEnv) -> None:
    _run(history_env, BOUNDED_HISTORIES)


@pytest.mark.load
@pytest.mark.slow
def test_many_histories(history_env: HistoryEnv, request: pytest.FixtureRequest) -> None:
    # The default selection (addopts' ``-m 'not aws'``) would include it; it takes minutes,
    # so it runs only when chosen: ``pytest -m load``.
    if "load" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip(f"{LOAD_HISTORIES} histories: select them with -m load")
    _run(history_env, LOAD_HISTORIES)


# --------------------------------------------------------------------------- a smoke test of the
# machine's plumbing: one fixed history through every kind of rule.


def test_a_fixed_history_runs_every_rule(history_env: HistoryEnv) -> None:
    replay(
        history_env,
        [
            ("redeploy_same", {}),
            ("review", {"action": "approve"}),
            ("deploy", {"declaration": "no_submit", "opt_in": "png"}),
            ("redeliver", {"index": 0}),
        ],
    )
    assert history_env.tally.checks > 0


# --------------------------------------------------------------------------- found: minimal failing
# histories. Each fails against the handler on main when it was found (issue 15); they are plain
# tests on purpose, for review (suggested: xfail(strict=False) until the rewrite lands).


def test_found_cancelled_edit_of_a_submitted_registration_withdraws_it(
    history_env: HistoryEnv,
) -> None:
    """A submitted registration, a field edit, and a sibling that fails at once.

    CloudFormation cancels the registration's Update and rolls back; the cancelled invocation
    goes on: it discards the SUBMITTED version 1, makes version 2 and writes all 18 fields, and
    only then sees it is no longer awaited. The rollback puts the old values back into version 2,
    which stays a DRAFT: the registration the user had submitted is withdrawn. Broke (d) (a
    forward request no longer awaited discards and creates versions) and (c) (the rollback does
    not leave what the service held before).

    Found as a race (the sibling failing at once); ``point`` pins the interleaving: the sibling
    fails while the registration's Update reads the current values, before it writes anything.
    """
    replay(
        history_env,
        [
            (
                "deploy_sibling_fails",
                {
                    "declaration": "edited",
                    "opt_in": "png",
                    "point": "DescribeRegistrationFieldValues",
                },
            )
        ],
    )


def test_found_rolled_back_updates_leave_a_version_a_redeploy_does_not_restore(
    history_env: HistoryEnv,
) -> None:
    """Two updates that roll back after every resource answered, then a re-deploy.

    The first adds an optional field: the forward Update discards the SUBMITTED version 1 and
    submits version 2 with it; its rollback cannot undo that without a new version (which a
    rollback never makes), so version 2 keeps the field, with a warning. The second rolls back
    too. Then an Update with the recorded declaration: it must write nothing and leave the
    association. Found against the first rewrite, where the machine took the field left behind
    for a lost declaration; the known limit is now in docs/reconcile.md, and the machine's (c)
    knows it (``left_by_rollback``) while still checking every declared value.
    """
    replay(
        history_env,
        [
            ("deploy_then_fail", {"declaration": "address2", "opt_in": "png"}),
            ("deploy_then_fail", {"declaration": "no_association", "opt_in": "pdf"}),
            ("redeploy_same", {}),
        ],
    )


def test_found_cancelled_type_change_creates_a_registration_during_the_rollback(
    history_env: HistoryEnv,
) -> None:
    """A type change (a replacement) whose sibling fails while it reads the registration.

    CloudFormation cancels the Update and rolls back; the cancelled invocation went on and
    called CreateRegistration during UPDATE_ROLLBACK_IN_PROGRESS (then deleted it at its next
    check). Broke (d): a forward request no longer awaited made a registration. The replacement
    now asks CloudFormation before it creates anything.
    """
    replay(
        history_env,
        [
            (
                "deploy_sibling_fails",
                {"declaration": "brand", "opt_in": "png", "point": "DescribeRegistrations"},
            )
        ],
    )


def test_found_cancelled_address_edit_with_a_png_to_pdf_swap_versions_during_the_rollback(
    history_env: HistoryEnv,
) -> None:
    """Found by the 500-history run (issue 15): an Update that edits a field of the submitted
    registration and swaps its opt-in image for a PDF, with a sibling failing while it runs.
    Broke (d): the forward Update, no longer awaited, called DiscardRegistrationVersion and
    CreateRegistrationVersion during UPDATE_ROLLBACK_IN_PROGRESS (then answered FAILED with 19
    of 19 writes made).

    The sibling failed while the Update read and wrote its tags, after its check and before the
    discard. Found unpinned (``redeliver(4)``, ``redeliver(36)``, then the sibling failing at
    ``CreateRegistrationAssociation`` by timing), it did not replay; ``ListTagsForResource`` as
    the point pins it: it fails every run without the check the handler now makes right before
    a discard or a new version.
    """
    replay(
        history_env,
        [
            (
                "deploy_sibling_fails",
                {"declaration": "address2", "opt_in": "pdf", "point": "ListTagsForResource"},
            ),
        ],
    )


def test_found_a_late_copy_of_an_old_update_deletes_the_attachment_the_stack_holds(
    history_env: HistoryEnv,
) -> None:
    """Found by the 500-history run (issue 15), after the pinned orders: the opt-in goes from
    PNG to PDF (a replacement, attachment C), a later update rolls back, and then the Update
    that made C is delivered again. Its ClientToken gives C back, and the handler asked
    CloudFormation whether the answer was awaited: the harness showed the logical resource as
    DELETE_COMPLETE (its rollback had deleted the other replacement), so the handler took the
    answer for ignored and deleted C, the attachment the stack holds. The next update then
    failed on the registration's optInImage, and its rollback created an attachment. Broke (d)
    and, now checked, (a): the stack held a gone attachment.

    The harness was wrong: DescribeStackResource shows the logical resource's current physical
    ID and status, not the cleanup Delete of a physical resource the stack no longer holds. With
    that fixed, the handler sees CloudFormation holds C and leaves it.
    """
    replay(
        history_env,
        [
            ("deploy", {"declaration": "edited", "opt_in": "pdf"}),
            (
                "deploy_sibling_fails",
                {
                    "declaration": "address2",
                    "opt_in": "png",
                    "point": "DescribeRegistrationFieldValues",
                },
            ),
            ("redeliver_what_made_the_opt_in", {}),
            ("deploy_then_fail", {"declaration": "base", "opt_in": "png"}),
        ],
    )


def test_found_a_sibling_failing_during_the_settle_before_a_submit(
    history_env: HistoryEnv,
) -> None:
    """Found by review (issue 15): the last check before a submit ran before the 2 s settle
    the written values need, so a sibling failing during the settle saw the registration
    submitted during its rollback. Broke (d). The runtimes shorten the settle to nothing, and
    the settle makes no call a pinned point could hold, so no history could reach it; here the
    sibling starts once every field write is made and the settle is the shipped one. The
    handler now asks CloudFormation after the settle, right before the submit.
    """
    replay(
        history_env,
        [("deploy_sibling_fails_during_the_settle", {"declaration": "edited", "opt_in": "png"})],
    )


def test_found_a_dropped_required_field_is_submitted_with_its_deleted_attachment(
    history_env: HistoryEnv,
) -> None:
    """Found by the 500-history run (issue 15): the opt-in image (a REQUIRED field) is dropped
    from a DRAFT declared with submit. The service refuses to delete a REQUIRED value, so the
    DRAFT kept the old opt-in attachment, the handler submitted it, and cleanup deleted that
    attachment: a version under review that names a deleted attachment and a value the stack no
    longer declares. Broke (c). The handler now fails such an Update before any write, naming
    the field; the rollback finds the DRAFT as it was.
    """
    replay(
        history_env,
        [
            ("deploy", {"declaration": "address2", "opt_in": "png"}),
            ("deploy", {"declaration": "no_submit", "opt_in": "png"}),
            ("deploy", {"declaration": "base", "opt_in": None}),
        ],
    )


def test_found_a_replaced_attachment_named_by_its_old_id_is_restored_by_no_rollback(
    history_env: HistoryEnv,
) -> None:
    """Found by the 500-history run (issue 15): the opt-in image is replaced (PNG to PDF) in the
    same update as a type change back to toll-free. The harness resolved every property before
    the update, so the new registration named the old attachment, which cleanup deleted; the
    next update (its number held by the old registration, which the service would not delete)
    failed, and its rollback could not put the deleted attachment back. Broke (c).

    The harness was wrong: CloudFormation updates a resource after the dependencies it names
    and resolves its properties then, so the registration gets the new attachment's ID. With
    that fixed, the failed update's rollback restores the DRAFT.
    """
    replay(
        history_env,
        [
            ("deploy", {"declaration": "base", "opt_in": "png"}),
            ("deploy", {"declaration": "brand", "opt_in": "png"}),
            ("deploy_then_fail", {"declaration": "brand", "opt_in": None}),
            ("deploy", {"declaration": "no_association", "opt_in": "pdf"}),
            ("deploy", {"declaration": "address2", "opt_in": "pdf"}),
        ],
    )


def test_found_a_dropped_required_field_stays_in_a_draft_that_is_not_submitted(
    history_env: HistoryEnv,
) -> None:
    """Found by the 500-history run (issue 15), the machine's mistake: a declaration without the
    opt-in image (REQUIRED) and without submit, on a DRAFT. The service refuses to delete a
    REQUIRED value, so the DRAFT keeps the earlier one; the handler now logs that it does, and
    the machine's (c) counts REQUIRED fields dropped from a DRAFT it does not submit as kept
    (submitting such a declaration fails before any write: the test above)."""
    replay(
        history_env,
        [
            ("redeliver", {"index": 0}),
            ("deploy_then_fail", {"declaration": "no_association", "opt_in": "pdf"}),
            ("redeliver", {"index": 0}),
            ("redeliver", {"index": 0}),
            ("deploy", {"declaration": "no_association", "opt_in": None}),
        ],
    )
