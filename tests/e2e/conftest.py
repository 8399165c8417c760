"""Session-scoped local servers for end-to-end tests, reset and checked around every test.

Fixtures:
- ``s3_server``: ``MotoS3Server`` (session; buckets persist, use unique names or ``reset()``).
- ``sms_service``: ``FakeSmsService`` backed by ``s3_server``; reset before each test and
  checked after it (``violations`` must be empty). ``sms_service_session`` is the raw one.
- ``response_receiver``: ``ResponseReceiver`` (HTTPS); reset before each test, ``problems``
  must be empty after it. ``response_receiver_session`` is the raw one.
- ``fake_cloudformation``: ``FakeCloudFormation`` (DescribeStacks, DescribeStackResource for the
  stacks being played); reset before each test, ``violations`` must be empty after it.
- ``brand_profiles``: ``FakeBrandProfiles`` (``endusermessaging``); reset before each test,
  ``violations`` must be empty after it. ``brand_profiles_session`` is the raw one.
- ``iam_registry``: the harness's ``IamRegistry`` (``iam_eval``): every function the
  deployments run signs with its role's own access key, and the fakes and ``s3_iam_proxy``
  evaluate its calls against the role's policies; a denied call fails the test (a violation).
  ``add_deny(statement)`` makes IAM refuse what a test wants refused; those denials are not
  violations (``denials`` lists every one). Reset around every test.
- ``s3_iam_proxy``: ``S3IamProxy`` in front of ``s3_server``, the handler's S3 endpoint;
  ``violations`` must be empty after the test.
- ``s3_client`` / ``sms_client``: real boto3 clients for the servers (region us-east-1).
- ``e2e_assembly`` / ``example_assembly``: ``CloudAssembly`` of tests/e2e/stacks.py (in-process
  synth) and of app.py (the real ``cdk synth``), session-scoped.
- ``lambda_python``: the ``Interpreter`` the Lambda runs under (the newest CPython installed).
- ``lambda_runtime``: ``LambdaRuntime`` (boto3-only virtualenv, endpoints of the servers above).
- ``deploy``: factory of ``StackDeployment``; fails the test on any problem they recorded, or
  on an invocation that did not run under ``lambda_python``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ..pythons import Interpreter, make_venv, newest_python
from .cloudformation import (
    CloudAssembly,
    LambdaRuntime,
    StackArtifact,
    StackDeployment,
)
from .fake_brand_profiles import FakeBrandProfiles
from .fake_cloudformation import FakeCloudFormation
from .fake_sms import FakeSmsService
from .iam_eval import IamRegistry
from .servers import MotoS3Server, ResponseReceiver, S3IamProxy


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoS3Server]:
    """moto's S3 as a real HTTP server for the whole session."""
    with MotoS3Server() as server:
        yield server


@pytest.fixture(scope="session")
def iam_registry_session() -> IamRegistry:
    """The identities (by access key) the fakes evaluate calls for, for the whole session."""
    return IamRegistry()


@pytest.fixture
def iam_registry(iam_registry_session: IamRegistry) -> Iterator[IamRegistry]:
    """The harness's IAM, its test-added denies and denial log cleared around the test."""
    iam_registry_session.reset()
    yield iam_registry_session
    iam_registry_session.reset()


@pytest.fixture(scope="session")
def s3_iam_proxy_session(
    s3_server: MotoS3Server, iam_registry_session: IamRegistry
) -> Iterator[S3IamProxy]:
    """IAM in front of moto's S3 for the whole session (prefer ``s3_iam_proxy``)."""
    with S3IamProxy(s3_server.url, iam_registry_session) as proxy:
        yield proxy


@pytest.fixture
def s3_iam_proxy(s3_iam_proxy_session: S3IamProxy) -> Iterator[S3IamProxy]:
    """The S3 proxy; fails the test on a denied or unevaluated call of a handler."""
    s3_iam_proxy_session.take_violations()
    yield s3_iam_proxy_session
    violations = s3_iam_proxy_session.take_violations()
    assert violations == [], "S3 calls IAM would refuse"


@pytest.fixture(scope="session")
def sms_service_session(
    s3_server: MotoS3Server, iam_registry_session: IamRegistry
) -> Iterator[FakeSmsService]:
    """The fake SMS endpoint for the whole session (prefer ``sms_service``)."""
    with FakeSmsService(s3_endpoint_url=s3_server.url) as service:
        service.iam = iam_registry_session
        yield service


