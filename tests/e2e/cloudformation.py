"""CloudFormation, played for custom resources: a real cloud assembly in, documented events out.

Reading a synthesized stack (``manifest.json``, ``<Stack>.template.json``, ``<Stack>.assets.json``),
this module does what CloudFormation and Lambda do for ``Custom::*`` resources, against local
endpoints:

- ``resolve()``: the intrinsic functions CDK writes (Ref, Fn::Sub, Fn::Join, Fn::GetAtt,
  Fn::Select, Fn::Split, Fn::ImportValue, Fn::Base64) with pseudo parameters, stack parameters,
  physical IDs of the stack's resources and a dict of exports.
- ``LambdaRuntime``: runs one invocation of a function's staged asset in a subprocess (a
  boto3-only virtualenv, ``PYTHONPATH`` = the asset, a clean environment whose only redirection
  is ``AWS_ENDPOINT_URL_*``), through ``lambda_runner.py``.
- ``StackDeployment``: provisions what custom resources need (file assets in the CDK asset
  bucket, the stack's S3 buckets and bucket policies, its functions), then plays Create, Update
  and Delete with CloudFormation's rules: independent resources in parallel, dependent ones in
  dependency order (a stack update resolves a resource's properties when its turn comes, so a
  dependency replaced earlier in the update gives its new physical ID), a new physical ID
  on Update is a replacement whose old ID is deleted in cleanup, a failed Update is rolled back
  with an Update carrying the old properties, a failed Create is rolled back with a Delete of
  the physical ID the FAILED response carried.
- What CloudFormation does when things go wrong: when one request of a wave fails, the others
  still running are cancelled (their answers are ignored; the rollback sends Delete with a
  physical ID CloudFormation makes up, or the rollback Update for an Update, while the cancelled
  invocation may still run); an empty physical ID in an answer is rejected and replaced by a
  generated one; an invocation that crashed or timed out is delivered again, as Lambda's
  asynchronous retries do (the function's EventInvokeConfig); CloudFormation stops waiting after
  ServiceTimeout. Stack and resource statuses are served over HTTP by ``fake_cloudformation``.

Everything a response or an invocation gets wrong (no response, a second response, a function
error, a handler loaded from the wrong place) lands in ``StackDeployment.problems``.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime
import itertools
import json
import os
import random
import re
import string
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .fake_cloudformation import FakeCloudFormation
from .iam_eval import (
    TEST_ACCESS_KEY,
    IamRegistry,
    Identity,
    access_key_for,
    assumed_role_arn,
    identity_policies,
)
from .servers import ResponseReceiver

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
CDK_QUALIFIER = "hnb659fds"
ASSET_BUCKET = f"cdk-{CDK_QUALIFIER}-assets-{ACCOUNT}-{REGION}"
RUNNER = Path(__file__).resolve().parent / "lambda_runner.py"
#: Fixed waits of the handler the subprocess runtime shortens (module-level name -> seconds):
#: the settle time before a submit and the pause between looks for CloudFormation's record of
#: an answer, which the harness makes within milliseconds. Limits and the upload polls (which
#: the throughput and quota tests measure) stay as shipped. ``LambdaRuntime.short_waits = {}``
#: runs the shipped waits.
SUBPROCESS_SHORT_WAITS: Mapping[str, float] = {
    "SUBMIT_SETTLE_SECONDS": 0.0,
    "CONFIRM_POLL_SECONDS": 0.02,
}

#: How long a finished invocation's response may take to show up at the receiver.
RESPONSE_WAIT_SECONDS = 5.0
#: Beyond the function's Timeout, how long the harness waits before it kills a runner itself.
KILL_GRACE_SECONDS = 15.0

SUCCESS = "SUCCESS"
FAILED = "FAILED"
NO_RESPONSE = "NO_RESPONSE"
#: A request CloudFormation stopped waiting for because a sibling failed.
CANCELLED = "CANCELLED"
#: CloudFormation's default ServiceTimeout, when a resource does not set one.
DEFAULT_SERVICE_TIMEOUT = 3600.0
#: Lambda's defaults when a function has no EventInvokeConfig.
DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE = 6 * 3600


class TemplateError(Exception):
    """The template uses something this harness cannot play faithfully."""


# --------------------------------------------------------------------------- intrinsics


@dataclasses.dataclass
class Scope:
    """What names resolve to: pseudo parameters, parameters and resources, exports."""

    pseudo: Mapping[str, str]
    refs: Mapping[str, Any]
    attributes: Mapping[tuple[str, str], Any]
    exports: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"Ref {name!r}: no such parameter or resource")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: not available") from None


#: ``Ref: AWS::NoValue`` removes the property or list item that holds it.
NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def resolve(value: Any, scope: Scope) -> Any:
    """The value with every intrinsic function replaced by what CloudFormation would put there."""
    if isinstance(value, list):
        items = [resolve(item, scope) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return NO_VALUE if argument == "AWS::NoValue" else scope.ref(argument)
        if name.startswith("Fn::"):
            function = _FUNCTIONS.get(name)
            if function is None:
                raise TemplateError(f"{name} is not supported by the harness")
            return function(argument, scope)
    resolved = {key: resolve(item, scope) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TemplateError(f"{what}: expected a string, got {value!r}")
    return str(value)


def _sub(argument: Any, scope: Scope) -> str:
    if isinstance(argument, list):
        template, variables = argument[0], resolve(argument[1], scope)
    else:
        template, variables = argument, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return _text(variables[name], f"Fn::Sub ${{{name}}}")
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return _text(scope.get_att(logical_id, attribute), f"Fn::Sub ${{{name}}}")
        return _text(scope.ref(name), f"Fn::Sub ${{{name}}}")

    return _SUB_VARIABLE.sub(replace, _text(template, "Fn::Sub"))


def _join(argument: Any, scope: Scope) -> str:
    separator, items = argument
    parts = resolve(items, scope)
    return _text(separator, "Fn::Join").join(_text(part, "Fn::Join") for part in parts)


def _get_att(argument: Any, scope: Scope) -> Any:
    logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
    return scope.get_att(logical_id, resolve(attribute, scope))


def _select(argument: Any, scope: Scope) -> Any:
    index, items = resolve(argument, scope)
    return items[int(index)]


def _split(argument: Any, scope: Scope) -> list[str]:
    separator, text = resolve(argument, scope)
    return _text(text, "Fn::Split").split(separator)


def _import_value(argument: Any, scope: Scope) -> str:
    name = _text(resolve(argument, scope), "Fn::ImportValue")
    if name not in scope.exports:
        raise TemplateError(f"Fn::ImportValue {name!r}: no such export")
    return scope.exports[name]


def _base64(argument: Any, scope: Scope) -> str:
    return base64.b64encode(_text(resolve(argument, scope), "Fn::Base64").encode()).decode()


_FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::GetAtt": _get_att,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::ImportValue": _import_value,
    "Fn::Base64": _base64,
}


def as_cloudformation_sends(value: Any) -> Any:
    """Custom resources get every scalar as a string: 3 -> "3", true -> "true"."""
    if isinstance(value, dict):
        return {key: as_cloudformation_sends(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_cloudformation_sends(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def pseudo_parameters(stack_name: str, stack_id: str) -> dict[str, str]:
    """The pseudo parameters of a stack in the test account and region."""
    return {
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": URL_SUFFIX,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
    }


def references(value: Any) -> set[str]:
    """Logical IDs a template fragment refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item.split(".")[0] if isinstance(item, str) else item[0])
            elif key == "Fn::Sub":
                template = item[0] if isinstance(item, list) else item
                for name in _SUB_VARIABLE.findall(template):
                    if not name.startswith(("!", "AWS::")):
                        found.add(name.split(".")[0])
                if isinstance(item, list):
                    found |= references(item[1])
            else:
                found |= references(item)
    return found


