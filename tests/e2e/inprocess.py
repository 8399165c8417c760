"""The handler run in this process, one fresh copy of the staged asset per invocation.

``InProcessRuntime`` has ``LambdaRuntime.invoke``'s interface, so ``StackDeployment(runtime=...)``
takes it, and costs milliseconds instead of a cold start: the stateful history tests need
thousands of invocations. What it keeps from the subprocess runtime:

- A fresh handler: every invocation executes the staged asset's ``cdk_sms_registration_handler``
  package again under a module name of its own (``_inproc_h<N>``), so its module globals (the
  crhelper ``CfnResource``, cached boto3 clients, per-invocation lists) start empty, as after a
  cold start. The package's relative imports resolve inside that copy. crhelper is loaded once
  per asset directory from the asset itself (not from the test virtualenv), and shared: it
  keeps no state between calls that the handler relies on.
- Real HTTP: the handler's boto3 clients talk to the fakes through the endpoints, region and
  credentials of ``LambdaRuntime.environment(function)`` (the IAM evaluator knows the role by
  its ``AWS_ACCESS_KEY_ID``), and crhelper PUTs its answer to the HTTPS receiver trusted through
  ``SSL_CERT_FILE``. The process environment is set once, on the first invocation, and put back
  by ``close()``.
- A log per invocation: a root logging handler keeps the records of the invocation's thread (and
  of threads it starts, such as crhelper's timeout timer) in the invocation's ``log_path``.

What it cannot do: kill an invocation (``kill_when``) or end one at its Lambda timeout; an
invocation still running ``KILL_GRACE_SECONDS`` after its timeout is reported ``hung`` and left
to finish in its daemon thread. Cold starts, timeouts and kills stay with ``LambdaRuntime``.

``shorten_waits`` replaces fixed waits of the fresh copy (looked up by name at run time, missing
names skipped: the handler is being rewritten) so that histories run fast; nothing in the
production code knows about it. ``calls_of(invocation)`` lists the AWS calls each invocation
made (observed with a botocore event handler on the default session, in the calling thread).
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import itertools
import json
import logging
import os
import sys
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import boto3
import boto3.session

from .cloudformation import KILL_GRACE_SECONDS, Invocation, LambdaFunction, LambdaRuntime

#: Module-level waits of the handler worth shortening in a test (name -> seconds). Only the
#: pauses between polls and the settle time before a submit: limits (how long to keep polling,
#: the reserve kept from the deadline) stay as shipped, so the handler decides as it would.
DEFAULT_SHORT_WAITS: Mapping[str, float] = {
    "SUBMIT_SETTLE_SECONDS": 0.0,
    "CONFIRM_POLL_SECONDS": 0.02,
    "FIRST_POLL_SECONDS": 0.02,
    "LONGEST_POLL_SECONDS": 0.1,
}
#: Variables of ``LambdaRuntime.environment`` that would break the test process itself (jsii
#: finds node on PATH) and that boto3 does not read.
_PROCESS_ONLY = frozenset({"PATH", "HOME", "PYTHONPATH", "LANG", "TZ", "PYTHONDONTWRITEBYTECODE"})
#: Per-run values of the environment: they may differ between functions without harm.
_PER_RUN = frozenset({"AWS_LAMBDA_LOG_STREAM_NAME"})
_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"


@dataclasses.dataclass(frozen=True)
class AwsCall:
    """One AWS call an invocation made, as botocore saw it come back."""

    service: str
    operation: str
    params: Mapping[str, Any]
    error_code: str | None
    #: Seconds since the epoch when the answer arrived (for ordering against stack phases).
    at: float
    #: ``phase_of`` when the call was about to be sent (the stack's status then).
    phase: str | None = None


class _Context:
    """The Lambda context object (see lambda_runner.LambdaContext): remaining time counts down."""

    def __init__(self, function: LambdaFunction, timeout_seconds: float, started: float) -> None:
        self._deadline = started + timeout_seconds
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = str(function.memory_mb)
        self.invoked_function_arn = function.arn
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.aws_request_id = str(uuid.uuid4())
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _CachedSourceLoader(importlib.machinery.SourceFileLoader):
    """Executes a module from its source file, compiling each file once per test session.

    A fresh module object per load (fresh globals), one shared code object (immutable), and no
    ``__pycache__`` written into the staged asset (Lambda's /var/task is read-only).
    """

    _code: ClassVar[dict[tuple[str, int], types.CodeType]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        key = (path, os.stat(path).st_mtime_ns)
        with self._lock:
            code = self._code.get(key)
            if code is None:
                source = self.get_data(path)
                code = self._code[key] = compile(source, path, "exec", dont_inherit=True)
            return code


class _ThreadLog(logging.Handler):
    """Writes the records of some threads (one invocation's) to that invocation's file."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._lock_files = threading.Lock()
        self._files: dict[int, tuple[Any, str]] = {}
        self._formatter = logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
        self._formatter.converter = time.gmtime

    def attach(self, thread_id: int, log: Any, request_id: str) -> None:
        with self._lock_files:
            self._files[thread_id] = (log, request_id)

    def detach(self, thread_id: int) -> None:
        with self._lock_files:
            self._files.pop(thread_id, None)

    def owner_of(self, thread_id: int) -> tuple[Any, str] | None:
        with self._lock_files:
            return self._files.get(thread_id)

    def emit(self, record: logging.LogRecord) -> None:
        target = self.owner_of(record.thread or 0)
        if target is None:
            return
        log, request_id = target
        record.aws_request_id = request_id
        try:
            line = self._formatter.format(record)
        except Exception:  # a record that cannot be formatted must still show up
            line = f"[{record.levelname}] {record.msg!r} {record.args!r}"
        with self._lock_files:
            if not log.closed:
                log.write(line + "\n")


class InProcessRuntime:
    """``LambdaRuntime``'s interface, running a fresh copy of the handler in a thread.

    ``base`` supplies the environment (``base.environment(function)``) and the IAM registry
    provisioning registers roles in (``iam``). ``short_waits``: module-level names of the
    handler to set on each fresh copy (missing ones are skipped). ``before_invoke`` runs in the
    invocation's thread before the handler starts (a test delaying one resource, say);
    ``phase_of`` is asked at the start of each invocation (``result["stackPhase"]``).
    """

    def __init__(
        self,
        base: LambdaRuntime,
        workdir: Path,
        *,
        short_waits: Mapping[str, float] | None = None,
        before_invoke: Callable[[Mapping[str, Any]], None] | None = None,
        phase_of: Callable[[Mapping[str, Any]], str | None] | None = None,
    ) -> None:
        self.base = base
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.short_waits = dict(DEFAULT_SHORT_WAITS if short_waits is None else short_waits)
        self.before_invoke = before_invoke
        #: What the invocation's result records as ``stackPhase`` (the stack's status when
        #: Lambda started it: a test tells rollback requests from forward ones by it).
        self.phase_of = phase_of
        #: ``StackDeployment._check`` wants boto3 from the runtime's virtualenv: this one's.
        self.venv = Path(sys.prefix)
        self._numbers = itertools.count(1)
        self._load_lock = threading.Lock()
        self._crhelper: dict[Path, dict[str, types.ModuleType]] = {}
        self._environment: dict[str, str] | None = None
        self._saved_environment: dict[str, str | None] = {}
        self._saved_session: boto3.session.Session | None = None
        self._saved_levels: dict[str, int] = {}
        self._log = _ThreadLog()
        #: Invocation label -> the AWS calls it made; ``calls_of`` reads it.
        self._calls: dict[str, list[AwsCall]] = {}
        self._thread_labels: dict[int, str] = {}
        self._calls_lock = threading.Lock()
        self._session: Any = None
        self.invocations = 0

    # ----------------------------------------------------------------- what provisioning reads

    @property
    def iam(self) -> Any:
        """The base runtime's IAM registry (None when the harness evaluates no IAM)."""
        return getattr(self.base, "iam", None)

    # ----------------------------------------------------------------- process set-up

    def _activate(self, function: LambdaFunction) -> None:
        """Point this process's boto3 at the fakes, once; later functions must agree."""
        wanted = {
            key: value
            for key, value in self.base.environment(function).items()
            if key not in _PROCESS_ONLY
        }
        wanted.update({k: v for k, v in self.base.base_env.items() if k not in _PROCESS_ONLY})
        if self._environment is not None:
            differ = sorted(
                key
                for key in set(wanted) | set(self._environment)
                if key not in _PER_RUN and wanted.get(key) != self._environment.get(key)
            )
            if differ:
                raise RuntimeError(
                    f"{function.name} needs another process environment ({differ}): one "
                    "InProcessRuntime serves functions of one environment"
                )
            return
        for key, value in wanted.items():
            self._saved_environment[key] = os.environ.get(key)
            os.environ[key] = value
        self._environment = wanted
        # A default session made before this point cached other credentials and endpoints.
        self._saved_session = boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = None
        boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        self._session = session
        # Watch every call's answer in the calling thread: which invocation made it.
        session.events.register("before-parameter-build", self._before_parameter_build)
        session.events.register("after-call", self._after_call)
        # Clients made at once from one fresh session race in botocore's lazy set-up: make the
        # handler's kinds once here, in one thread.
        for service in ("pinpoint-sms-voice-v2", "s3", "cloudformation", "lambda", "events"):
            session.client(service)
        root = logging.getLogger()
        for name in ("", "boto", "boto3", "botocore", "urllib3"):
            self._saved_levels[name] = logging.getLogger(name).level
        root.addHandler(self._log)

    def close(self) -> None:
        """Put the process environment, boto3's default session and log levels back."""
        if self._environment is None:
            return
        logging.getLogger().removeHandler(self._log)
        for name, level in self._saved_levels.items():
            logging.getLogger(name).setLevel(level)
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if self._session is not None:
            self._session.events.unregister("after-call", self._after_call)
            self._session.events.unregister("before-parameter-build", self._before_parameter_build)
        boto3.DEFAULT_SESSION = self._saved_session
        self._environment = None

    def __enter__(self) -> InProcessRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _after_call(
        self, http_response: Any, parsed: Mapping[str, Any], model: Any, **kwargs: Any
    ) -> None:
        label = self._label_of(threading.get_ident())
        if label is None:
            return
        context = kwargs.get("context") or {}
        params = dict(context.get("_inproc_params") or {})
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, Mapping) else None
        call = AwsCall(
            service=model.service_model.service_name,
            operation=model.name,
            params=params,
            error_code=str(error) if error else None,
            at=time.time(),
            phase=context.get("_inproc_phase"),
        )
        with self._calls_lock:
            self._calls.setdefault(label, []).append(call)

    def _before_parameter_build(self, params: Mapping[str, Any], **kwargs: Any) -> None:
        context = kwargs.get("context")
        if isinstance(context, dict):
            context["_inproc_params"] = dict(params)
            context["_inproc_phase"] = self.phase_of({}) if self.phase_of is not None else None

    def _label_of(self, thread_id: int) -> str | None:
        with self._calls_lock:
            return self._thread_labels.get(thread_id)

    def calls_of(self, invocation: Invocation) -> list[AwsCall]:
        """The AWS calls one invocation made, in the order their answers came."""
        with self._calls_lock:
            return list(self._calls.get(invocation.log_path.stem, []))

    # ----------------------------------------------------------------- fresh handler copies

    def _asset_crhelper(self, asset_dir: Path) -> dict[str, types.ModuleType]:
        """crhelper from the staged asset, loaded once per asset and kept out of sys.modules."""
        loaded = self._crhelper.get(asset_dir)
        if loaded is not None:
            return loaded
        if not (asset_dir / "crhelper" / "__init__.py").is_file():
            raise RuntimeError(f"{asset_dir} holds no crhelper package")
        saved = {n: m for n, m in sys.modules.copy().items() if _is_crhelper(n)}
        for name in saved:
            del sys.modules[name]
        sys.path.insert(0, str(asset_dir))
        try:
            importlib.import_module("crhelper")
            loaded = {n: m for n, m in sys.modules.copy().items() if _is_crhelper(n)}
        finally:
            sys.path.remove(str(asset_dir))
            for name in [n for n in sys.modules.copy() if _is_crhelper(n)]:
                del sys.modules[name]
            sys.modules.update(saved)
        self._crhelper[asset_dir] = loaded
        return loaded

    def _fresh_handler(self, function: LambdaFunction, number: int) -> tuple[Any, str, Any]:
        """(handler function, fresh package name, handler module) of a new copy of the asset."""
        module_name, _, function_name = function.handler.rpartition(".")
        package, _, rest = module_name.partition(".")
        package_dir = function.asset_dir / package
        fresh = f"_inproc_h{number}"
        with self._load_lock:
            crhelper = self._asset_crhelper(function.asset_dir)
            saved = {name: sys.modules.get(name) for name in crhelper}
            sys.modules.update(crhelper)
            try:
                init = package_dir / "__init__.py"
                loader = _CachedSourceLoader(fresh, str(init))
                spec = importlib.util.spec_from_file_location(
                    fresh, init, loader=loader, submodule_search_locations=[str(package_dir)]
                )
                assert spec is not None
                top = importlib.util.module_from_spec(spec)
                sys.modules[fresh] = top
                loader.exec_module(top)
                module = self._import_fresh(fresh, rest) if rest else top
            finally:
                for name, previous in saved.items():
                    if previous is None:
                        sys.modules.pop(name, None)
                    else:
                        sys.modules[name] = previous
        self._shorten(fresh)
        return getattr(module, function_name), fresh, module

    def _import_fresh(self, fresh: str, dotted: str) -> types.ModuleType:
        """Import ``fresh.dotted`` (and the package's own relative imports) from source."""
        name = f"{fresh}.{dotted}"
        parent = sys.modules[name.rpartition(".")[0]]
        for directory in parent.__path__:
            path = Path(directory) / f"{dotted.rpartition('.')[2]}.py"
            if path.is_file():
                break
        else:
            raise ModuleNotFoundError(name)
        loader = _CachedSourceLoader(name, str(path))
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
        return module

    def _shorten(self, fresh: str) -> None:
        """Set the short waits on every module of the copy that has the name (``from`` copies)."""
        # A copy (atomic): other threads import while this one runs.
        for name, module in sys.modules.copy().items():
            if name != fresh and not name.startswith(f"{fresh}."):
                continue
            for attribute, seconds in self.short_waits.items():
                if isinstance(getattr(module, attribute, None), (int, float)):
                    setattr(module, attribute, seconds)

    @staticmethod
    def _forget(fresh: str) -> None:
        for name in [n for n in sys.modules.copy() if n == fresh or n.startswith(f"{fresh}.")]:
            sys.modules.pop(name, None)

    # ----------------------------------------------------------------- the invocation

    def invoke(
        self,
        function: LambdaFunction,
        event: dict[str, Any],
        *,
        timeout_seconds: float | None = None,
        kill_when: Callable[[], bool] | None = None,
    ) -> Invocation:
        """Run a fresh copy of the handler once on ``event``, in a thread of its own."""
        if kill_when is not None:
            raise NotImplementedError("an in-process invocation cannot be killed: LambdaRuntime")
        timeout = float(timeout_seconds or function.timeout_seconds)
        with self._load_lock:
            self._activate(function)
        phase = self.phase_of(event) if self.phase_of is not None else None
        number = next(self._numbers)
        label = f"{number:05d}-{event.get('LogicalResourceId', 'x')}-{event.get('RequestType')}"
        log_path = self.workdir / f"{label}.log"
        outcome: dict[str, Any] = {}
        log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed after the thread)
        fresh = ""

        def run() -> None:
            nonlocal fresh
            ident = threading.get_ident()
            with self._calls_lock:
                self._thread_labels[ident] = label
            try:
                init_started = time.monotonic()
                handler, fresh, module = self._fresh_handler(function, number)
                if self.before_invoke is not None:
                    self.before_invoke(event)
                started = time.monotonic()
                context = _Context(function, timeout, started)
                self._log.attach(ident, log, context.aws_request_id)
                outcome.update(
                    initMs=round((started - init_started) * 1000),
                    handlerFile=getattr(module, "__file__", None),
                    crhelperFile=getattr(
                        self._crhelper[function.asset_dir]["crhelper"], "__file__", None
                    ),
                    boto3File=boto3.__file__,
                    pythonVersion=".".join(map(str, sys.version_info[:3])),
                    pythonImplementation=sys.implementation.name,
                    awsRequestId=context.aws_request_id,
                    timedOut=False,
                    stackPhase=phase,
                )
                try:
                    returned = handler(event, context)
                    outcome["returned"] = repr(returned)
                    outcome["error"] = None
                except BaseException:  # Lambda reports any escape as a function error
                    outcome["error"] = traceback.format_exc()
                    logging.getLogger("inprocess").error("function error\n%s", outcome["error"])
                outcome["durationMs"] = round((time.monotonic() - started) * 1000)
                outcome["remainingMs"] = context.get_remaining_time_in_millis()
                outcome["timedOut"] = outcome["remainingMs"] <= 0
            except BaseException:  # the copy did not even load: an init error
                outcome["error"] = traceback.format_exc()
                log.write(f"init error\n{outcome['error']}\n")
            finally:
                self._log.detach(ident)
                with self._calls_lock:
                    self._thread_labels.pop(ident, None)

        started = time.monotonic()
        thread = threading.Thread(target=run, name=f"inproc-{label}", daemon=True)
        thread.start()
        thread.join(timeout + KILL_GRACE_SECONDS)
        hung = thread.is_alive()
        if not hung:
            log.close()
            self._forget(fresh)
        self.invocations += 1
        result = None if not outcome else dict(outcome)
        return Invocation(
            function=function,
            event=event,
            exit_code=None if hung else (0 if outcome.get("error") is None else 1),
            killed=False,
            hung=hung,
            duration=time.monotonic() - started,
            result=result,
            log_path=log_path,
        )


def _is_crhelper(module_name: str) -> bool:
    return module_name == "crhelper" or module_name.startswith("crhelper.")


def describe(invocation: Invocation) -> str:
    """One line about an invocation, for failure messages."""
    result = invocation.result or {}
    return json.dumps(
        {
            "log": invocation.log_path.name,
            "exit": invocation.exit_code,
            "hung": invocation.hung,
            "error": (result.get("error") or "")[-300:] or None,
        }
    )
