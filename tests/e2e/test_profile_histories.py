"""Random whole histories of a brand profile stack (issue 17: profiles join the histories).

``test_random_profile_histories`` runs ``profile_histories.ProfileHistoryMachine`` for a bounded,
derandomized number of histories (``make test``); ``test_many_profile_histories`` runs at least
500 (``pytest -m load``). Each prints one line: histories, steps, invariant checks passed. The
handler runs in-process, every AWS call over HTTP to the fakes, IAM evaluated on each.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cloudformation import CloudAssembly, LambdaRuntime
from .fake_brand_profiles import FakeBrandProfiles
from .fake_cloudformation import FakeCloudFormation
from .fake_sms import FakeSmsService
from .histories import run_histories
from .iam_eval import IamRegistry
from .inprocess import InProcessRuntime
from .profile_histories import ProfileHistoryEnv, ProfileHistoryMachine
from .servers import MotoS3Server, ResponseReceiver, S3IamProxy

BOUNDED_HISTORIES = int(os.environ.get("PROFILE_HISTORIES", "12"))
LOAD_HISTORIES = int(os.environ.get("LOAD_HISTORIES", "500"))
STEPS = 6


@pytest.fixture
def profile_history_env(
    e2e_assembly: CloudAssembly,
    tmp_path: Path,
    s3_server: MotoS3Server,
    sms_service: FakeSmsService,
    brand_profiles: FakeBrandProfiles,
    response_receiver: ResponseReceiver,
    fake_cloudformation: FakeCloudFormation,
    s3_iam_proxy: S3IamProxy,
    iam_registry: IamRegistry,
) -> Iterator[ProfileHistoryEnv]:
    base = LambdaRuntime(
        Path(sys.executable),
        {
            **s3_iam_proxy.env(),
            **sms_service.env(),
            **brand_profiles.env(),
            **response_receiver.env(),
            **fake_cloudformation.env(),
        },
        tmp_path / "lambda",
        iam=iam_registry,
    )
    runtime = InProcessRuntime(base, tmp_path / "inprocess")
    env = ProfileHistoryEnv(
        assembly=e2e_assembly,
        runtime=runtime,
        receiver=response_receiver,
        sms=sms_service,
        profiles=brand_profiles,
        cloudformation=fake_cloudformation,
        s3=s3_server.client(),
    )
    try:
        yield env
    finally:
        runtime.close()
        ProfileHistoryMachine.ENV = None
        print(f"\nprofile {env.tally.line()}")


def _run(env: ProfileHistoryEnv, histories: int) -> None:
    ProfileHistoryMachine.ENV = env
    run_histories(ProfileHistoryMachine, histories, STEPS)


@pytest.mark.slow
def test_random_profile_histories(profile_history_env: ProfileHistoryEnv) -> None:
    _run(profile_history_env, BOUNDED_HISTORIES)
    assert profile_history_env.tally.checks > 0


@pytest.mark.load
@pytest.mark.slow
def test_many_profile_histories(
    profile_history_env: ProfileHistoryEnv, request: pytest.FixtureRequest
) -> None:
    if "load" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip(f"{LOAD_HISTORIES} histories: select them with -m load")
    _run(profile_history_env, LOAD_HISTORIES)


def test_a_fixed_profile_history_runs_every_rule(profile_history_env: ProfileHistoryEnv) -> None:
    ProfileHistoryMachine.ENV = profile_history_env
    machine = ProfileHistoryMachine()
    try:
        machine.create()
        machine.deploy("changed")
        machine.redeploy_same()
        machine.deploy_then_fail("renamed")
        machine.deploy_sibling_fails("logo_pdf")
        machine.deploy("bad")
        machine.redeliver(1)
    finally:
        machine.teardown()
    assert profile_history_env.tally.checks > 0


def test_found_a_late_create_writes_its_older_values_over_the_profile(
    profile_history_env: ProfileHistoryEnv,
) -> None:
    """Found by the first run of the profile histories (issue 17): the profile's Create,
    delivered again after an Update changed a value. Its ClientToken gave back the stack's
    profile, and the Create wrote its own (older) attributes over it: the profile no longer
    held what the stack declares. Broke (c). A Create whose profile already holds attributes
    now asks CloudFormation first, and writes nothing when the stack already records it.
    """
    ProfileHistoryMachine.ENV = profile_history_env
    machine = ProfileHistoryMachine()
    try:
        machine.create()
        machine.deploy("changed")
        machine.redeliver_the_profile_create()
    finally:
        machine.teardown()


def test_found_a_late_forward_update_deletes_an_attribute_its_rollback_restored(
    profile_history_env: ProfileHistoryEnv,
) -> None:
    """Found by 60 profile histories under ``-m load`` (issue 17): a renamed attribute (a delete
    and a create) whose update rolled back, then the forward Update delivered again: it deleted
    ``website`` before its first look at CloudFormation (the looks came every 5 s while writing,
    the first only after 5 s). Broke (c). The first attribute write now asks first.
    """
    ProfileHistoryMachine.ENV = profile_history_env
    machine = ProfileHistoryMachine()
    try:
        machine.create()
        machine.deploy_then_fail("renamed")
        machine.redeliver(13)
    finally:
        machine.teardown()