# --------------------------------------------------------------------------- cloud assembly


@dataclasses.dataclass(frozen=True)
class FileAsset:
    """One file asset of a stack: where it is staged and where CDK would publish it."""

    asset_id: str
    source: Path
    packaging: str
    bucket_name: str
    object_key: str


@dataclasses.dataclass(frozen=True)
class LambdaFunction:
    """A function of the template, bound to its staged asset directory."""

    logical_id: str
    name: str
    arn: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    runtime: str
    asset_dir: Path
    environment: Mapping[str, str]
    #: The execution role's ARN; its access key (``iam_eval.access_key_for``) signs the calls.
    role_arn: str | None = None


class StackArtifact:
    """One stack of a cloud assembly: its template and its asset manifest."""

    def __init__(self, directory: Path, name: str, properties: Mapping[str, Any]) -> None:
        self.directory = directory
        self.name = name
        self.template: dict[str, Any] = json.loads(
            (directory / properties["templateFile"]).read_text()
        )
        assets_file = directory / f"{name}.assets.json"
        self.asset_manifest: dict[str, Any] = (
            json.loads(assets_file.read_text()) if assets_file.exists() else {"files": {}}
        )

    def __repr__(self) -> str:
        return f"StackArtifact({self.name!r})"

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.get("Resources", {})
        return resources

    def resources_of_type(self, resource_type: str) -> dict[str, Any]:
        """Logical ID -> resource, for one type."""
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    def custom_resources(self) -> dict[str, Any]:
        """Logical ID -> resource, for every custom resource."""
        return {
            lid: r
            for lid, r in self.resources.items()
            if r["Type"].startswith("Custom::")
            or r["Type"] == "AWS::CloudFormation::CustomResource"
        }

    def logical_id(self, path_suffix: str) -> str:
        """The logical ID whose ``aws:cdk:path`` ends with ``/path_suffix``."""
        found = [
            lid
            for lid, resource in self.resources.items()
            if resource.get("Metadata", {}).get("aws:cdk:path", "").endswith(f"/{path_suffix}")
        ]
        if len(found) != 1:
            raise KeyError(f"{self.name}: {len(found)} resources at */{path_suffix}: {found}")
        return found[0]

    def file_assets(self, pseudo: Mapping[str, str]) -> list[FileAsset]:
        """The file assets, with the placeholders in their destinations filled in."""
        scope = Scope(pseudo=pseudo, refs={}, attributes={})
        assets = []
        for asset_id, asset in self.asset_manifest.get("files", {}).items():
            for destination in asset["destinations"].values():
                assets.append(
                    FileAsset(
                        asset_id=asset_id,
                        source=self.directory / asset["source"]["path"],
                        packaging=asset["source"].get("packaging", "file"),
                        bucket_name=_sub(destination["bucketName"], scope),
                        object_key=_sub(destination["objectKey"], scope),
                    )
                )
        return assets


class CloudAssembly:
    """A ``cdk.out`` directory: the stacks its ``manifest.json`` lists."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.manifest: dict[str, Any] = json.loads((self.directory / "manifest.json").read_text())

    def stack_names(self) -> list[str]:
        return [
            name
            for name, artifact in self.manifest["artifacts"].items()
            if artifact["type"] == "aws:cloudformation:stack"
        ]

    def stack(self, name: str) -> StackArtifact:
        artifact = self.manifest["artifacts"].get(name)
        if artifact is None or artifact["type"] != "aws:cloudformation:stack":
            raise KeyError(f"no stack {name!r} in {self.directory} (have {self.stack_names()})")
        return StackArtifact(self.directory, name, artifact["properties"])


# --------------------------------------------------------------------------- Lambda


@dataclasses.dataclass
class Invocation:
    """One run of the runner: how it ended and what it reported."""

    function: LambdaFunction
    event: dict[str, Any]
    exit_code: int | None
    #: Ended by the test's ``kill_when`` (on purpose).
    killed: bool
    #: Still running long after its Timeout, so the harness ended it (a runner fault).
    hung: bool
    duration: float
    result: dict[str, Any] | None
    log_path: Path

    @property
    def timed_out(self) -> bool:
        """The function ran into its Timeout and was ended like Lambda ends it."""
        return bool(self.result and self.result.get("timedOut"))

    def log_tail(self, size: int = 3000) -> str:
        """The end of the function's output (its CloudWatch log, here a file)."""
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "<no log>"


class LambdaRuntime:
    """Runs invocations as Lambda's Python runtime would, one subprocess per cold start."""

    def __init__(
        self,
        python: Path,
        base_env: Mapping[str, str],
        workdir: Path,
        *,
        iam: IamRegistry | None = None,
    ) -> None:
        self.python = python
        self.short_waits: dict[str, float] = dict(SUBPROCESS_SHORT_WAITS)
        #: Where provisioning registers each function role's policies, by its access key.
        self.iam = iam
        self.venv = python.parent.parent
        self.base_env = dict(base_env)
        self.workdir = workdir
        self.home = workdir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    def environment(self, function: LambdaFunction) -> dict[str, str]:
        """The variables Lambda sets, the function's own, and the local endpoints; nothing else."""
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "HOME": str(self.home),
            "PYTHONPATH": str(function.asset_dir),
            # /var/task is read-only on Lambda: never write __pycache__ into the staged asset.
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(function.asset_dir),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4()}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # Each role signs with its own key, so the fakes know whose policies to evaluate.
            "AWS_ACCESS_KEY_ID": (
                access_key_for(function.role_arn) if function.role_arn else TEST_ACCESS_KEY
            ),
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "E2E_FUNCTION_ARN": function.arn,
            **self.base_env,
            **function.environment,
        }

    def invoke(
        self,
        function: LambdaFunction,
        event: dict[str, Any],
        *,
        timeout_seconds: float | None = None,
        kill_when: Callable[[], bool] | None = None,
    ) -> Invocation:
        """Run the handler once on ``event``; ``kill_when`` ends the process early (SIGKILL)."""
        timeout = float(timeout_seconds or function.timeout_seconds)
        number = next(self._numbers)
        label = f"{number:04d}-{event.get('LogicalResourceId', 'x')}-{event.get('RequestType')}"
        log_path = self.workdir / f"{label}.log"
        result_path = self.workdir / f"{label}.result.json"
        command = [str(self.python), "-P", "-s", str(RUNNER), function.handler, str(timeout)]
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [*command, str(result_path), json.dumps(self.short_waits)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(function),
                cwd=function.asset_dir,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(event).encode())
            process.stdin.close()
            ended = self._wait(process, started + timeout + KILL_GRACE_SECONDS, kill_when)
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        return Invocation(
            function=function,
            event=event,
            exit_code=process.returncode,
            killed=ended == "killed",
            hung=ended == "hung",
            duration=time.monotonic() - started,
            result=result,
            log_path=log_path,
        )

    @staticmethod
    def _wait(
        process: subprocess.Popen[bytes], give_up_at: float, kill_when: Callable[[], bool] | None
    ) -> str:
        """Wait for the process; returns "exited", "killed" (``kill_when``) or "hung"."""
        while True:
            try:
                process.wait(timeout=0.05 if kill_when else max(0.0, give_up_at - time.monotonic()))
                return "exited"
            except subprocess.TimeoutExpired:
                killed = kill_when is not None and kill_when()
                if killed or time.monotonic() >= give_up_at:
                    process.kill()
                    process.wait()
                    return "killed" if killed else "hung"


