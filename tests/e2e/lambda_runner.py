"""One Lambda invocation, run the way the Lambda Python runtime runs it (standard library only).

The harness starts this script with the interpreter of a virtualenv that holds only boto3,
``PYTHONPATH`` set to the staged Lambda asset and a clean environment, so the handler imports
exactly what the deployed function would. Usage::

    python -P -s lambda_runner.py HANDLER TIMEOUT_SECONDS RESULT_PATH [SHORT_WAITS] < event.json

Like Lambda it imports the handler module first (the init phase, outside the timeout), then
starts the invocation clock, calls ``handler(event, context)`` with a context whose remaining
time counts down from the function's Timeout, and ends the process at the deadline as Lambda
ends a timed-out sandbox. The result file tells the harness what ran and where it came from.

``SHORT_WAITS`` (JSON, ``{"NAME": seconds}``) replaces module-level waits of the handler's
package after the import, wherever a module of the package holds that name: a test's choice
(the harness's ``SUBPROCESS_SHORT_WAITS``), invisible to the handler, which reads no setting.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from typing import Any

#: Exit status when the deadline passes (the sandbox is gone; nothing more is sent).
TIMED_OUT_EXIT = 124
#: Held by whichever of "handler returned" and "deadline passed" ends the process first.
_ENDING = threading.Lock()
#: The invocation's request ID, for log lines (set when the invocation starts).
_REQUEST_ID = {"value": ""}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _REQUEST_ID["value"]
        return True


def _lambda_logging() -> None:
    """The root handler Lambda's Python runtime installs: stdout (CloudWatch), its line format.

    crhelper only sets levels and formatters on existing handlers; without this, INFO lines
    would vanish here while they reach CloudWatch on Lambda.
    """
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


class LambdaContext:
    """The documented attributes and methods of the Lambda Python context object."""

    def __init__(self, timeout_seconds: float, started: float) -> None:
        self._deadline = started + timeout_seconds
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "handler")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.invoked_function_arn = os.environ.get("E2E_FUNCTION_ARN", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.aws_request_id = str(uuid.uuid4())
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until Lambda ends the invocation, never negative."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _write(path: str, result: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as output:
        json.dump(result, output)


def _module_file(name: str) -> str | None:
    module = sys.modules.get(name)
    return getattr(module, "__file__", None) if module is not None else None


def _kill_at(deadline: float, result_path: str, result: dict[str, Any]) -> None:
    """Lambda ends the sandbox at the timeout: no cleanup, no further output."""
    time.sleep(max(0.0, deadline - time.monotonic()))
    _ENDING.acquire()
    _write(result_path, {**result, "timedOut": True})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(TIMED_OUT_EXIT)


def _shorten_waits(module_name: str, waits: dict[str, float]) -> list[str]:
    """Set each named wait in every loaded module of the handler's package that holds it."""
    package = module_name.partition(".")[0]
    shortened = []
    for name, module in list(sys.modules.items()):
        if name != package and not name.startswith(f"{package}."):
            continue
        for attribute, seconds in waits.items():
            if hasattr(module, attribute):
                setattr(module, attribute, float(seconds))
                shortened.append(f"{name}.{attribute}")
    return sorted(shortened)


def main(argv: list[str]) -> int:
    """Import, invoke once, write the result file, exit without waiting for other threads."""
    handler_spec, timeout_text, result_path = argv[1:4]
    event = json.load(sys.stdin)
    module_name, _, function_name = handler_spec.rpartition(".")
    _lambda_logging()
    init_started = time.monotonic()
    module = importlib.import_module(module_name)
    handler = getattr(module, function_name)
    shortened = _shorten_waits(module_name, json.loads(argv[4]) if len(argv) > 4 else {})
    started = time.monotonic()
    context = LambdaContext(float(timeout_text), started)
    _REQUEST_ID["value"] = context.aws_request_id
    result: dict[str, Any] = {
        "initMs": round((started - init_started) * 1000),
        "handlerFile": getattr(module, "__file__", None),
        "crhelperFile": _module_file("crhelper"),
        "boto3File": _module_file("boto3"),
        "sysPath": list(sys.path),
        "pythonVersion": ".".join(map(str, sys.version_info[:3])),
        "pythonImplementation": sys.implementation.name,
        "awsRequestId": context.aws_request_id,
        "timedOut": False,
        "shortenedWaits": shortened,
    }
    watchdog = threading.Thread(
        target=_kill_at,
        args=(started + float(timeout_text), result_path, result),
        name="lambda-timeout",
        daemon=True,
    )
    watchdog.start()
    try:
        returned = handler(event, context)
        result["returned"] = repr(returned)
        result["error"] = None
    except BaseException:  # Lambda reports any escape as a function error
        result["error"] = traceback.format_exc()
    result["durationMs"] = round((time.monotonic() - started) * 1000)
    result["remainingMs"] = context.get_remaining_time_in_millis()
    _ENDING.acquire()
    _write(result_path, result)
    sys.stdout.flush()
    sys.stderr.flush()
    # Lambda freezes the sandbox when the handler returns; it does not wait for stray threads.
    os._exit(0 if result["error"] is None else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