@pytest.fixture
def sms_service(sms_service_session: FakeSmsService) -> Iterator[FakeSmsService]:
    """The fake SMS endpoint, reset before the test; fails the test on model violations."""
    sms_service_session.reset()
    yield sms_service_session
    violations = sms_service_session.take_violations()
    sms_service_session.reset()
    assert violations == [], "requests or responses broke the service model (or IAM's rules)"


@pytest.fixture(scope="session")
def brand_profiles_session(
    iam_registry_session: IamRegistry, sms_service_session: FakeSmsService
) -> Iterator[FakeBrandProfiles]:
    """The fake endusermessaging endpoint for the whole session (prefer ``brand_profiles``);
    the registrations it makes from profiles are ``sms_service_session``'s."""
    with FakeBrandProfiles() as service:
        service.iam = iam_registry_session
        service.sms = sms_service_session
        yield service


@pytest.fixture
def brand_profiles(brand_profiles_session: FakeBrandProfiles) -> Iterator[FakeBrandProfiles]:
    """The fake brand profiles, reset before the test; fails it on model or IAM violations."""
    brand_profiles_session.reset()
    yield brand_profiles_session
    violations = brand_profiles_session.take_violations()
    brand_profiles_session.reset()
    assert violations == [], "requests or responses broke the service model (or IAM's rules)"


@pytest.fixture(scope="session")
def response_receiver_session() -> Iterator[ResponseReceiver]:
    """The HTTPS ResponseURL receiver for the whole session (prefer ``response_receiver``)."""
    with ResponseReceiver() as receiver:
        yield receiver


@pytest.fixture
def response_receiver(
    response_receiver_session: ResponseReceiver,
) -> Iterator[ResponseReceiver]:
    """The ResponseURL receiver, reset before the test; fails the test on bad responses."""
    response_receiver_session.reset()
    yield response_receiver_session
    problems = list(response_receiver_session.problems)
    response_receiver_session.reset()
    assert problems == [], "custom-resource responses broke CloudFormation's rules"


@pytest.fixture(scope="session")
def fake_cloudformation_session(
    iam_registry_session: IamRegistry,
) -> Iterator[FakeCloudFormation]:
    """CloudFormation's read API for the played stacks, for the whole session."""
    with FakeCloudFormation() as fake:
        fake.iam = iam_registry_session
        yield fake


@pytest.fixture
def fake_cloudformation(
    fake_cloudformation_session: FakeCloudFormation,
) -> Iterator[FakeCloudFormation]:
    """The fake CloudFormation endpoint, reset before the test; fails it on model violations."""
    fake_cloudformation_session.reset()
    yield fake_cloudformation_session
    violations = fake_cloudformation_session.take_violations()
    fake_cloudformation_session.reset()
    assert violations == [], "requests or responses broke the cloudformation model (or IAM's)"


@pytest.fixture
def s3_client(s3_server: MotoS3Server) -> Any:
    """A real boto3 S3 client for ``s3_server``."""
    return s3_server.client()


@pytest.fixture
def sms_client(sms_service: FakeSmsService) -> Any:
    """A real boto3 ``pinpoint-sms-voice-v2`` client for ``sms_service`` (default retries)."""
    return sms_service.client()


# --------------------------------------------------------------------------- CloudFormation harness
# Slow set-up (the boto3-only virtualenv, the CDK CLI synth of the example app) starts in the
# background when the first deployment test needs any of it, and overlaps the in-process synth.

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_STACK = "SmsRegistrationExample"


def _boto3_requirement() -> str:
    """boto3 pinned exactly as requirements-dev.txt pins it."""
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if line.strip().lower().startswith("boto3=="):
            return line.strip()
    raise RuntimeError("requirements-dev.txt pins no boto3")


