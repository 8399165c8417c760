"""CloudFormation's read API for the stacks the harness plays, over HTTP (query protocol, XML).

The handler asks CloudFormation whether it still waits for a request (``DescribeStackResource``
and ``DescribeStacks``). This server answers from the state of the ``StackDeployment``s
registered with it, so the answers follow what the harness does: cancellations, rollbacks,
ServiceTimeout. Every request is checked against botocore's model of ``cloudformation`` (action,
version, parameters, SigV4 scope) and every answer is parsed back with botocore's own query
parser and checked against the output shape; anything wrong lands in ``violations``.

Reach it with ``AWS_ENDPOINT_URL_CLOUDFORMATION`` (``env()``).
"""

from __future__ import annotations

import collections
import datetime
import threading
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
from botocore.parsers import create_parser

from .fake_sms import validate_shape
from .iam_eval import IamRegistry, cloudformation_requests, parse_authorization

API_VERSION = "2010-05-15"
NAMESPACE = f"http://cloudformation.amazonaws.com/doc/{API_VERSION}/"
OPERATIONS = frozenset({"DescribeStacks", "DescribeStackResource", "ListStackResources"})
#: ListStackResources answers this many summaries a page (``page_size`` changes it).
PAGE_SIZE = 100
#: The members of a resource's detail a StackResourceSummary carries.
_SUMMARY_MEMBERS = (
    "LogicalResourceId",
    "PhysicalResourceId",
    "ResourceType",
    "LastUpdatedTimestamp",
    "ResourceStatus",
)


class StackView(Protocol):
    """What the fake needs of a played stack."""

    stack_id: str
    stack_name: str
    created: datetime.datetime

    def current_stack_status(self) -> str: ...

    def resource_detail(self, logical_id: str) -> Mapping[str, Any] | None: ...

    #: logical ID -> state; its keys are the resources CloudFormation has started on.
    _resource_state: Mapping[str, Any]