# --------------------------------------------------------------------------- deployment


@dataclasses.dataclass
class Sent:
    """One request CloudFormation sent, the invocations that handled it, and the response taken.

    ``invocation`` is the last delivery (Lambda retries crashed or timed-out ones); a cancelled
    request or one past ServiceTimeout has none yet (it runs on; see ``StackDeployment.late``).
    """

    event: dict[str, Any]
    invocation: Invocation | None
    response: dict[str, Any] | None
    deliveries: list[Invocation] = dataclasses.field(default_factory=list)
    #: CANCELLED or NO_RESPONSE when CloudFormation stopped waiting before an answer came.
    outcome: str | None = None
    #: The physical ID CloudFormation recorded when the answer's was unusable (empty, absent).
    generated_id: str | None = None

    @property
    def request_type(self) -> str:
        return str(self.event["RequestType"])

    @property
    def logical_id(self) -> str:
        return str(self.event["LogicalResourceId"])

    @property
    def status(self) -> str:
        """SUCCESS, FAILED, CANCELLED, or NO_RESPONSE (CloudFormation gave up waiting)."""
        if self.outcome is not None:
            return self.outcome
        if self.response is None:
            return NO_RESPONSE
        if not self.response.get("PhysicalResourceId"):
            return FAILED  # "Invalid PhysicalResourceId"
        return str(self.response.get("Status"))

    @property
    def physical_id(self) -> str | None:
        if self.generated_id is not None:
            return self.generated_id
        return None if self.response is None else self.response.get("PhysicalResourceId")

    @property
    def reason(self) -> str:
        return "" if self.response is None else str(self.response.get("Reason") or "")

    @property
    def data(self) -> dict[str, Any]:
        return {} if self.response is None else dict(self.response.get("Data") or {})


@dataclasses.dataclass
class DeployResult:
    """What one stack operation did: its final status and every request, in order.

    ``late``: answers that came after CloudFormation had stopped waiting (ignored by it).
    """

    status: str
    requests: list[Sent]
    late: list[Sent] = dataclasses.field(default_factory=list)

    def select(self, request_type: str | None = None, logical_id: str | None = None) -> list[Sent]:
        return [
            sent
            for sent in self.requests
            if (request_type is None or sent.request_type == request_type)
            and (logical_id is None or sent.logical_id == logical_id)
        ]

    def one(self, request_type: str, logical_id: str) -> Sent:
        found = self.select(request_type, logical_id)
        assert len(found) == 1, f"{len(found)} {request_type} requests for {logical_id}"
        return found[0]

    @property
    def statuses(self) -> collections.Counter[str]:
        return collections.Counter(f"{sent.request_type}:{sent.status}" for sent in self.requests)


@dataclasses.dataclass(frozen=True)
class _Resource:
    """A custom resource as CloudFormation records it after a completed operation."""

    physical_id: str
    properties: dict[str, Any]
    data: dict[str, Any]


