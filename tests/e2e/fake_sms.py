"""Protocol-level fake of the AWS End User Messaging SMS endpoint (``pinpoint-sms-voice-v2``).

A real HTTP server on 127.0.0.1 speaking the AWS JSON 1.0 protocol as botocore sends it
(``POST /``, ``X-Amz-Target: PinpointSMSVoiceV2.<Operation>``, SigV4 ``Authorization`` whose
credential scope names service ``sms-voice``; the signature itself is not verified).

Every request body and every response the fake builds is validated against botocore's own
service model (members, required, types, lengths, patterns, enums, list sizes, integer ranges).
Mismatches and protocol mistakes are appended to ``violations``; tests assert it stays empty.

Usage::

    service = FakeSmsService(s3_endpoint_url=s3.url)
    service.start()
    client = boto3.client("pinpoint-sms-voice-v2", endpoint_url=service.url, ...)
    ...
    service.stop()

Public API of ``FakeSmsService``:

- ``start()``, ``stop()``, ``url`` (``http://127.0.0.1:PORT``), ``client(region=, config=)`` (a
  boto3 client), ``env()`` (the ``AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2`` variable for a
  subprocess); context manager. ``make_sms_client(endpoint_url)`` is the same as a function.
- Settings (plain attributes, change any time): ``upload_seconds`` (delay before an upload
  leaves UPLOAD_IN_PROGRESS; 0 makes Create answer the final status), ``max_size_bytes``,
  ``deleted_visibility`` (``"not_found"``: Describe of a deleted attachment raises
  ResourceNotFoundException; ``"status_deleted"``: it answers status DELETED),
  ``max_live_attachments`` (None or a per-account quota), ``default_page_size``.
- ``set_faults(throttle_rate=, internal_error_rate=, latency_seconds=, fail_uploads=,
  conflict_on_delete=, hang_seconds=, hold_until=)`` replaces all faults; rates are a probability
  for every operation or a ``{operation: probability}`` dict. Draws come from a
  ``random.Random(seed)``. ``hold_until={operation: condition}`` pins an interleaving instead of
  timing it: a call of that operation waits to answer until ``condition(request)`` holds (at most
  ``HOLD_LIMIT_SECONDS``, under the handler's read timeout); a hold that ran out is listed in
  ``held_too_long``, so a test can tell a pinned order from one that did not happen.
- ``set_rate_limits({operation: requests_per_second})``: token bucket, burst 1, over the rate
  -> ThrottlingException. ``set_in_use(id_or_arn, True)`` makes Delete answer ConflictException.
- ``calls`` / ``successes`` (``Counter`` per operation), ``call_log`` (``CallRecord`` list),
  ``violations`` (list of str), ``take_violations()`` (returns and clears them).
- ``live_attachments()``, ``attachment(id_or_arn)`` (snapshots as dicts, see
  ``FakeSmsService.attachment``), ``reset()`` (clears state, faults, limits, counters and restores
  the constructor's settings).
- ``registrations``: the registration operations, their state and review controls (also over
  HTTP at ``/_control/registrations/<action>``); see ``fake_registrations``.
"""

from __future__ import annotations

import base64
import binascii
import collections
import dataclasses
import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, cast

import boto3
import botocore.config
import botocore.session
from botocore.exceptions import ClientError
from botocore.model import (
    ListShape,
    MapShape,
    NoShapeFoundError,
    OperationModel,
    ServiceModel,
    Shape,
    StringShape,
    StructureShape,
)

from .iam_eval import IamRegistry, parse_authorization, sms_requests

if TYPE_CHECKING:
    from .fake_registrations import FakeRegistrations