def _cli_synth(outdir: Path) -> Path:
    """``cdk synth`` of the example app with the project's pinned CLI, as a user runs it."""
    env = {
        **os.environ,
        "PATH": os.pathsep.join(
            [str(REPO / ".venv" / "bin"), str(REPO / "node_modules" / ".bin"), os.environ["PATH"]]
        ),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    command = [str(REPO / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices"]
    completed = subprocess.run(
        [*command, "--output", str(outdir), EXAMPLE_STACK],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"cdk synth failed:\n{completed.stderr[-3000:]}")
    return outdir


class _Background:
    """Set-up work that runs in threads while the session does other things."""

    def __init__(self, workdir: Path) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="e2e-setup")
        # The Lambda runtime (python3.14) is newer than the dev environment: get as close as we can.
        self.python = newest_python()
        self.venv: Future[Path] = self._pool.submit(
            make_venv, self.python.path, workdir / "lambda-venv", _boto3_requirement()
        )
        self.example: Future[Path] = self._pool.submit(_cli_synth, workdir / "example-cdk.out")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def _background(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Background]:
    background = _Background(tmp_path_factory.mktemp("e2e-setup"))
    yield background
    background.close()


@pytest.fixture(scope="session")
def e2e_assembly(
    _background: _Background, tmp_path_factory: pytest.TempPathFactory
) -> CloudAssembly:
    """The test stacks (tests/e2e/stacks.py), synthesized in-process in one app."""
    from .stacks import build  # imports aws_cdk: only sessions that deploy pay for it

    return CloudAssembly(build(tmp_path_factory.mktemp("e2e-cdk.out")))


@pytest.fixture(scope="session")
def example_assembly(_background: _Background) -> CloudAssembly:
    """The example app (app.py), synthesized by the real CDK CLI."""
    return CloudAssembly(_background.example.result())


@pytest.fixture(scope="session")
def lambda_python(_background: _Background) -> Interpreter:
    """The interpreter of the boto3-only virtualenv: the newest CPython installed."""
    return _background.python


@pytest.fixture(scope="session")
def lambda_runtime(
    _background: _Background,
    tmp_path_factory: pytest.TempPathFactory,
    s3_iam_proxy_session: S3IamProxy,
    sms_service_session: FakeSmsService,
    brand_profiles_session: FakeBrandProfiles,
    response_receiver_session: ResponseReceiver,
    fake_cloudformation_session: FakeCloudFormation,
    iam_registry_session: IamRegistry,
) -> LambdaRuntime:
    """Runs handler invocations in the boto3-only virtualenv against the local endpoints.

    The functions reach S3 through ``s3_iam_proxy``, so their reads are evaluated too.
    """
    return LambdaRuntime(
        _background.venv.result(),
        {
            **s3_iam_proxy_session.env(),
            **sms_service_session.env(),
            **brand_profiles_session.env(),
            **response_receiver_session.env(),
            **fake_cloudformation_session.env(),
        },
        tmp_path_factory.mktemp("lambda"),
        iam=iam_registry_session,
    )


Deploy = Callable[..., StackDeployment]


@pytest.fixture
def deploy(
    e2e_assembly: CloudAssembly,
    lambda_runtime: LambdaRuntime,
    lambda_python: Interpreter,
    response_receiver: ResponseReceiver,
    sms_service: FakeSmsService,
    s3_server: MotoS3Server,
    fake_cloudformation: FakeCloudFormation,
    iam_registry: IamRegistry,
    s3_iam_proxy: S3IamProxy,
) -> Iterator[Deploy]:
    """Make ``StackDeployment``s of e2e stacks (a name) or any ``StackArtifact``.

    After the test, every deployment's recorded problems (missing or extra responses, function
    errors, timeouts, a handler not loaded from the staged asset, another Python) fail it.
    """
    made: list[StackDeployment] = []

    def make(stack: str | StackArtifact, **options: Any) -> StackDeployment:
        artifact = e2e_assembly.stack(stack) if isinstance(stack, str) else stack
        deployment = StackDeployment(
            artifact,
            runtime=lambda_runtime,
            receiver=response_receiver,
            s3=s3_server.client(),
            cloudformation=fake_cloudformation,
            **options,
        )
        made.append(deployment)
        return deployment

    yield make
    problems = [problem for deployment in made for problem in deployment.verify()]
    problems += [
        f"{sent.request_type} {sent.logical_id} ran under Python {version}, not {lambda_python}"
        for deployment in made
        for sent in [*deployment.history, *deployment.late]
        for invocation in sent.deliveries
        if invocation.result is not None
        and (version := invocation.result.get("pythonVersion")) != lambda_python.version_text
    ]
    assert problems == [], "\n".join(problems)