class _Refusal(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _members(fields: Mapping[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        text = _iso(value) if isinstance(value, datetime.datetime) else str(value)
        parts.append(f"<{name}>{escape(text)}</{name}>")
    return "".join(parts)


class FakeCloudFormation:
    """DescribeStacks, DescribeStackResource and ListStackResources for registered stacks.

    ListStackResources pages at ``page_size`` summaries.
    """

    def __init__(self) -> None:
        session = botocore.session.get_session()
        self.model = session.get_service_model("cloudformation")
        self._parser = create_parser("query")
        self._stacks: dict[str, StackView] = {}
        self._lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()
        self.violations: list[str] = []
        self.page_size = PAGE_SIZE
        #: Evaluates every call signed with a registered access key (see ``_authorize``).
        self.iam: IamRegistry | None = None
        self._server: ThreadingHTTPServer | None = None

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeCloudFormation:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-cfn", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "use FakeCloudFormation as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Environment that points boto3 in a subprocess at this fake."""
        return {"AWS_ENDPOINT_URL_CLOUDFORMATION": self.url}

    def register(self, stack: StackView) -> None:
        """Answer for this stack, by its ID and its name (the newest stack of a name wins)."""
        with self._lock:
            self._stacks[stack.stack_id] = stack
            self._stacks[stack.stack_name] = stack

    def reset(self) -> None:
        """Forget stacks, counters and violations."""
        with self._lock:
            self._stacks.clear()
            self.calls.clear()
            self.violations.clear()
            self.page_size = PAGE_SIZE

    def take_violations(self) -> list[str]:
        with self._lock:
            taken, self.violations = self.violations, []
            return taken

    # ----------------------------------------------------------------- requests

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, str]:
        """Answer one raw HTTP request: (status, XML)."""
        form = {key: values[-1] for key, values in parse_qs(body.decode()).items()}
        action = form.pop("Action", "")
        with self._lock:
            self.calls[action] += 1
        try:
            self._check_request(method, path, headers, action, form)
            self._authorize(action, headers, form)
            xml = self._answer(action, form)
        except _Refusal as refusal:
            return refusal.status, self._error(refusal)
        self._check_response(action, xml)
        return 200, xml

    def _violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)

    def _check_request(
        self, method: str, path: str, headers: Any, action: str, form: dict[str, str]
    ) -> None:
        if method != "POST" or path != "/":
            self._violation(f"expected POST /, got {method} {path}")
            raise _Refusal("InvalidAction", f"{method} {path}")
        if action not in OPERATIONS:
            self._violation(f"action {action!r} is not one the handler may call")
            raise _Refusal("InvalidAction", f"Could not find operation {action}")
        if form.pop("Version", None) != API_VERSION:
            self._violation(f"{action}: Version is not {API_VERSION}")
        authorization = headers.get("Authorization") or ""
        if "/cloudformation/aws4_request" not in authorization:
            self._violation(f"{action}: not signed for cloudformation ({authorization[:80]!r})")
            raise _Refusal("IncompleteSignature", "bad signature scope", 403)
        shape = self.model.operation_model(action).input_shape
        for problem in validate_shape(shape, form):
            self._violation(f"{action}: request {problem}")
            raise _Refusal("ValidationError", problem)

    def _authorize(self, action: str, headers: Any, form: dict[str, str]) -> None:
        """IAM's decision on the call, for callers whose policies ``iam`` knows.

        A denial answers AccessDenied (403) with IAM's message and, unless a test's own
        ``add_deny`` caused it, is a violation.
        """
        credentials = parse_authorization(headers.get("Authorization"))
        if self.iam is None or credentials is None:
            return
        access_key, region, _service = credentials
        name = form.get("StackName")
        decision = self.iam.authorize(
            access_key,
            action,
            lambda identity: cloudformation_requests(
                action,
                None if name is None else self._stack_arn(name, region, identity.account),
                region=region,
                account=identity.account,
            ),
        )
        if decision is None or decision.allowed:
            return
        if decision.denied_by != "boundary":
            self._violation(f"{action}: IAM denied the call: {decision.message}")
        raise _Refusal("AccessDenied", decision.message, 403)

    def _stack_arn(self, name: str, region: str, account: str) -> str:
        """IAM names a stack by its ARN; a name that is no stack gets a wildcard stack ID."""
        if name.startswith("arn:"):
            return name
        with self._lock:
            known = self._stacks.get(name)
        if known is not None:
            return known.stack_id
        return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/*"

    def _stack(self, name: str) -> StackView:
        with self._lock:
            stack = self._stacks.get(name)
        if stack is None:
            raise _Refusal("ValidationError", f"Stack with id {name} does not exist")
        return stack

    def _answer(self, action: str, form: dict[str, str]) -> str:
        if action == "DescribeStacks":
            stack = self._stack(form.get("StackName", ""))
            member = _members(
                {
                    "StackName": stack.stack_name,
                    "StackId": stack.stack_id,
                    "CreationTime": stack.created,
                    "StackStatus": stack.current_stack_status(),
                }
            )
            result = f"<Stacks><member>{member}</member></Stacks>"
        elif action == "ListStackResources":
            result = self._list_resources(self._stack(form["StackName"]), form.get("NextToken"))
        else:
            stack = self._stack(form["StackName"])
            detail = stack.resource_detail(form["LogicalResourceId"])
            if detail is None:
                raise _Refusal(
                    "ValidationError",
                    f"Resource {form['LogicalResourceId']} does not exist for stack "
                    f"{stack.stack_name}",
                )
            fields = {"StackName": stack.stack_name, "StackId": stack.stack_id, **detail}
            result = f"<StackResourceDetail>{_members(fields)}</StackResourceDetail>"
        return (
            f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        )

    def _list_resources(self, stack: StackView, token: str | None) -> str:
        """One page of the stack's resources that CloudFormation has started on."""
        details = [stack.resource_detail(logical_id) for logical_id in list(stack._resource_state)]
        summaries = [
            {k: d[k] for k in _SUMMARY_MEMBERS if k in d} for d in details if d is not None
        ]
        start = int(token) if token and token.isdigit() else 0
        if token is not None and not (token.isdigit() and 0 < start < len(summaries)):
            raise _Refusal("ValidationError", f"Invalid NextToken {token!r}")
        end = start + self.page_size
        members = "".join(f"<member>{_members(s)}</member>" for s in summaries[start:end])
        after = f"<NextToken>{end}</NextToken>" if end < len(summaries) else ""
        return f"<StackResourceSummaries>{members}</StackResourceSummaries>{after}"

    def _check_response(self, action: str, xml: str) -> None:
        operation = self.model.operation_model(action)
        parsed = self._parser.parse(
            {"body": xml.encode(), "headers": {}, "status_code": 200}, operation.output_shape
        )
        parsed.pop("ResponseMetadata", None)
        for problem in validate_shape(operation.output_shape, _as_json(parsed)):
            self._violation(f"{action}: fake response {problem}")

    @staticmethod
    def _error(refusal: _Refusal) -> str:
        return (
            f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
            f"<Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )


def _as_json(value: Any) -> Any:
    """Parsed XML with timestamps as JSON protocols carry them (what validate_shape checks)."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake: FakeCloudFormation = self.server.fake  # type: ignore[attr-defined]
        status, xml = fake.handle(self.command, self.path, self.headers, body)
        data = xml.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