SERVICE_NAME: Final = "pinpoint-sms-voice-v2"
SIGNING_NAME = "sms-voice"
TARGET_PREFIX = "PinpointSMSVoiceV2."
CONTENT_TYPE = "application/x-amz-json-1.0"
OPERATIONS = frozenset(
    {
        "CreateRegistrationAttachment",
        "DescribeRegistrationAttachments",
        "DeleteRegistrationAttachment",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    }
)
# Served by FakeRegistrations (fake_registrations.py).
REGISTRATION_OPERATIONS = frozenset(
    {
        "CreateRegistration",
        "DescribeRegistrations",
        "DeleteRegistration",
        "DescribeRegistrationTypeDefinitions",
        "DescribeRegistrationSectionDefinitions",
        "DescribeRegistrationFieldDefinitions",
        "PutRegistrationFieldValue",
        "DeleteRegistrationFieldValue",
        "DescribeRegistrationFieldValues",
        "DescribeRegistrationVersions",
        "CreateRegistrationVersion",
        "SubmitRegistrationVersion",
        "DiscardRegistrationVersion",
        "CreateRegistrationAssociation",
        "ListRegistrationAssociations",
    }
)
OPERATIONS = OPERATIONS | REGISTRATION_OPERATIONS
DEFAULT_ACCOUNT = "123456789012"
ATTACHMENT_ID_PREFIX = "ra-"
ATTACHMENT_ID_HEX_LENGTH = 32
ATTACHMENT_ID_RE = re.compile(rf"{ATTACHMENT_ID_PREFIX}[0-9a-f]{{{ATTACHMENT_ID_HEX_LENGTH}}}")
ATTACHMENT_RESOURCE_TYPE = "registration-attachment"
DEFAULT_MAX_SIZE_BYTES = 5 * 1024 * 1024
DEFAULT_UPLOAD_SECONDS = 0.2
#: How long a new attachment stays invisible to Describe, Delete and the tag operations.
DEFAULT_VISIBILITY_SECONDS = 0.2
DEFAULT_PAGE_SIZE = 10
#: The longest a ``hold_until`` holds a call: under the handler's 7 s read timeout, so a hold
#: never turns into a client-side retry.
HOLD_LIMIT_SECONDS = 6.0
MAX_TAGS_PER_RESOURCE = 200
RESERVED_TAG_PREFIX = "aws:"
MAGIC_NUMBERS = (b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
STATUS_IN_PROGRESS = "UPLOAD_IN_PROGRESS"
STATUS_COMPLETE = "UPLOAD_COMPLETE"
STATUS_FAILED = "UPLOAD_FAILED"
STATUS_DELETED = "DELETED"
ALL_STATUSES = frozenset({STATUS_IN_PROGRESS, STATUS_COMPLETE, STATUS_FAILED, STATUS_DELETED})
UPLOAD_ERROR_REASON = "INTERNAL_ERROR"

_S3_URL_RE = re.compile(r"s3://([^/]+)/(.+)")
_CREDENTIAL_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/,\s]+/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request"
)
_PROTOCOL_ERROR_STATUS = {
    "UnknownOperationException": 400,
    "SerializationException": 400,
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 403,
}

DeletedVisibility = Literal["not_found", "status_deleted"]
JsonDict = dict[str, Any]


class HeaderLookup(Protocol):
    """Case-insensitive header access, as ``http.server`` gives it."""

    def get(self, name: str, /) -> str | None: ...