class StackDeployment:
    """One stack's life under CloudFormation, for its custom resources.

    ``create_all()``, ``update(logical_id, properties)``, ``deploy(new_stack)`` and
    ``delete_all()`` are stack operations with CloudFormation's ordering, parallelism,
    replacement cleanup and rollback; ``event()`` and ``send()`` are the raw parts, for
    duplicate deliveries and killed invocations.
    """

    def __init__(
        self,
        stack: StackArtifact,
        *,
        runtime: LambdaRuntime,
        receiver: ResponseReceiver,
        s3: Any,
        stack_name: str | None = None,
        parameters: Mapping[str, str] | None = None,
        exports: Mapping[str, str] | None = None,
        parallelism: int = 4,
        providers: Sequence[StackDeployment] = (),
        function_timeout: float | None = None,
        cloudformation: FakeCloudFormation | None = None,
        service_timeout: float | None = None,
        retry_delay: float = 0.2,
    ) -> None:
        self.stack = stack
        self.runtime = runtime
        self.receiver = receiver
        self.s3 = s3
        self.stack_name = stack_name or stack.name
        self.stack_id = (
            f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:"
            f"stack/{self.stack_name}/{uuid.uuid4()}"
        )
        self.parameters: dict[str, str] = dict(parameters or {})
        self.exports: dict[str, str] = dict(exports or {})
        self.parallelism = parallelism
        self.function_timeout = function_timeout
        #: Deployed stacks whose functions this stack's ServiceTokens may name (Fn::ImportValue).
        self.providers = list(providers)
        #: Physical IDs CloudFormation left in place on delete (DeletionPolicy: Retain).
        self.retained: dict[str, str] = {}
        self.resources: dict[str, _Resource] = {}
        self.history: list[Sent] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._physical: dict[str, str] = {}
        self._attributes: dict[tuple[str, str], Any] = {}
        self._functions: dict[str, LambdaFunction] = {}
        self._suffix = uuid.uuid4().hex[:8]
        self._provisioned_for: StackArtifact | None = None
        #: Overrides every resource's ServiceTimeout (seconds), to play it in a test.
        self.service_timeout = service_timeout
        #: Lambda waits a minute or two before a retry; the harness waits this long.
        self.retry_delay = retry_delay
        self.created = datetime.datetime.now(datetime.timezone.utc)
        self.stack_status = "REVIEW_IN_PROGRESS"
        self._resource_state: dict[str, dict[str, Any]] = {}
        #: Requests CloudFormation no longer waits for, still running; joined by ``settle()``.
        self._running: list[tuple[dict[str, Any], Future[list[Invocation]]]] = []
        #: Answers that came after CloudFormation stopped waiting (ignored by it).
        self.late: list[Sent] = []
        #: Lambda runs at most ``parallelism`` invocations of this stack at once.
        self._deliveries = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="lambda")
        self._first_delivery: dict[str, float] = {}
        #: Ends the first delivery of every request the stack operations send when it turns
        #: true (a crash or timeout of the sandbox); Lambda then delivers the event again.
        self.kill_first_delivery_when: Callable[[], bool] | None = None
        if cloudformation is not None:
            cloudformation.register(self)

    # ----------------------------------------------------------------- what CloudFormation shows

    def current_stack_status(self) -> str:
        """The stack's status, as DescribeStacks shows it."""
        with self._lock:
            return self.stack_status

    def in_rollback(self) -> bool:
        """The stack rolls back or has rolled back: no forward request is awaited any more."""
        return "ROLLBACK" in self.current_stack_status()

    def resource_detail(self, logical_id: str) -> dict[str, Any] | None:
        """The resource as DescribeStackResource shows it, or None before its first request."""
        with self._lock:
            state = self._resource_state.get(logical_id)
            return dict(state) if state is not None else None

    def _set_stack_status(self, status: str) -> None:
        with self._lock:
            self.stack_status = status

    def _set_resource(
        self, logical_id: str, status: str, physical_id: str | None = None, *, keep_id: bool = True
    ) -> None:
        resource_type = self.stack.resources.get(logical_id, {}).get("Type", "Custom::Unknown")
        with self._lock:
            state = self._resource_state.setdefault(
                logical_id, {"LogicalResourceId": logical_id, "ResourceType": resource_type}
            )
            state["ResourceStatus"] = status
            state["LastUpdatedTimestamp"] = datetime.datetime.now(datetime.timezone.utc)
            if physical_id is not None or not keep_id:
                state["PhysicalResourceId"] = physical_id
            if state.get("PhysicalResourceId") is None:
                state.pop("PhysicalResourceId", None)

    def generated_physical_id(self, logical_id: str) -> str:
        """A physical ID the way CloudFormation makes one up: stack, logical ID, random."""
        suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=13))
        return f"{self.stack_name}-{logical_id[:40]}-{suffix}"

    # ----------------------------------------------------------------- names and state

    @property
    def pseudo(self) -> dict[str, str]:
        return pseudo_parameters(self.stack_name, self.stack_id)

    def functions(self) -> list[LambdaFunction]:
        """The stack's Lambda functions, as provisioned."""
        self.provision()
        return list(self._functions.values())

    def physical_id(self, logical_id: str) -> str:
        """The physical ID CloudFormation holds for a resource of the stack."""
        if logical_id in self.resources:
            return self.resources[logical_id].physical_id
        return self._physical[logical_id]

    def bucket_name(self, logical_id: str) -> str:
        """The physical name the harness gave an ``AWS::S3::Bucket`` of the stack."""
        self.provision()
        return self._physical[logical_id]

    def put_object(self, bucket_logical_id: str, key: str, body: bytes) -> str | None:
        """Upload to one of the stack's buckets; returns the new VersionId (versioned buckets)."""
        response = self.s3.put_object(
            Bucket=self.bucket_name(bucket_logical_id), Key=key, Body=body
        )
        version: str | None = response.get("VersionId")
        return version

    def scope(self) -> Scope:
        """Names as they resolve right now (custom resources by their last SUCCESS)."""
        refs: dict[str, Any] = dict(self._physical)
        attributes = dict(self._attributes)
        for logical_id, resource in self.resources.items():
            refs[logical_id] = resource.physical_id
            for name, value in resource.data.items():
                attributes[(logical_id, name)] = value
        for name, parameter in self.stack.template.get("Parameters", {}).items():
            if name in self.parameters:
                refs[name] = self.parameters[name]
            elif "Default" in parameter:
                refs[name] = parameter["Default"]
        return Scope(pseudo=self.pseudo, refs=refs, attributes=attributes, exports=self.exports)

    def resolved_properties(self, logical_id: str, stack: StackArtifact | None = None) -> Any:
        """A custom resource's properties as CloudFormation would send them."""
        resource = (stack or self.stack).resources[logical_id]
        return as_cloudformation_sends(resolve(resource.get("Properties", {}), self.scope()))

    def outputs(self) -> dict[str, Any]:
        """The stack's Outputs, resolved against the current resources."""
        self.provision()
        scope = self.scope()
        return {
            name: resolve(output["Value"], scope)
            for name, output in self.stack.template.get("Outputs", {}).items()
        }

    # ----------------------------------------------------------------- provisioning

    def provision(self) -> None:
        """Publish file assets and make the buckets, bucket policies and functions of the stack.

        Idempotent per template; resources already made keep their physical names.
        """
        if self._provisioned_for is self.stack:
            return
        self._publish_assets()
        for logical_id, resource in self.stack.resources_of_type("AWS::S3::Bucket").items():
            if logical_id not in self._physical:
                self._make_bucket(logical_id, resource)
        for logical_id, resource in self.stack.resources.items():
            if logical_id not in self._physical and resource["Type"] not in ("AWS::S3::Bucket",):
                self._fabricate(logical_id, resource)
        for resource in self.stack.resources_of_type("AWS::S3::BucketPolicy").values():
            properties = resolve(resource["Properties"], self.scope())
            self.s3.put_bucket_policy(
                Bucket=properties["Bucket"], Policy=json.dumps(properties["PolicyDocument"])
            )
        self._functions = {
            self._attributes[(logical_id, "Arn")]: self._function(logical_id, resource)
            for logical_id, resource in self.stack.resources_of_type(
                "AWS::Lambda::Function"
            ).items()
        }
        self._register_identities()
        self._provisioned_for = self.stack

    def _register_identities(self) -> None:
        """Give the runtime's IAM each function role's identity policies, resolved."""
        iam = self.runtime.iam
        if iam is None:
            return
        resources = self.stack.resources
        scope = self._policy_scope()
        roles = {
            self._attributes[(logical_id, "Arn")]: logical_id
            for logical_id in self.stack.resources_of_type("AWS::IAM::Role")
        }
        for function in self._functions.values():
            role_logical_id = roles.get(function.role_arn or "")
            if function.role_arn is None or role_logical_id is None:
                continue  # a role made outside the stack: its policies are unknown here
            role_name = self._physical[role_logical_id]

            def names_role(entry: Any, name: str = role_name) -> bool:
                return bool(resolve(entry, scope) == name)

            documents = identity_policies(
                resources,
                role_logical_id,
                names_role=names_role,
                exists=lambda resource: self._condition_holds(resource.get("Condition"), scope),
            )
            iam.register(
                access_key_for(function.role_arn),
                Identity(
                    role_arn=function.role_arn,
                    principal_arn=assumed_role_arn(function.role_arn, function.name),
                    policies=tuple(resolve(document, scope) for document in documents),
                ),
            )

    def _policy_scope(self) -> Scope:
        """``scope()`` with list parameters as lists, as a policy's Resource receives them."""
        scope = self.scope()
        refs = dict(scope.refs)
        for name, parameter in self.stack.template.get("Parameters", {}).items():
            is_list = parameter.get("Type", "").startswith(("CommaDelimitedList", "List<"))
            if is_list and isinstance(refs.get(name), str):
                refs[name] = [item.strip() for item in refs[name].split(",")]
        return dataclasses.replace(scope, refs=refs)

    def _condition_holds(self, name: str | None, scope: Scope) -> bool:
        """A template Condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) by name."""
        if name is None:
            return True
        conditions = self.stack.template.get("Conditions", {})

        def holds(expression: Any) -> bool:
            ((function, argument),) = expression.items()
            if function == "Condition":
                return holds(conditions[argument])
            if function == "Fn::Equals":
                left, right = (resolve(item, scope) for item in argument)
                return bool(left == right)
            if function == "Fn::Not":
                return not holds(argument[0])
            if function == "Fn::And":
                return all(holds(item) for item in argument)
            if function == "Fn::Or":
                return any(holds(item) for item in argument)
            raise TemplateError(f"condition function {function} is not supported by the harness")

        return holds(conditions[name])

    def _publish_assets(self) -> None:
        for asset in self.stack.file_assets(self.pseudo):
            if asset.packaging != "file":
                continue  # zipped directories: the runtime runs the staged directory itself
            _ensure_bucket(self.s3, asset.bucket_name)
            self.s3.put_object(
                Bucket=asset.bucket_name, Key=asset.object_key, Body=asset.source.read_bytes()
            )

    def _make_bucket(self, logical_id: str, resource: Mapping[str, Any]) -> None:
        properties = resolve(resource.get("Properties", {}), self.scope())
        name = properties.get("BucketName") or _bucket_name(
            self.stack_name, logical_id, self._suffix
        )
        _ensure_bucket(self.s3, name)
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            self.s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
        self._physical[logical_id] = name
        self._attributes.update(
            {
                (logical_id, "Arn"): f"arn:{PARTITION}:s3:::{name}",
                (logical_id, "DomainName"): f"{name}.s3.{URL_SUFFIX}",
                (logical_id, "RegionalDomainName"): f"{name}.s3.{REGION}.{URL_SUFFIX}",
            }
        )

    def _fabricate(self, logical_id: str, resource: Mapping[str, Any]) -> None:
        """Physical IDs and ARNs for resources the custom resources only refer to."""
        resource_type = resource["Type"]
        if resource_type.startswith("Custom::"):
            return
        name = f"{self.stack_name}-{logical_id}"[:64]
        self._physical[logical_id] = name
        arn = {
            "AWS::Lambda::Function": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        }.get(resource_type)
        if arn is not None:
            self._attributes[(logical_id, "Arn")] = arn

    def _function(self, logical_id: str, resource: Mapping[str, Any]) -> LambdaFunction:
        properties = resource["Properties"]
        code_key = resolve(properties["Code"]["S3Key"], self.scope())
        sources = [
            asset.source
            for asset in self.stack.file_assets(self.pseudo)
            if asset.object_key == code_key
        ]
        if len(sources) != 1 or not sources[0].is_dir():
            raise TemplateError(f"{logical_id}: no staged directory for Code.S3Key {code_key}")
        variables = properties.get("Environment", {}).get("Variables", {})
        return LambdaFunction(
            logical_id=logical_id,
            name=self._physical[logical_id],
            arn=self._attributes[(logical_id, "Arn")],
            handler=properties["Handler"],
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            runtime=properties.get("Runtime", "python3"),
            asset_dir=sources[0],
            environment={k: str(v) for k, v in resolve(variables, self.scope()).items()},
            role_arn=resolve(properties["Role"], self.scope()) if "Role" in properties else None,
        )

    # ----------------------------------------------------------------- raw requests

    def event(
        self,
        request_type: str,
        logical_id: str,
        *,
        properties: Mapping[str, Any] | None = None,
        old_properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        """A documented custom-resource request with a fresh RequestId and ResponseURL."""
        self.provision()
        request_id = str(uuid.uuid4())
        resource = self.stack.resources.get(logical_id) or {"Type": "Custom::Unknown"}
        if properties is None:
            properties = self.resolved_properties(logical_id)
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": self.receiver.new_response_url(
                {"RequestId": request_id, "StackId": self.stack_id, "LogicalResourceId": logical_id}
            ),
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource["Type"],
            "ResourceProperties": dict(properties),
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id or self.physical_id(logical_id)
        if request_type == "Update":
            event["OldResourceProperties"] = dict(
                old_properties
                if old_properties is not None
                else self.resources[logical_id].properties
            )
        return event

    def _function_for(self, service_token: str) -> LambdaFunction:
        function = self._functions.get(service_token)
        for provider in self.providers:
            provider.provision()
            function = function or provider._functions.get(service_token)
        if function is None:
            raise TemplateError(f"ServiceToken {service_token} is no function of the stack")
        return function

    def _retry_settings(self, function: LambdaFunction) -> tuple[int, float]:
        """(retry attempts, maximum event age) of the function's EventInvokeConfig."""
        for stack in [self, *self.providers]:
            for config in stack.stack.resources_of_type("AWS::Lambda::EventInvokeConfig").values():
                properties = config["Properties"]
                if references(properties.get("FunctionName")) == {function.logical_id}:
                    return (
                        int(properties.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
                        float(properties.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE)),
                    )
        return DEFAULT_RETRY_ATTEMPTS, DEFAULT_MAX_EVENT_AGE

    def _service_timeout(self, event: Mapping[str, Any]) -> float:
        if self.service_timeout is not None:
            return self.service_timeout
        return float(event["ResourceProperties"].get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT))

    def _requested(self, event: Mapping[str, Any]) -> None:
        """CloudFormation marks the resource in progress when it sends a request."""
        if self.receiver.responses_for(event["ResponseURL"]):
            return  # a redelivery of a request already answered
        if self.current_stack_status() == "REVIEW_IN_PROGRESS":
            self._set_stack_status("CREATE_IN_PROGRESS")
        self._set_resource(
            event["LogicalResourceId"], f"{event['RequestType'].upper()}_IN_PROGRESS"
        )

    def _taken(self, sent: Sent) -> None:
        """CloudFormation takes an answer: the resource's status and physical ID follow it.

        Not for the Delete of a physical resource the stack no longer holds (the one a
        replacement or a rollback left behind, deleted in cleanup): DescribeStackResource goes
        on showing the logical resource's current physical ID and status.
        """
        kind = sent.request_type.upper()
        current = self.resources.get(sent.logical_id)
        if kind == "DELETE" and current is not None and current.physical_id != sent.physical_id:
            return
        if sent.status == SUCCESS:
            self._set_resource(sent.logical_id, f"{kind}_COMPLETE", sent.physical_id)
        else:
            if sent.request_type == "Create" and not sent.physical_id:
                sent.generated_id = self.generated_physical_id(sent.logical_id)
            failed = f"{kind}_FAILED"
            self._set_resource(
                sent.logical_id, failed, sent.physical_id if kind == "CREATE" else None
            )

    def deliver(
        self, event: dict[str, Any], *, kill_first_when: Callable[[], bool] | None = None
    ) -> list[Invocation]:
        """Lambda's asynchronous invocation: crashed or timed-out runs are delivered again.

        Retries follow the function's EventInvokeConfig (attempts, maximum event age).
        """
        function = self._function_for(event["ServiceToken"])
        retries, max_age = self._retry_settings(function)
        started = time.monotonic()
        with self._lock:
            self._first_delivery.setdefault(event["ResponseURL"], started)
        invocations: list[Invocation] = []
        while True:
            invocation = self.runtime.invoke(
                function,
                event,
                timeout_seconds=self.function_timeout,
                kill_when=None if invocations else kill_first_when,
            )
            invocations.append(invocation)
            crashed = (
                invocation.killed
                or invocation.hung
                or invocation.timed_out
                or invocation.exit_code != 0
            )
            if not crashed or len(invocations) > retries:
                return invocations
            time.sleep(self.retry_delay)
            if time.monotonic() - started > max_age:
                return invocations

    def send(self, event: dict[str, Any], *, kill_when: Callable[[], bool] | None = None) -> Sent:
        """Invoke the function behind the event's ServiceToken once and collect its response."""
        function = self._function_for(event["ServiceToken"])
        url = event["ResponseURL"]
        answered_before = len(self.receiver.responses_for(url))  # a redelivered event
        self._requested(event)
        running = self._deliveries.submit(
            self.runtime.invoke,
            function,
            event,
            timeout_seconds=self.function_timeout,
            kill_when=kill_when,
        )
        # CloudFormation records the first answer as soon as it arrives, not when Lambda ends.
        taken = answered_before > 0
        while not running.done():
            if not taken and self.receiver.responses_for(url):
                first = self.receiver.wait_for(url, timeout=0)[0]
                self._taken(Sent(event=event, invocation=None, response=first))
                taken = True
            time.sleep(0.02)
        invocation = running.result()
        response = None
        if not invocation.killed:
            try:
                responses = self.receiver.wait_for(
                    url, count=answered_before + 1, timeout=RESPONSE_WAIT_SECONDS
                )
                response = responses[-1]
            except TimeoutError:
                pass
        sent = Sent(event=event, invocation=invocation, response=response, deliveries=[invocation])
        if response is not None and not taken:
            self._taken(sent)
        self._check(sent.event, invocation, answered=response is not None)
        with self._lock:
            self.history.append(sent)
        return sent

    def _check(self, event: Mapping[str, Any], invocation: Invocation, *, answered: bool) -> None:
        """Record what CloudFormation or Lambda would suffer from."""
        what = f"{event['RequestType']} {event['LogicalResourceId']}"
        sent = Sent(event=dict(event), invocation=invocation, response=None)
        if answered:
            sent.response = self.receiver.wait_for(event["ResponseURL"], timeout=0)[-1]
        found: list[str] = []
        if invocation.killed:
            pass  # the test killed it on purpose
        elif not answered:
            found.append(f"{what}: no response (CloudFormation would wait for the timeout)")
        if invocation.hung:
            found.append(f"{what}: still running {KILL_GRACE_SECONDS} s after its Timeout")
        if invocation.timed_out:
            found.append(f"{what}: ran into the Lambda timeout")
        elif not (invocation.killed or invocation.hung) and invocation.exit_code != 0:
            found.append(f"{what}: function error (Lambda would retry the event)")
        result = invocation.result
        if result is not None:
            asset_dir = str(invocation.function.asset_dir)
            for key in ("handlerFile", "crhelperFile"):
                if not str(result.get(key)).startswith(asset_dir + os.sep):
                    found.append(f"{what}: {key} {result.get(key)} is not in the staged asset")
            if not str(result.get("boto3File")).startswith(str(self.runtime.venv) + os.sep):
                found.append(f"{what}: boto3 came from {result.get('boto3File')}")
        elif not invocation.killed:
            found.append(f"{what}: the runner reported nothing")
        log = invocation.log_tail(size=1_000_000)
        if "X-Amz-Signature" in log:
            found.append(f"{what}: the log shows the pre-signed ResponseURL")
        if "CloudFormation has not recorded the answer yet" in log:
            # The harness records every answer as it arrives, as CloudFormation does.
            found.append(f"{what}: the handler waited in vain for its answer to be recorded")
        if (
            sent.request_type == "Delete"
            and sent.response is not None
            and sent.physical_id != sent.event["PhysicalResourceId"]
        ):
            found.append(f"{what}: answered physical ID {sent.physical_id}, not the deleted one")
        if found:
            found.append(f"log of {what}:\n{invocation.log_tail()}")
        with self._lock:
            self.problems.extend(found)

    def verify(self) -> list[str]:
        """Every problem seen, plus any ResponseURL answered more often than it was invoked."""
        self.settle()
        # A killed invocation may have answered before it was ended: it counts as one that ran.
        completed = collections.Counter(
            sent.event["ResponseURL"]
            for sent in [*self.history, *self.late]
            for _invocation in sent.deliveries
        )
        extra = [
            f"{url}: {len(self.receiver.responses_for(url))} responses to {count} invocations"
            for url, count in completed.items()
            if len(self.receiver.responses_for(url)) > count
        ]
        return self.problems + extra

    def _send_all(self, events: Iterable[dict[str, Any]]) -> list[Sent]:
        """Send independent requests at once and wait for every answer (no cancellation)."""
        answered, cancelled = self._run_wave(list(events), cancel_on_failure=False)
        assert not cancelled
        return answered

    def _launch(self, event: dict[str, Any]) -> tuple[dict[str, Any], Future[list[Invocation]]]:
        self._requested(event)
        kill = self.kill_first_delivery_when
        return event, self._deliveries.submit(self.deliver, event, kill_first_when=kill)

    def _run_wave(
        self, events: list[dict[str, Any]], *, cancel_on_failure: bool = True
    ) -> tuple[list[Sent], list[Sent]]:
        """Send requests at once, as CloudFormation does, and take their answers.

        Returns (answered, cancelled). A request is answered by its first response, or fails
        with NO_RESPONSE at its ServiceTimeout. With ``cancel_on_failure``, the first failure
        cancels every request still waiting: CloudFormation ignores their answers from then on,
        while their invocations run on (``settle()`` collects them).
        """
        pending = list(map(self._launch, events))
        answered: list[Sent] = []
        taken: dict[str, Sent] = {}  # answers recorded whose function still runs, by URL
        while pending:
            still: list[tuple[dict[str, Any], Future[list[Invocation]]]] = []
            for event, future in pending:
                sent = self._answer(event, future, taken)
                if sent is None:
                    still.append((event, future))
                    continue
                with self._lock:
                    self.history.append(sent)
                answered.append(sent)
            pending = still
            if cancel_on_failure and any(
                item.status != SUCCESS for item in [*answered, *taken.values()]
            ):
                break
            if pending:
                time.sleep(0.02)
        cancelled = []
        # The failure cancels at once every request still waiting (answered ones are not).
        for event, future in [item for item in pending if item[0]["ResponseURL"] not in taken]:
            future.cancel()  # not started yet: CloudFormation never sends it
            self._set_resource(event["LogicalResourceId"], f"{event['RequestType'].upper()}_FAILED")
            sent = Sent(event=event, invocation=None, response=None, outcome=CANCELLED)
            if event["RequestType"] == "Create":
                sent.generated_id = self.generated_physical_id(event["LogicalResourceId"])
                self._set_resource(event["LogicalResourceId"], "CREATE_FAILED", sent.generated_id)
            with self._lock:
                self._running.append((event, future))
            cancelled.append(sent)
        # Then the functions of answered requests are waited for (the harness checks them).
        for event, future in [item for item in pending if item[0]["ResponseURL"] in taken]:
            sent = self._finish(event, future, taken[event["ResponseURL"]])
            with self._lock:
                self.history.append(sent)
            answered.append(sent)
        return answered, cancelled

    def _answer(
        self, event: dict[str, Any], future: Future[list[Invocation]], taken: dict[str, Sent]
    ) -> Sent | None:
        """The answer CloudFormation takes for a request, or None while it still waits.

        An answer is recorded in ``taken`` as it arrives, while the function may still run
        (the handler watches for exactly that record after answering); it is returned once
        the function has ended, so no other request waits on this one's function.
        """
        url = event["ResponseURL"]
        with self._lock:
            started = self._first_delivery.get(url, time.monotonic())
        if url not in taken and self.receiver.responses_for(url):
            taken[url] = Sent(event, None, self.receiver.wait_for(url, timeout=0)[0])
            self._taken(taken[url])
        if url in taken:
            return self._finish(event, future, taken[url]) if future.done() else None
        if time.monotonic() - started > self._service_timeout(event):
            # CloudFormation gives up; whatever still runs answers into the void.
            with self._lock:
                self._running.append((event, future))
            sent = Sent(event=event, invocation=None, response=None, outcome=NO_RESPONSE)
            self._taken(sent)
            return sent
        if future.done():
            invocations = future.result()
            try:
                response = self.receiver.wait_for(url, timeout=RESPONSE_WAIT_SECONDS)[0]
            except TimeoutError:
                response = None
            for invocation in invocations:
                self._check(event, invocation, answered=response is not None)
            sent = Sent(event, invocations[-1], response, deliveries=invocations)
            self._taken(sent)
            return sent
        return None

    def _finish(self, event: dict[str, Any], future: Future[list[Invocation]], sent: Sent) -> Sent:
        """An answered request, once its function has ended: check and attach its deliveries."""
        invocations = future.result()
        for invocation in invocations:
            self._check(event, invocation, answered=True)
        sent.invocation, sent.deliveries = invocations[-1], invocations
        return sent

    def settle(self) -> list[Sent]:
        """Wait for the invocations CloudFormation stopped waiting for; record their answers."""
        with self._lock:
            running, self._running = self._running, []
        settled = []
        for event, future in running:
            if future.cancelled():
                continue
            invocations = future.result()
            responses = self.receiver.responses_for(event["ResponseURL"])
            response = (
                self.receiver.wait_for(event["ResponseURL"], timeout=0)[-1] if responses else None
            )
            for invocation in invocations:
                self._check(event, invocation, answered=response is not None)
            settled.append(Sent(event, invocations[-1], response, deliveries=invocations))
        with self._lock:
            self.late.extend(settled)
        return settled

    def _waves(self, logical_ids: Iterable[str]) -> list[list[str]]:
        """Custom resources grouped so that each group depends only on earlier groups."""
        template = self.stack.resources
        pending = set(logical_ids)
        waves: list[list[str]] = []
        while pending:
            ready = sorted(
                lid
                for lid in pending
                if not ((references(template[lid]) | set(_depends_on(template[lid]))) & pending)
            )
            if not ready:
                raise TemplateError(f"circular dependencies among {sorted(pending)}")
            waves.append(ready)
            pending -= set(ready)
        return waves

    def _delete_event(self, logical_id: str, resource: _Resource) -> dict[str, Any]:
        return self.event(
            "Delete",
            logical_id,
            properties=resource.properties,
            physical_id=resource.physical_id,
        )

    # ----------------------------------------------------------------- stack operations

    def create_all(self, *, fail_after_resources: bool = False) -> DeployResult:
        """Stack create: every custom resource in dependency order; on a failure, roll back.

        The first failure in a wave cancels the requests of that wave still running.
        ``fail_after_resources`` makes some other resource of the stack fail once the custom
        resources are done, so the create rolls back (every Delete in ROLLBACK_IN_PROGRESS).
        """
        self.provision()
        self._set_stack_status("CREATE_IN_PROGRESS")
        sent: list[Sent] = []
        waves = self._waves(self.stack.custom_resources())
        for number, wave in enumerate(waves, start=1):
            answered, cancelled = self._run_wave([self.event("Create", lid) for lid in wave])
            sent += answered + cancelled
            for item in answered:
                if item.status == SUCCESS:
                    self._record(item)
            failed = cancelled or any(item.status != SUCCESS for item in answered)
            if failed or (fail_after_resources and number == len(waves)):
                self._set_stack_status("ROLLBACK_IN_PROGRESS")
                rollback = self._roll_back_create(sent)
                status = _outcome("ROLLBACK", rollback)
                self._set_stack_status(status)
                return DeployResult(status, sent + rollback, late=self.settle())
        self._set_stack_status("CREATE_COMPLETE")
        return DeployResult("CREATE_COMPLETE", sent)

    def _roll_back_create(self, attempted: list[Sent]) -> list[Sent]:
        """Delete everything the create started, failed and cancelled ones by the ID on record.

        That is the ID a FAILED answer carried, or one CloudFormation made up (a cancelled
        request, one past ServiceTimeout, an answer without a usable ID).
        """
        made = {}
        for item in attempted:
            if not item.physical_id:
                item.generated_id = self.generated_physical_id(item.logical_id)
            made[item.logical_id] = _made(item)
        sent = self._delete_in_order(made)
        return sent

    def _delete_in_order(self, targets: Mapping[str, _Resource]) -> list[Sent]:
        """Delete resources in reverse dependency order; every wave runs to its end."""
        sent: list[Sent] = []
        for wave in reversed(self._waves(targets)):
            for lid in wave:
                self._set_resource(lid, "DELETE_IN_PROGRESS", targets[lid].physical_id)
            answered = self._send_all(self._delete_event(lid, targets[lid]) for lid in wave)
            for item in answered:
                if item.status == SUCCESS:
                    self.resources.pop(item.logical_id, None)
            sent += answered
        return sent

    def update(
        self,
        logical_id: str,
        new_properties: Mapping[str, Any],
        *,
        fail_after_resources: bool = False,
    ) -> DeployResult:
        """Stack update that changes one custom resource's properties."""
        return self.update_all(
            {logical_id: new_properties}, fail_after_resources=fail_after_resources
        )

    def update_all(
        self,
        changes: Mapping[str, Mapping[str, Any]],
        *,
        fail_after_resources: bool = False,
    ) -> DeployResult:
        """Stack update that changes these custom resources' properties, all in one wave.

        ``fail_after_resources`` makes some other resource fail once they are done.
        """
        self.provision()
        changed = {lid: dict(properties) for lid, properties in changes.items()}
        return self._update([sorted(changed)], changed.get, removed=[], fail=fail_after_resources)

    def deploy(
        self,
        new_stack: StackArtifact,
        *,
        parameters: Mapping[str, str] | None = None,
        fail_after_resources: bool = False,
    ) -> DeployResult:
        """Stack update to another template (same stack name), CloudFormation's way.

        Only custom resources whose resolved properties changed get an Update; new ones are
        created, removed ones deleted in cleanup. ``fail_after_resources`` makes some other
        resource of the stack fail once the custom resources are done, so the update rolls back.
        """
        self.stack = new_stack
        self.parameters.update(parameters or {})
        self.provision()
        new_ids = set(new_stack.custom_resources())
        removed = sorted(set(self.resources) - new_ids)

        def changed(logical_id: str) -> dict[str, Any] | None:
            # Resolved when its wave starts: a dependency replaced by an earlier wave gives
            # its new physical ID and attributes, and makes this resource change with it.
            properties = self.resolved_properties(logical_id)
            if properties == self.resources[logical_id].properties:
                return None
            return dict(properties)

        # What the update touches: the new resources, those whose resolved properties changed,
        # and those that name one of these (a replacement may change them). Only dependencies
        # among them order the waves: CloudFormation does not wait for an unchanged resource.
        touched = {lid for lid in new_ids if lid not in self.resources or changed(lid)}
        while more := {
            lid for lid in new_ids - touched if references(new_stack.resources[lid]) & touched
        }:
            touched |= more
        return self._update(
            self._waves(touched), changed, removed=removed, fail=fail_after_resources
        )

    def _update(
        self,
        waves: list[list[str]],
        changed: Callable[[str], Mapping[str, Any] | None],
        *,
        removed: list[str],
        fail: bool = False,
    ) -> DeployResult:
        """Update wave by wave, as CloudFormation orders a stack update by its dependencies.

        ``changed(logical_id)`` gives a resource's new properties, or None when they did not
        change; it is asked when the resource's wave starts. A resource not in the stack yet is
        created. The first failure cancels its wave's requests still running, no later wave
        starts, and the update rolls back.
        """
        before = dict(self.resources)
        self._set_stack_status("UPDATE_IN_PROGRESS")
        sent: list[Sent] = []
        for wave in waves:
            events = []
            for lid in wave:
                if lid not in before:
                    events.append(self.event("Create", lid))
                    continue
                properties = changed(lid)
                if properties is not None:
                    events.append(self.event("Update", lid, properties=properties))
            if not events:
                continue
            answered, cancelled = self._run_wave(events)
            sent += answered + cancelled
            if cancelled or any(item.status != SUCCESS for item in answered):
                fail = True
                break
            for item in answered:
                self._record(item)
        if fail:
            self._set_stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
            rollback = self._roll_back_update(sent, before)
            status = _outcome("UPDATE_ROLLBACK", rollback)
            self._set_stack_status(status)
            return DeployResult(status, sent + rollback, late=self.settle())
        # Cleanup: a new physical ID was a replacement, so the old resource goes now.
        self._set_stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        replaced = [
            item.logical_id
            for item in sent
            if item.request_type == "Update"
            and self.resources[item.logical_id].physical_id != before[item.logical_id].physical_id
        ]
        for lid in removed:
            del self.resources[lid]
        cleanup = self._send_all(self._delete_event(lid, before[lid]) for lid in replaced + removed)
        self._set_stack_status("UPDATE_COMPLETE")
        return DeployResult("UPDATE_COMPLETE", sent + cleanup)

    def _roll_back_update(
        self, attempted: list[Sent], before: Mapping[str, _Resource]
    ) -> list[Sent]:
        """Back to ``before``: what the update made is deleted, what it changed is updated back.

        A replacement or a new resource is discarded (the old resource was never touched);
        an in-place update, a failed one or a cancelled one gets an Update with old and new
        swapped, on the old physical ID (a cancelled invocation may still be running).
        """
        events = []
        for item in attempted:
            old = before.get(item.logical_id)
            made_new = item.status == SUCCESS and item.physical_id != getattr(
                old, "physical_id", None
            )
            if old is None or made_new:
                if not item.physical_id:
                    item.generated_id = self.generated_physical_id(item.logical_id)
                if old is None:
                    self._set_resource(item.logical_id, "DELETE_IN_PROGRESS", item.physical_id)
                else:
                    # A replacement: the stack holds the old, untouched resource again.
                    self._set_resource(item.logical_id, "UPDATE_COMPLETE", old.physical_id)
                events.append(self._delete_event(item.logical_id, _made(item)))
            else:
                self._set_resource(item.logical_id, "UPDATE_IN_PROGRESS", old.physical_id)
                events.append(
                    self.event(
                        "Update",
                        item.logical_id,
                        properties=old.properties,
                        old_properties=item.event["ResourceProperties"],
                        physical_id=old.physical_id,
                    )
                )
        self.resources = dict(before)
        sent = self._send_all(events)
        self._set_stack_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        cleanup = []
        for item in sent:
            old = before.get(item.logical_id)
            if item.request_type == "Update" and item.status == SUCCESS and old is not None:
                self._record(item, properties=old.properties)
                if item.physical_id != old.physical_id:
                    cleanup.append(self._delete_event(item.logical_id, old))
        return sent + self._send_all(cleanup)

    def delete_all(self) -> DeployResult:
        """Stack delete: every custom resource, in reverse dependency order."""
        self.provision()
        self._set_stack_status("DELETE_IN_PROGRESS")
        for lid in list(self.resources):
            # CloudFormation does not call the provider for a retained resource.
            if self.stack.resources.get(lid, {}).get("DeletionPolicy") == "Retain":
                self.retained[lid] = self.resources.pop(lid).physical_id
        sent = self._delete_in_order(dict(self.resources))
        status = "DELETE_FAILED" if self.resources else "DELETE_COMPLETE"
        self._set_stack_status(status)
        return DeployResult(status, sent)

    def record(self, sent: Sent) -> None:
        """Take the SUCCESS answer to a raw ``send()`` as CloudFormation would: it now exists."""
        assert sent.status == SUCCESS, sent.reason
        self._record(sent)

    def _record(self, sent: Sent, *, properties: Mapping[str, Any] | None = None) -> None:
        resource = _made(sent)
        if properties is not None:
            resource = dataclasses.replace(resource, properties=dict(properties))
        self.resources[sent.logical_id] = resource


def _made(sent: Sent) -> _Resource:
    """The resource a request's answer describes (its physical ID and Data)."""
    assert sent.physical_id is not None
    return _Resource(
        physical_id=sent.physical_id,
        properties=dict(sent.event["ResourceProperties"]),
        data=sent.data,
    )


def _outcome(operation: str, rollback: list[Sent]) -> str:
    failed = any(item.status != SUCCESS for item in rollback)
    return f"{operation}_{'FAILED' if failed else 'COMPLETE'}"


def _depends_on(resource: Mapping[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def _bucket_name(stack_name: str, logical_id: str, suffix: str) -> str:
    """A bucket name the way CloudFormation makes one: stack, logical ID, random suffix."""
    stem = re.sub(r"[^a-z0-9-]", "", f"{stack_name}-{logical_id}".lower())
    return f"{stem[: 62 - len(suffix)]}-{suffix}"


def _ensure_bucket(s3: Any, name: str) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