class ApiError(Exception):
    """A service error answered as ``{"__type": code, "message": ...}`` plus modeled members."""

    def __init__(self, code: str, message: str, **members: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.members = members


# --------------------------------------------------------------------------- model validation


def validate_shape(shape: Shape, value: Any, path: str = "$") -> list[str]:
    """Return the ways ``value`` (decoded JSON) does not match the botocore ``shape``."""
    errors: list[str] = []
    _check_value(shape, value, path, errors)
    return errors


def _check_value(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if value is None:
        errors.append(f"{path}: null is not a valid {shape.type_name}")
        return
    checker = _CHECKERS.get(shape.type_name)
    if checker is None:
        errors.append(f"{path}: the fake cannot validate type {shape.type_name}")
        return
    checker(shape, value, path, errors)


def _check_range(shape: Shape, size: int, what: str, path: str, errors: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        errors.append(f"{path}: {what} {size} is below the minimum {low}")
    if high is not None and size > high:
        errors.append(f"{path}: {what} {size} is above the maximum {high}")


def _check_structure(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object, got {type(value).__name__}")
        return
    structure = cast(StructureShape, shape)
    members = structure.members
    for name in value:
        if name not in members:
            errors.append(f"{path}: unknown member {name!r} for {shape.name}")
    for name in structure.required_members:
        if name not in value:
            errors.append(f"{path}: required member {name!r} of {shape.name} is missing")
    for name, item in value.items():
        if name in members:
            _check_value(members[name], item, f"{path}.{name}", errors)


def _check_list(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, list):
        errors.append(f"{path}: expected a list, got {type(value).__name__}")
        return
    _check_range(shape, len(value), "item count", path, errors)
    for index, item in enumerate(value):
        _check_value(cast(ListShape, shape).member, item, f"{path}[{index}]", errors)


def _check_map(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected a map object, got {type(value).__name__}")
        return
    _check_range(shape, len(value), "entry count", path, errors)
    map_shape = cast(MapShape, shape)
    for key, item in value.items():
        _check_value(map_shape.key, key, f"{path}<key {key!r}>", errors)
        _check_value(map_shape.value, item, f"{path}[{key!r}]", errors)


def _check_string(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, str):
        errors.append(f"{path}: expected a string, got {type(value).__name__}")
        return
    _check_range(shape, len(value), "length", path, errors)
    pattern = shape.metadata.get("pattern")
    if pattern is not None and not _compiled(pattern).fullmatch(value):
        errors.append(f"{path}: {value[:80]!r} does not match pattern {pattern!r}")
    enum = cast(StringShape, shape).enum
    if enum and value not in enum:
        errors.append(f"{path}: {value!r} is not one of {shape.name} {list(enum)}")


def _check_integer(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(f"{path}: expected an integer, got {value!r}")
        return
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        errors.append(f"{path}: {value} is below the minimum {low}")
    if high is not None and value > high:
        errors.append(f"{path}: {value} is above the maximum {high}")


def _check_number(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append(f"{path}: expected a number ({shape.type_name}), got {value!r}")


def _check_boolean(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, bool):
        errors.append(f"{path}: expected a boolean, got {value!r}")


def _check_blob(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    """Blobs travel as base64 strings; the model's min/max bound the encoded length."""
    if not isinstance(value, str):
        errors.append(f"{path}: expected a base64 string, got {type(value).__name__}")
        return
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        errors.append(f"{path}: not valid base64")
    _check_range(shape, len(value), "base64 length", path, errors)


_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "float": _check_number,
    "double": _check_number,
    "timestamp": _check_number,
    "boolean": _check_boolean,
    "blob": _check_blob,
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


def make_sms_client(
    endpoint_url: str, *, region: str = "us-east-1", config: botocore.config.Config | None = None
) -> Any:
    """A real boto3 ``pinpoint-sms-voice-v2`` client for a local endpoint (dummy credentials)."""
    return boto3.client(
        SERVICE_NAME,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def load_service_model() -> ServiceModel:
    """botocore's model of ``pinpoint-sms-voice-v2``."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


# --------------------------------------------------------------------------- state


@dataclasses.dataclass
class Faults:
    """Injected faults; ``*_rate`` maps an operation (or ``"*"`` for all) to a probability."""

    throttle_rate: dict[str, float] = dataclasses.field(default_factory=dict)
    internal_error_rate: dict[str, float] = dataclasses.field(default_factory=dict)
    latency_seconds: float = 0.0
    fail_uploads: bool = False
    conflict_on_delete: bool = False
    #: CreateRegistrationAttachment answers ValidationException for URLs containing any of these.
    reject_urls: tuple[str, ...] = ()
    #: Seconds each operation named here waits before it answers (a hung call).
    hang_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    #: Each operation named here waits to answer until its condition holds (a pinned order).
    hold_until: dict[str, Callable[[JsonDict], bool]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class CallRecord:
    """One request as the fake saw it (``error_code`` is None on success)."""

    operation: str
    region: str | None
    request: JsonDict
    status: int
    error_code: str | None


@dataclasses.dataclass
class _Attachment:
    id: str
    arn: str
    region: str
    client_token: str
    created: float
    ready_at: float
    final_status: str
    attachment_url: str | None
    size: int
    sha256: str
    tags: dict[str, str]
    deleted: bool = False
    in_use: bool = False

    visible_at: float = 0.0

    def status(self, now: float) -> str:
        if self.deleted:
            return STATUS_DELETED
        return STATUS_IN_PROGRESS if now < self.ready_at else self.final_status

    def info(self, now: float) -> JsonDict:
        """The RegistrationAttachmentsInformation view (Describe)."""
        status = self.status(now)
        info: JsonDict = {
            "RegistrationAttachmentArn": self.arn,
            "RegistrationAttachmentId": self.id,
            "AttachmentStatus": status,
            "CreatedTimestamp": self.created,
        }
        if status == STATUS_FAILED:
            info["AttachmentUploadErrorReason"] = UPLOAD_ERROR_REASON
        if self.attachment_url is not None:
            info["AttachmentUrl"] = self.attachment_url
        return info


class _TokenBucket:
    """Token bucket with burst 1."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = 1.0
        self.last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(1.0, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def wait_until(condition: Callable[[], bool], limit: float, *, poll: float = 0.01) -> bool:
    """Whether ``condition()`` held within ``limit`` seconds (polled)."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() >= end:
            return False
        time.sleep(poll)
    return True


def _rates(value: float | Mapping[str, float]) -> dict[str, float]:
    return dict(value) if isinstance(value, Mapping) else {"*": float(value)}


def _tag_list(tags: Mapping[str, str]) -> list[JsonDict]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _check_tag_keys(keys: list[str]) -> None:
    for key in keys:
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise ApiError(
                "ValidationException",
                f"Tag key {key!r} uses the reserved prefix {RESERVED_TAG_PREFIX!r}",
                Reason="INVALID_PARAMETER",
            )


def _loggable(request: JsonDict) -> JsonDict:
    """The request with a long AttachmentBody replaced by its length."""
    body = request.get("AttachmentBody")
    if isinstance(body, str) and len(body) > 64:
        return {**request, "AttachmentBody": f"<{len(body)} base64 characters>"}
    return request


def _is_supported_file(content: bytes) -> bool:
    return any(content.startswith(magic) for magic in MAGIC_NUMBERS)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(
            "ValidationException", "The NextToken is not valid", Reason="INVALID_NEXT_TOKEN"
        ) from exc


# --------------------------------------------------------------------------- the service


class FakeSmsService:
    """Fake ``pinpoint-sms-voice-v2`` endpoint; see the module docstring for the API."""

    def __init__(
        self,
        *,
        s3_endpoint_url: str,
        account: str = DEFAULT_ACCOUNT,
        seed: int = 0,
        upload_seconds: float = DEFAULT_UPLOAD_SECONDS,
        max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES,
        deleted_visibility: DeletedVisibility = "not_found",
        visibility_seconds: float = DEFAULT_VISIBILITY_SECONDS,
        strict_ids: bool = True,
    ) -> None:
        self.s3_endpoint_url = s3_endpoint_url
        self.account = account
        self.seed = seed
        self._defaults = (
            upload_seconds,
            max_size_bytes,
            deleted_visibility,
            visibility_seconds,
            strict_ids,
        )
        #: New attachments are unknown to every operation but Create for this long.
        self.visibility_seconds = visibility_seconds
        #: IDs not of the fake's own shape get ValidationException (as CloudFormation's
        #: placeholders do on the real service), not ResourceNotFoundException.
        self.strict_ids = strict_ids
        self.upload_seconds = upload_seconds
        self.max_size_bytes = max_size_bytes
        self.deleted_visibility: DeletedVisibility = deleted_visibility
        self.max_live_attachments: int | None = None
        self.default_page_size = DEFAULT_PAGE_SIZE
        self.model = load_service_model()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._faults = Faults()
        self._buckets: dict[str, _TokenBucket] = {}
        self._attachments: dict[str, _Attachment] = {}
        self._by_token: dict[tuple[str, str], str] = {}
        self._token_locks: dict[tuple[str, str], threading.Lock] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.successes: collections.Counter[str] = collections.Counter()
        self.call_log: list[CallRecord] = []
        self.violations: list[str] = []
        #: Operations whose ``hold_until`` condition did not hold within HOLD_LIMIT_SECONDS.
        self.held_too_long: list[str] = []
        self._s3: Any = None  # boto3 S3 client (untyped without mypy-boto3-s3)
        #: Evaluates every call signed with a registered access key (see ``_authorize``).
        self.iam: IamRegistry | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        from .fake_registrations import FakeRegistrations  # imports this module, so import late

        self.registrations: FakeRegistrations = FakeRegistrations(self)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start serving on an ephemeral port of 127.0.0.1."""
        self._s3 = boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=botocore.config.Config(
                s3={"addressing_style": "path"},
                retries={"total_max_attempts": 2},
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        server = _Server(("127.0.0.1", 0), _Handler)
        server.service = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-sms", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSmsService:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("FakeSmsService is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(
        self, *, region: str = "us-east-1", config: botocore.config.Config | None = None
    ) -> Any:
        """A real boto3 client for this fake (dummy credentials)."""
        return make_sms_client(self.url, region=region, config=config)

    def env(self) -> dict[str, str]:
        """Environment that points boto3 in a subprocess at this fake."""
        return {"AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": self.url}

    # ----------------------------------------------------------------- test controls

    def reset(self) -> None:
        """Forget attachments, counters, violations, faults and limits; restore settings."""
        with self._lock:
            (
                self.upload_seconds,
                self.max_size_bytes,
                self.deleted_visibility,
                self.visibility_seconds,
                self.strict_ids,
            ) = self._defaults
            self.max_live_attachments = None
            self.default_page_size = DEFAULT_PAGE_SIZE
            self._rng.seed(self.seed)
            self._faults = Faults()
            self._buckets.clear()
            self._attachments.clear()
            self._by_token.clear()
            self._token_locks.clear()
            self.calls.clear()
            self.successes.clear()
            self.call_log.clear()
            self.violations.clear()
            self.held_too_long.clear()
            self.registrations.reset()

    def set_faults(
        self,
        *,
        throttle_rate: float | Mapping[str, float] = 0.0,
        internal_error_rate: float | Mapping[str, float] = 0.0,
        latency_seconds: float = 0.0,
        fail_uploads: bool = False,
        conflict_on_delete: bool = False,
        reject_urls: tuple[str, ...] = (),
        hang_seconds: Mapping[str, float] | None = None,
        hold_until: Mapping[str, Callable[[JsonDict], bool]] | None = None,
    ) -> None:
        """Replace all injected faults (a float rate applies to every operation)."""
        faults = Faults(
            throttle_rate=_rates(throttle_rate),
            internal_error_rate=_rates(internal_error_rate),
            latency_seconds=latency_seconds,
            fail_uploads=fail_uploads,
            conflict_on_delete=conflict_on_delete,
            reject_urls=tuple(reject_urls),
            hang_seconds=dict(hang_seconds or {}),
            hold_until=dict(hold_until or {}),
        )
        with self._lock:
            self._faults = faults

    def set_rate_limits(self, limits: Mapping[str, float]) -> None:
        """Per-operation requests per second (token bucket, burst 1); replaces earlier limits."""
        with self._lock:
            self._buckets = {op: _TokenBucket(rate) for op, rate in limits.items()}

    def set_in_use(self, id_or_arn: str, in_use: bool = True) -> None:
        """Mark an attachment as referenced so Delete answers ConflictException."""
        with self._lock:
            record = self._find(id_or_arn)
            if record is None:
                raise KeyError(id_or_arn)
            record.in_use = in_use

    def take_violations(self) -> list[str]:
        """Return the recorded violations and clear them."""
        with self._lock:
            taken = list(self.violations)
            self.violations.clear()
            return taken

    def live_attachments(self) -> list[JsonDict]:
        """Snapshots of the attachments that are not deleted."""
        with self._lock:
            return [self._snapshot(r) for r in self._attachments.values() if not r.deleted]

    def attachment(self, id_or_arn: str) -> JsonDict | None:
        """Snapshot of one attachment (deleted ones too), or None.

        Keys: the Describe fields (RegistrationAttachmentArn, RegistrationAttachmentId,
        AttachmentStatus, CreatedTimestamp, AttachmentUploadErrorReason, AttachmentUrl) plus
        Tags (dict), ClientToken, Region, SizeBytes, ContentSha256, Deleted, InUse.
        """
        with self._lock:
            record = self._find(id_or_arn)
            return None if record is None else self._snapshot(record)

    def _snapshot(self, record: _Attachment) -> JsonDict:
        snapshot = record.info(time.monotonic())
        snapshot["CreatedTimestamp"] = record.created
        snapshot.update(
            Tags=dict(record.tags),
            ClientToken=record.client_token,
            Region=record.region,
            SizeBytes=record.size,
            ContentSha256=record.sha256,
            Deleted=record.deleted,
            InUse=record.in_use,
        )
        return snapshot

    def _find(self, id_or_arn: str, region: str | None = None) -> _Attachment | None:
        if id_or_arn.startswith("arn:"):
            found = [r for r in self._attachments.values() if r.arn == id_or_arn]
            record = found[0] if found else None
        else:
            record = self._attachments.get(id_or_arn)
        if record is None or (region is not None and record.region != region):
            return None
        return record

    def _violation(self, operation: str, message: str) -> None:
        with self._lock:
            self.violations.append(f"{operation}: {message}")

    # ----------------------------------------------------------------- request pipeline

    def handle_http(
        self, method: str, path: str, headers: HeaderLookup, body: bytes
    ) -> tuple[int, JsonDict]:
        """Answer one raw HTTP request: returns (status, JSON body)."""
        if path.startswith("/_control/"):
            return self.registrations.control(method, path, body)
        target = headers.get("X-Amz-Target") or ""
        operation = target.removeprefix(TARGET_PREFIX) or "<no X-Amz-Target>"
        with self._lock:
            self.calls[operation] += 1
        region: str | None = None
        request: JsonDict = {}
        try:
            region = self._check_protocol(operation, method, path, headers, target)
            request = self._parse_body(operation, body)
            self._validate_input(operation, request)
            self._authorize(operation, request, region, headers)
            self._apply_faults(operation, request)
            result = self._dispatch(operation, request, region)
            status, payload = 200, self._checked_output(operation, result)
        except ApiError as error:
            status, payload = self._error_payload(operation, error)
        except Exception as exc:  # a bug in the fake must not pass silently
            self._violation(operation, f"fake crashed: {exc!r}")
            status, payload = self._error_payload(
                operation, ApiError("InternalServerException", f"fake crashed: {exc!r}")
            )
        with self._lock:
            if status == 200:
                self.successes[operation] += 1
            self.call_log.append(
                CallRecord(operation, region, _loggable(request), status, payload.get("__type"))
            )
        return status, payload

    def _check_protocol(
        self, operation: str, method: str, path: str, headers: HeaderLookup, target: str
    ) -> str:
        if method != "POST" or path != "/":
            self._violation(operation, f"expected POST /, got {method} {path}")
            raise ApiError("UnknownOperationException", f"{method} {path} is not supported")
        if not target.startswith(TARGET_PREFIX) or operation not in OPERATIONS:
            self._violation(operation, f"unsupported X-Amz-Target {target!r}")
            raise ApiError("UnknownOperationException", f"Unknown operation {target!r}")
        content_type = headers.get("Content-Type") or ""
        if content_type.split(";")[0].strip() != CONTENT_TYPE:
            self._violation(operation, f"Content-Type {content_type!r}, expected {CONTENT_TYPE}")
            raise ApiError("SerializationException", f"Unsupported Content-Type {content_type!r}")
        return self._check_auth(operation, headers)

    def _check_auth(self, operation: str, headers: HeaderLookup) -> str:
        authorization = headers.get("Authorization")
        if not authorization:
            self._violation(operation, "request has no SigV4 Authorization header")
            raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token")
        match = _CREDENTIAL_RE.match(authorization)
        if match is None or "Signature=" not in authorization:
            self._violation(operation, f"malformed Authorization header {authorization[:120]!r}")
            raise ApiError("IncompleteSignatureException", "Malformed Authorization header")
        _date, region, service = match.groups()
        if service != SIGNING_NAME:
            self._violation(operation, f"credential scope names {service!r}, not {SIGNING_NAME}")
            raise ApiError("IncompleteSignatureException", f"Wrong signing service {service!r}")
        if not (headers.get("X-Amz-Date") or headers.get("Date")):
            self._violation(operation, "request has no X-Amz-Date header")
            raise ApiError("IncompleteSignatureException", "Missing X-Amz-Date")
        return region

    def _authorize(
        self, operation: str, request: JsonDict, region: str, headers: HeaderLookup
    ) -> None:
        """IAM's decision on the call, for callers whose policies ``iam`` knows.

        A denial answers AccessDeniedException with IAM's message and, unless a test's own
        ``add_deny`` caused it, is a violation: the handler's policy lacks what it calls.
        """
        credentials = parse_authorization(headers.get("Authorization"))
        if self.iam is None or credentials is None:
            return
        decision = self.iam.authorize(
            credentials[0],
            operation,
            lambda identity: sms_requests(
                operation,
                request,
                region=region,
                account=identity.account,
                tags_of=self._resource_tags,
            ),
        )
        if decision is None or decision.allowed:
            return
        if decision.denied_by != "boundary":
            self._violation(operation, f"IAM denied the call: {decision.message}")
        raise ApiError("AccessDeniedException", decision.message)

    def _resource_tags(self, arn: str) -> dict[str, str] | None:
        """The tags IAM sees on a resource (None: no such resource, so no aws:ResourceTag)."""
        if f":{ATTACHMENT_RESOURCE_TYPE}/" in arn:
            snapshot = self.attachment(arn)
        elif ":registration/" in arn:
            snapshot = self.registrations.registration(arn)
        else:
            return {}  # phone numbers and sender IDs carry no tags in the fake
        if snapshot is None or snapshot["Deleted"]:
            return None
        return dict(snapshot["Tags"])

    def _parse_body(self, operation: str, body: bytes) -> JsonDict:
        try:
            request = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            self._violation(operation, f"body is not JSON: {exc}")
            raise ApiError("SerializationException", "Body is not valid JSON") from exc
        if not isinstance(request, dict):
            self._violation(operation, "body is not a JSON object")
            raise ApiError("SerializationException", "Body must be a JSON object")
        return request

    def _operation_model(self, operation: str) -> OperationModel:
        return self.model.operation_model(operation)

    def _validate_input(self, operation: str, request: JsonDict) -> None:
        input_shape = self._operation_model(operation).input_shape
        errors = validate_shape(input_shape, request) if input_shape is not None else []
        if errors:
            for error in errors:
                self._violation(operation, f"request {error}")
            raise ApiError("ValidationException", "; ".join(errors), Reason="INVALID_PARAMETER")

    def _apply_faults(self, operation: str, request: JsonDict) -> None:
        with self._lock:
            faults = self._faults
            throttled = self._roll(faults.throttle_rate, operation)
            failed = not throttled and self._roll(faults.internal_error_rate, operation)
        if faults.latency_seconds > 0:
            time.sleep(faults.latency_seconds)
        if faults.hang_seconds.get(operation, 0) > 0:
            time.sleep(faults.hang_seconds[operation])
        condition = faults.hold_until.get(operation)
        if condition is not None and not wait_until(lambda: condition(request), HOLD_LIMIT_SECONDS):
            with self._lock:
                self.held_too_long.append(operation)
        if throttled:
            raise ApiError("ThrottlingException", "Rate exceeded (injected)")
        if failed:
            raise ApiError("InternalServerException", "Internal error (injected)")
        with self._lock:
            bucket = self._buckets.get(operation)
            if bucket is not None and not bucket.take():
                raise ApiError("ThrottlingException", f"Rate exceeded for {operation}")

    def _roll(self, rates: Mapping[str, float], operation: str) -> bool:
        rate = rates.get(operation, rates.get("*", 0.0))
        return rate > 0 and self._rng.random() < rate

    def _checked_output(self, operation: str, result: JsonDict) -> JsonDict:
        output_shape = self._operation_model(operation).output_shape
        modeled = self.registrations.modeled_view(operation, result)
        errors = validate_shape(output_shape, modeled) if output_shape is not None else []
        if errors:
            for error in errors:
                self._violation(operation, f"fake response {error}")
            raise ApiError("InternalServerException", "fake built an invalid response")
        return result

    def _error_payload(self, operation: str, error: ApiError) -> tuple[int, JsonDict]:
        if error.code in _PROTOCOL_ERROR_STATUS:
            return _PROTOCOL_ERROR_STATUS[error.code], {
                "__type": error.code,
                "message": error.message,
            }
        body = {"__type": error.code, "message": error.message, **error.members}
        modeled = {shape.name: shape for shape in self._operation_model(operation).error_shapes}
        shape = modeled.get(error.code)
        if shape is None:
            self._violation(operation, f"fake answered {error.code}, not an error of {operation}")
            try:
                shape = self.model.shape_for(error.code)
            except NoShapeFoundError:
                return 400, body
        for problem in validate_shape(shape, {"Message": error.message, **error.members}):
            self._violation(operation, f"fake error body {problem}")
        status: int = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        return status, body

    def _dispatch(self, operation: str, request: JsonDict, region: str) -> JsonDict:
        if self.registrations.handles(operation, request):
            return self.registrations.dispatch(operation, request, region)
        handlers = {
            "CreateRegistrationAttachment": self._create,
            "DescribeRegistrationAttachments": self._describe,
            "DeleteRegistrationAttachment": self._delete,
            "TagResource": self._tag,
            "UntagResource": self._untag,
            "ListTagsForResource": self._list_tags,
        }
        return handlers[operation](request, region)

    # ----------------------------------------------------------------- operations

    def _create(self, request: JsonDict, region: str) -> JsonDict:
        token = request.get("ClientToken") or uuid.uuid4().hex
        key = (region, token)
        with self._lock:
            token_lock = self._token_locks.setdefault(key, threading.Lock())
        with token_lock:
            with self._lock:
                existing = self._by_token.get(key)
                if existing is not None:
                    return self._create_result(self._attachments[existing])
            record = self._new_attachment(request, region, token)
            with self._lock:
                self._check_quota()
                self._attachments[record.id] = record
                self._by_token[key] = record.id
            return self._create_result(record)

    def _check_quota(self) -> None:
        limit = self.max_live_attachments
        live = sum(1 for r in self._attachments.values() if not r.deleted)
        if limit is not None and live >= limit:
            raise ApiError(
                "ServiceQuotaExceededException",
                f"At most {limit} registration attachments per account",
                Reason="REGISTRATION_ATTACHMENTS_PER_ACCOUNT",
            )

    def _create_result(self, record: _Attachment) -> JsonDict:
        return {
            "RegistrationAttachmentArn": record.arn,
            "RegistrationAttachmentId": record.id,
            "AttachmentStatus": record.status(time.monotonic()),
            "Tags": _tag_list(record.tags),
            "CreatedTimestamp": record.created,
        }

    def _new_attachment(self, request: JsonDict, region: str, token: str) -> _Attachment:
        url, body = request.get("AttachmentUrl"), request.get("AttachmentBody")
        if url is not None and body is not None:
            raise ApiError(
                "ValidationException",
                "Specify either AttachmentUrl or AttachmentBody, not both",
                Reason="PARAMETERS_CANNOT_BE_USED_TOGETHER",
            )
        if url is None and body is None:
            raise ApiError(
                "ValidationException",
                "One of AttachmentUrl or AttachmentBody is required",
                Reason="MISSING_PARAMETER",
            )
        tags = {tag["Key"]: tag["Value"] for tag in request.get("Tags", [])}
        _check_tag_keys(list(tags))
        with self._lock:
            self._check_quota()
            rejected = any(part in (url or "") for part in self._faults.reject_urls)
        if rejected:
            raise ApiError(
                "ValidationException",
                f"Unable to use {url} (injected)",
                Reason="INVALID_PARAMETER",
            )
        content = self._read_s3(url) if url is not None else base64.b64decode(body or "")
        with self._lock:
            fail = self._faults.fail_uploads
            upload_seconds, max_size = self.upload_seconds, self.max_size_bytes
        ok = not fail and len(content) <= max_size and _is_supported_file(content)
        attachment_id = f"{ATTACHMENT_ID_PREFIX}{uuid.uuid4().hex}"
        return _Attachment(
            id=attachment_id,
            arn=(
                f"arn:aws:sms-voice:{region}:{self.account}:"
                f"{ATTACHMENT_RESOURCE_TYPE}/{attachment_id}"
            ),
            region=region,
            client_token=token,
            created=round(time.time(), 3),
            ready_at=time.monotonic() + upload_seconds,
            final_status=STATUS_COMPLETE if ok else STATUS_FAILED,
            visible_at=time.monotonic() + self.visibility_seconds,
            attachment_url=url,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            tags=tags,
        )

    def _read_s3(self, url: str) -> bytes:
        match = _S3_URL_RE.fullmatch(url)
        if match is None:
            raise ApiError(
                "ValidationException",
                f"AttachmentUrl must look like s3://BucketName/FileName, got {url!r}",
                Reason="INVALID_PARAMETER",
            )
        bucket, key = match.groups()
        assert self._s3 is not None, "start() creates the S3 client"
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
            content: bytes = response["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise ApiError(
                "ValidationException",
                f"Unable to read {url}: {code}",
                Reason="RESOURCE_NOT_ACCESSIBLE",
            ) from exc
        return content

    def _describe(self, request: JsonDict, region: str) -> JsonDict:
        now = time.monotonic()
        ids: list[str] = request.get("RegistrationAttachmentIds") or []
        statuses = self._status_filter(request.get("Filters", []))
        with self._lock:
            if ids:
                records = [self._visible(i, region, describe=True) for i in ids]
            else:
                records = [r for r in self._attachments.values() if self._listed(r, region)]
            infos = [r.info(now) for r in records]
            page_size = self.default_page_size
        if statuses is not None:
            infos = [i for i in infos if i["AttachmentStatus"] in statuses]
        if ids:
            return {"RegistrationAttachments": infos}
        start = _decode_token(request["NextToken"]) if "NextToken" in request else 0
        end = start + request.get("MaxResults", page_size)
        result: JsonDict = {"RegistrationAttachments": infos[start:end]}
        if end < len(infos):
            result["NextToken"] = _encode_token(end)
        return result

    @staticmethod
    def _status_filter(filters: list[JsonDict]) -> set[str] | None:
        statuses: set[str] | None = None
        for item in filters:
            values = set(item["Values"])
            unknown = values - ALL_STATUSES
            if unknown:
                raise ApiError(
                    "ValidationException",
                    f"Unknown attachment-status values {sorted(unknown)}",
                    Reason="INVALID_FILTER_VALUES",
                )
            statuses = values if statuses is None else statuses & values
        return statuses

    def _listed(self, record: _Attachment, region: str) -> bool:
        if record.region != region or time.monotonic() < record.visible_at:
            return False
        return not record.deleted or self.deleted_visibility == "status_deleted"

    def _visible(self, id_or_arn: str, region: str, *, describe: bool = False) -> _Attachment:
        resource_id = id_or_arn.rsplit("/", 1)[-1] if id_or_arn.startswith("arn:") else id_or_arn
        if self.strict_ids and ATTACHMENT_ID_RE.fullmatch(resource_id) is None:
            raise ApiError(
                "ValidationException",
                f"{id_or_arn} is not a registration attachment ID",
                Reason="INVALID_PARAMETER",
            )
        record = self._find(id_or_arn, region)
        show_deleted = describe and self.deleted_visibility == "status_deleted"
        not_yet_visible = record is not None and time.monotonic() < record.visible_at
        if record is None or not_yet_visible or (record.deleted and not show_deleted):
            raise ApiError(
                "ResourceNotFoundException",
                f"Registration attachment {id_or_arn} not found",
                ResourceType=ATTACHMENT_RESOURCE_TYPE,
                ResourceId=id_or_arn,
            )
        return record

    def _delete(self, request: JsonDict, region: str) -> JsonDict:
        with self._lock:
            record = self._visible(request["RegistrationAttachmentId"], region)
            if record.in_use or self._faults.conflict_on_delete:
                raise ApiError(
                    "ConflictException",
                    f"Registration attachment {record.id} is in use by a registration",
                    Reason="RESOURCE_ALREADY_ASSOCIATED",
                    ResourceType=ATTACHMENT_RESOURCE_TYPE,
                    ResourceId=record.id,
                )
            record.deleted = True
            return {
                "RegistrationAttachmentArn": record.arn,
                "RegistrationAttachmentId": record.id,
                "AttachmentStatus": STATUS_DELETED,
                "CreatedTimestamp": record.created,
            }

    def _tag(self, request: JsonDict, region: str) -> JsonDict:
        new_tags = {tag["Key"]: tag["Value"] for tag in request["Tags"]}
        _check_tag_keys(list(new_tags))
        with self._lock:
            record = self._visible(request["ResourceArn"], region)
            merged = {**record.tags, **new_tags}
            if len(merged) > MAX_TAGS_PER_RESOURCE:
                raise ApiError(
                    "ServiceQuotaExceededException",
                    f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags",
                    Reason="TAGS_PER_RESOURCE",
                )
            record.tags = merged
        return {}

    def _untag(self, request: JsonDict, region: str) -> JsonDict:
        keys: list[str] = request["TagKeys"]
        _check_tag_keys(keys)
        with self._lock:
            record = self._visible(request["ResourceArn"], region)
            for key in keys:
                record.tags.pop(key, None)
        return {}

    def _list_tags(self, request: JsonDict, region: str) -> JsonDict:
        with self._lock:
            record = self._visible(request["ResourceArn"], region)
            return {"ResourceArn": record.arn, "Tags": _tag_list(record.tags)}


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    service: FakeSmsService


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK wait
    server: _Server

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client was killed mid-request (a sandbox ended by the test): the service never
            # receives a cut-off request, so it is neither answered nor judged against the model.
            self.close_connection = True
            return
        status, payload = self.server.service.handle_http(
            self.command, self.path, self.headers, body
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if "__type" in payload:
            self.send_header("x-amzn-ErrorType", f"{payload['__type']}:")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
