"""Protocol-level fake of AWS End User Messaging brand profiles (boto3 ``endusermessaging``).

A real HTTP server on 127.0.0.1 speaking rest-json as botocore sends it: each operation is routed
by its model's ``requestUri`` and method (``{name}`` one path segment, ``{name+}`` the rest),
members come from the path, the query string and the JSON body, and the whole request is
validated against botocore's model of ``endusermessaging`` (API version 2026-09-21), as is every
response and error body the fake builds. SigV4's credential scope must name
``end-user-messaging``. Mismatches land in ``violations``; tests assert it stays empty. Calls
signed with a function's access key are evaluated by ``iam`` (``iam_eval``) against the role's
policies, with the resource types and condition keys of the Service Authorization Reference.

Behaviour (from ../shared/reference/brand-profile-facts.md; where AWS is silent, the choice is
the fake's and said here):

- Profiles: IDs ``bp-`` + 32 hex, ARN ``arn:aws:end-user-messaging:<region>:<account>:
  brand-profile/<id>``, status ACTIVE. A ClientToken gives back the profile it made. Deletion
  protection makes DeleteBrandProfile a ConflictException. A deleted profile is
  ResourceNotFoundException for every call.
- Attributes: names unique per profile (case-sensitive: not documented); a name already there
  is ConflictException for the whole CreateBrandProfileAttributes call (nothing is created);
  TEXT takes ``attributeValue``, IMAGE and DOCUMENT take ``attachmentBody`` (at most 5 MB;
  IMAGE: PNG or JPEG, DOCUMENT: PDF, PNG or JPEG, by content); a media attribute answers
  ``mediaDownloadUrl``, a URL of this server that serves its bytes without credentials.
  ``max_attributes`` per profile (100) -> ServiceQuotaExceededException.
- Tags: at most 50 per profile; keys starting ``aws:`` are ValidationException.
- Registrations from a profile (needs ``sms``, the ``FakeSmsService`` whose registrations it
  makes): CreateRegistrationsFromBrandProfile starts one job per type, answered PROCESSING by
  GetJob for ``job_seconds`` (0.2), then SUCCESS with the DRAFT registration it made (untagged,
  as the service's job cannot be asked for tags). The stand-in for smartMatch (what the real
  one maps is the service's and not documented): a TEXT attribute fills a TEXT field whose
  path equals its name; with smartMatch also one whose last path segment equals it ignoring
  case; a SELECT field when the value is one of its options; media attributes fill nothing.
  ``fail_jobs[type] = (code, message, made)`` makes that type's job FAILED, after making its
  registration when ``made``.

Settings: ``max_attributes``; ``set_rate_limits({operation: per_second})`` (token bucket, burst
1, -> ThrottlingException; ``"*"``: one bucket for every operation, an account's quota);
``set_faults(throttle_rate=, internal_error_rate=, hold_until=)``.
Inspection: ``profile(id_or_arn)``, ``live_profiles()`` (snapshots: ``Name``, ``Tags``,
``DeletionProtection``, ``Deleted``, ``Attributes`` by name with ``Type``, ``Text``, ``Digest``
(sha256 of a body), ``Description``, ``Category``), ``calls`` / ``successes`` (per operation),
``writes`` (the operations that change a profile, in order), ``violations``.
Jobs and the registrations made from a profile: ``add_job`` (the last block of the class).
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import hashlib
import json
import random
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, cast

import boto3
import botocore.config
import botocore.session
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from .fake_sms import (
    _CREDENTIAL_RE,
    DEFAULT_ACCOUNT,
    ApiError,
    HeaderLookup,
    _TokenBucket,
    validate_shape,
    wait_until,
)
from .iam_eval import IamRegistry, Resource, parse_authorization, requests_for

JsonDict = dict[str, Any]

SERVICE_NAME: Final = "endusermessaging"
SIGNING_NAME: Final = "end-user-messaging"
IAM_SERVICE: Final = "end-user-messaging"
PROFILE_ID_PREFIX: Final = "bp-"
MAX_MEDIA_BYTES: Final = 5 * 1024 * 1024
MAX_TAGS: Final = 50
MEDIA_PATH: Final = "/_media/"
HOLD_LIMIT_SECONDS: Final = 20.0
#: The operations this fake serves (the notify-code and registration ones are not modelled yet).
OPERATIONS: Final = frozenset(
    {
        "CreateBrandProfile",
        "GetBrandProfile",
        "ListBrandProfiles",
        "UpdateBrandProfile",
        "DeleteBrandProfile",
        "CreateBrandProfileAttributes",
        "GetBrandProfileAttribute",
        "ListBrandProfileAttributes",
        "UpdateBrandProfileAttribute",
        "DeleteBrandProfileAttribute",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        # Jobs and the registrations made from profiles: the blocks at the end of the class.
        "CreateRegistrationsFromBrandProfile",
        "ListJobs",
        "GetJob",
        "ListRegistrationsFromBrandProfile",
    }
)
WRITES: Final = frozenset(
    {
        "CreateBrandProfile",
        "UpdateBrandProfile",
        "DeleteBrandProfile",
        "CreateBrandProfileAttributes",
        "UpdateBrandProfileAttribute",
        "DeleteBrandProfileAttribute",
        "TagResource",
        "UntagResource",
        "CreateRegistrationsFromBrandProfile",
    }
)
_MEDIA_KINDS: Final = {"IMAGE": ("png", "jpeg"), "DOCUMENT": ("pdf", "png", "jpeg")}


def load_service_model() -> ServiceModel:
    """botocore's model of the service, as the handler's boto3 loads it."""
    model: ServiceModel = botocore.session.get_session().get_service_model(SERVICE_NAME)
    return model


def make_client(endpoint_url: str, *, region: str = "us-east-1") -> Any:
    """A real boto3 client for the fake (dummy credentials)."""
    return boto3.client(
        SERVICE_NAME,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


def _media_kind(body: bytes) -> str | None:
    if body.startswith(b"%PDF-"):
        return "pdf"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if body.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


_CONTENT_TYPES: Final = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}


@dataclasses.dataclass
class _Attribute:
    name: str
    type: str
    created: float
    updated: float
    text: str | None = None
    body: bytes | None = None
    description: str | None = None
    category: str | None = None
    media_token: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)


@dataclasses.dataclass
class _Profile:
    id: str
    arn: str
    region: str
    name: str
    created: float
    updated: float
    deletion_protection: bool
    tags: dict[str, str]
    attributes: dict[str, _Attribute] = dataclasses.field(default_factory=dict)
    deleted: bool = False

    def info(self) -> JsonDict:
        return {
            "brandProfileId": self.id,
            "brandProfileArn": self.arn,
            "brandProfileName": self.name,
            "status": "ACTIVE",
            "deletionProtectionEnabled": self.deletion_protection,
            "createdAt": self.created,
            "updatedAt": self.updated,
        }


@dataclasses.dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    literal: int  # characters of the template outside placeholders: the most specific wins


def _routes(model: ServiceModel) -> list[_Route]:
    routes = []
    for name in OPERATIONS:
        http = model.operation_model(name).http
        path = str(http["requestUri"]).split("?")[0]
        regex, literal, position = "", 0, 0
        for match in re.finditer(r"\{([A-Za-z0-9_]+)(\+?)\}", path):
            regex += re.escape(path[position : match.start()])
            literal += match.start() - position
            regex += f"(?P<{match.group(1)}>{'.+' if match.group(2) else '[^/]+'})"
            position = match.end()
        regex += re.escape(path[position:])
        literal += len(path) - position
        routes.append(_Route(name, str(http["method"]), re.compile(regex), literal))
    return sorted(routes, key=lambda route: -route.literal)


class FakeBrandProfiles:
    """Fake ``endusermessaging`` endpoint; see the module docstring for the API."""

    def __init__(self, *, account: str = DEFAULT_ACCOUNT, seed: int = 0) -> None:
        self.account = account
        self.seed = seed
        self.model = load_service_model()
        self._routes = _routes(self.model)
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._profiles: dict[str, _Profile] = {}
        self._by_token: dict[tuple[str, str, str], Any] = {}
        self._buckets: dict[str, _TokenBucket] = {}
        self._throttle: Mapping[str, float] = {}
        self._internal: Mapping[str, float] = {}
        self._hold: Mapping[str, Callable[[JsonDict], bool]] = {}
        self.max_attributes = 100
        self._replayed = False
        self.sms: Any = None  # FakeSmsService: set by whoever wires the fakes together
        self.job_seconds = 0.2
        self.fail_jobs: dict[str, tuple[str, str, bool]] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.successes: collections.Counter[str] = collections.Counter()
        #: When each call that succeeded was answered (time.monotonic()), in order.
        self.answered_at: list[float] = []
        #: (operation, profile ID, attribute names) of every successful write, in order.
        self.writes: list[tuple[str, str, tuple[str, ...]]] = []
        self.violations: list[str] = []
        self.held_too_long: list[str] = []
        self._reset_jobs()
        self.iam: IamRegistry | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.service = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-eum", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeBrandProfiles:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBrandProfiles is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(self, *, region: str = "us-east-1") -> Any:
        return make_client(self.url, region=region)

    def env(self) -> dict[str, str]:
        """The variable that points boto3's ``endusermessaging`` client at this fake."""
        return {"AWS_ENDPOINT_URL_ENDUSERMESSAGING": self.url}

    # ----------------------------------------------------------------- test controls

    def reset(self) -> None:
        with self._lock:
            self._profiles.clear()
            self._by_token.clear()
            self._buckets.clear()
            self._throttle, self._internal, self._hold = {}, {}, {}
            self._rng.seed(self.seed)
            self.max_attributes = 100
            self.job_seconds = 0.2
            self.fail_jobs = {}
            self.calls.clear()
            self.successes.clear()
            self.answered_at.clear()
            self.writes.clear()
            self.violations.clear()
            self.held_too_long.clear()
            self._reset_jobs()

    def set_rate_limits(self, limits: Mapping[str, float]) -> None:
        with self._lock:
            self._buckets = {op: _TokenBucket(rate) for op, rate in limits.items()}

    def set_faults(
        self,
        *,
        throttle_rate: Mapping[str, float] | None = None,
        internal_error_rate: Mapping[str, float] | None = None,
        hold_until: Mapping[str, Callable[[JsonDict], bool]] | None = None,
    ) -> None:
        with self._lock:
            self._throttle = dict(throttle_rate or {})
            self._internal = dict(internal_error_rate or {})
            self._hold = dict(hold_until or {})

    def take_violations(self) -> list[str]:
        with self._lock:
            taken, self.violations = self.violations, []
        return taken

    def profile(self, id_or_arn: str) -> JsonDict | None:
        """A snapshot of one profile (deleted ones too), or None."""
        with self._lock:
            record = self._profiles.get(id_or_arn.rsplit("/", 1)[-1])
            return None if record is None else self._snapshot(record)

    def live_profiles(self) -> list[JsonDict]:
        with self._lock:
            return [self._snapshot(p) for p in self._profiles.values() if not p.deleted]

    def put_profile_by_hand(self, name: str, *, tags: Mapping[str, str] | None = None) -> str:
        """A profile someone made in the console (not through the handler); returns its ID."""
        with self._lock:
            return self._new_profile("us-east-1", name, False, dict(tags or {})).id

    @staticmethod
    def _snapshot(record: _Profile) -> JsonDict:
        return {
            "Id": record.id,
            "Arn": record.arn,
            "Name": record.name,
            "Tags": dict(record.tags),
            "DeletionProtection": record.deletion_protection,
            "Deleted": record.deleted,
            "Attributes": {
                a.name: {
                    "Type": a.type,
                    "Text": a.text,
                    "Digest": hashlib.sha256(a.body).hexdigest() if a.body is not None else None,
                    "Description": a.description,
                    "Category": a.category,
                }
                for a in record.attributes.values()
            },
        }

    def _violation(self, operation: str, message: str) -> None:
        with self._lock:
            self.violations.append(f"{operation}: {message}")

    # ----------------------------------------------------------------- request pipeline

    def handle_http(
        self, method: str, raw_path: str, headers: HeaderLookup, body: bytes
    ) -> tuple[int, bytes, str]:
        """Answer one raw HTTP request: (status, body, content type)."""
        parsed = urllib.parse.urlsplit(raw_path)
        if method == "GET" and parsed.path.startswith(MEDIA_PATH):
            return self._media(parsed.path.removeprefix(MEDIA_PATH))
        operation, members = self._route(method, parsed.path)
        with self._lock:
            self.calls[operation] += 1
        request: JsonDict = {}
        try:
            if operation == "<unknown>":
                self._violation(operation, f"no operation serves {method} {parsed.path}")
                raise ApiError("ValidationException", f"{method} {parsed.path} is not supported")
            region = self._check_auth(operation, headers)
            request = self._parse(operation, members, parsed.query, headers, body)
            self._authorize(operation, request, region, headers)
            self._apply_faults(operation, request)
            result = self._dispatch(operation, request, region)
            status, payload = 200, self._checked_output(operation, result)
        except ApiError as error:
            status, payload = self._error_payload(operation, error)
        except Exception as exc:  # a bug in the fake must not pass silently
            self._violation(operation, f"fake crashed: {exc!r}")
            status, payload = 500, {"message": f"fake crashed: {exc!r}"}
        with self._lock:
            if status == 200:
                self.successes[operation] += 1
                self.answered_at.append(time.monotonic())
        return status, json.dumps(payload).encode(), "application/json"

    def _route(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        for route in self._routes:
            if route.method != method:
                continue
            match = route.pattern.fullmatch(path)
            if match is not None:
                return route.operation, {
                    key: urllib.parse.unquote(value) for key, value in match.groupdict().items()
                }
        return "<unknown>", {}

    def _check_auth(self, operation: str, headers: HeaderLookup) -> str:
        authorization = headers.get("Authorization") or ""
        match = _CREDENTIAL_RE.match(authorization)
        if match is None or "Signature=" not in authorization:
            self._violation(operation, f"malformed or missing SigV4 header {authorization[:80]!r}")
            raise ApiError("AccessDeniedException", "Missing or malformed Authorization")
        if match.group(3) != SIGNING_NAME:
            self._violation(operation, f"signed for {match.group(3)!r}, not {SIGNING_NAME}")
            raise ApiError("AccessDeniedException", "Wrong signing service")
        return match.group(2)

    def _parse(
        self,
        operation: str,
        members: Mapping[str, str],
        query: str,
        headers: HeaderLookup,
        body: bytes,
    ) -> JsonDict:
        shape = cast(StructureShape, self._operation(operation).input_shape)
        request: JsonDict = {}
        if body:
            content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type != "application/json":
                self._violation(operation, f"body sent as {content_type!r}, not application/json")
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                self._violation(operation, f"body is not JSON: {exc}")
                raise ApiError("ValidationException", "Body is not valid JSON") from exc
            if not isinstance(decoded, dict):
                raise ApiError("ValidationException", "Body must be a JSON object")
            request.update(decoded)
        by_location: dict[str, dict[str, str]] = {"uri": {}, "querystring": {}}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location in by_location:
                by_location[location][member.serialization.get("name", name)] = name
            elif name in request and location is not None:
                self._violation(operation, f"{name} belongs in the {location}, not the body")
        for wire, name in by_location["uri"].items():
            if wire in members:
                request[name] = members[wire]
        for wire, values in urllib.parse.parse_qs(query, keep_blank_values=True).items():
            name = by_location["querystring"].get(wire)
            if name is None:
                self._violation(operation, f"unknown query parameter {wire!r}")
                continue
            member = shape.members[name]
            if isinstance(member, ListShape):
                request[name] = values
            elif member.type_name == "integer":
                request[name] = int(values[0])
            else:
                request[name] = values[0]
        errors = validate_shape(shape, request)
        if errors:
            for error in errors:
                self._violation(operation, f"request {error}")
            raise ApiError("ValidationException", "; ".join(errors))
        return request

    def _operation(self, operation: str) -> OperationModel:
        return self.model.operation_model(operation)

    def _authorize(
        self, operation: str, request: JsonDict, region: str, headers: HeaderLookup
    ) -> None:
        credentials = parse_authorization(headers.get("Authorization"))
        if self.iam is None or credentials is None:
            return

        def build(identity: Any) -> list[Any]:
            account = identity.account
            arns = []
            if "brandProfileId" in request:
                arns.append(self._arn_of(str(request["brandProfileId"]), region, account))
            if "resourceArn" in request:
                arns.append(str(request["resourceArn"]))
            resources = [Resource(arn, self._tags_of(arn)) for arn in arns]
            tags = request.get("tags")
            tag_map = (
                {str(t["key"]): str(t["value"]) for t in tags} if isinstance(tags, list) else None
            )
            keys = request.get("tagKeys")
            return requests_for(
                IAM_SERVICE,
                operation,
                resources,
                region=region,
                account=account,
                tags=tag_map,
                tag_keys=list(keys) if isinstance(keys, list) else None,
            )

        decision = self.iam.authorize(credentials[0], operation, build)
        if decision is None or decision.allowed:
            return
        if decision.denied_by != "boundary":
            self._violation(operation, f"IAM denied the call: {decision.message}")
        raise ApiError("AccessDeniedException", decision.message)

    def _arn_of(self, id_or_arn: str, region: str, account: str) -> str:
        if id_or_arn.startswith("arn:"):
            return id_or_arn
        return f"arn:aws:{IAM_SERVICE}:{region}:{account}:brand-profile/{id_or_arn}"

    def _tags_of(self, arn: str) -> dict[str, str] | None:
        with self._lock:
            record = self._profiles.get(arn.rsplit("/", 1)[-1])
            if record is None or record.deleted:
                return None
            return dict(record.tags)

    def _apply_faults(self, operation: str, request: JsonDict) -> None:
        condition = self._hold.get(operation)
        if condition is not None and not wait_until(lambda: condition(request), HOLD_LIMIT_SECONDS):
            with self._lock:
                self.held_too_long.append(operation)
        with self._lock:
            if self._rng.random() < self._throttle.get(operation, 0.0):
                raise ApiError("ThrottlingException", "Rate exceeded (injected)")
            if self._rng.random() < self._internal.get(operation, 0.0):
                raise ApiError("InternalServerException", "Internal error (injected)")
            for key in (operation, "*"):
                bucket = self._buckets.get(key)
                if bucket is not None and not bucket.take():
                    raise ApiError("ThrottlingException", f"Rate exceeded for {operation}")

    def _checked_output(self, operation: str, result: JsonDict) -> JsonDict:
        shape = self._operation(operation).output_shape
        errors = validate_shape(shape, result) if shape is not None else []
        if errors:
            for error in errors:
                self._violation(operation, f"fake response {error}")
            raise ApiError("InternalServerException", "fake built an invalid response")
        return result

    def _error_payload(self, operation: str, error: ApiError) -> tuple[int, JsonDict]:
        body = {"message": error.message, **error.members}
        modeled = {shape.name: shape for shape in self._operation(operation).error_shapes}
        shape: Shape | None = modeled.get(error.code)
        if shape is None:
            self._violation(operation, f"fake answered {error.code}, not an error of {operation}")
            return 400, {"__type": error.code, **body}
        for problem in validate_shape(shape, body):
            self._violation(operation, f"fake error body {problem}")
        status: int = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        return status, {"__type": error.code, **body}

    def _media(self, token: str) -> tuple[int, bytes, str]:
        with self._lock:
            for record in self._profiles.values():
                for attribute in record.attributes.values():
                    if attribute.media_token == token and attribute.body is not None:
                        kind = _media_kind(attribute.body) or "pdf"
                        return 200, attribute.body, _CONTENT_TYPES[kind]
        return 404, b"not found", "text/plain"

    # ----------------------------------------------------------------- operations

    def _dispatch(self, operation: str, request: JsonDict, region: str) -> JsonDict:
        handler: Callable[[JsonDict, str], JsonDict] = getattr(
            self, "_op_" + re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        )
        with self._lock:
            self._replayed = False
            result = handler(request, region)
            if operation in WRITES and not self._replayed:
                names = tuple(str(a["attributeName"]) for a in request.get("attributes", [])) or (
                    (str(request["attributeName"]),) if "attributeName" in request else ()
                )
                target = str(request.get("brandProfileId") or request.get("resourceArn") or "")
                self.writes.append(
                    (
                        operation,
                        target.rsplit("/", 1)[-1] or result.get("brandProfileId", ""),
                        names,
                    )
                )
            return result

    def _new_profile(
        self, region: str, name: str, protection: bool, tags: dict[str, str]
    ) -> _Profile:
        profile_id = PROFILE_ID_PREFIX + uuid.uuid4().hex
        now = time.time()
        record = _Profile(
            id=profile_id,
            arn=f"arn:aws:{IAM_SERVICE}:{region}:{self.account}:brand-profile/{profile_id}",
            region=region,
            name=name,
            created=now,
            updated=now,
            deletion_protection=protection,
            tags=tags,
        )
        self._profiles[profile_id] = record
        return record

    def _live(self, id_or_arn: str) -> _Profile:
        record = self._profiles.get(id_or_arn.rsplit("/", 1)[-1])
        if record is None or record.deleted:
            raise ApiError(
                "ResourceNotFoundException",
                f"brand profile {id_or_arn} not found",
                resourceId=id_or_arn,
                resourceType="brand-profile",
            )
        return record

    @staticmethod
    def _check_tags(tags: Mapping[str, str], existing: int = 0) -> None:
        for key in tags:
            if key.lower().startswith("aws:"):
                raise ApiError(
                    "ValidationException", f"tag key {key!r}: the aws: prefix is reserved"
                )
        if existing + len(tags) > MAX_TAGS:
            raise ApiError("ValidationException", f"at most {MAX_TAGS} tags per resource")

    def _op_create_brand_profile(self, request: JsonDict, region: str) -> JsonDict:
        token = request.get("clientToken")
        if token is not None and ("profile", region, token) in self._by_token:
            record = self._profiles[self._by_token[("profile", region, token)]]
            self._replayed = True
            return {**record.info(), "attributesCreated": len(record.attributes)}
        tags = {str(t["key"]): str(t["value"]) for t in request.get("tags", [])}
        self._check_tags(tags)
        record = self._new_profile(
            region,
            str(request["brandProfileName"]),
            bool(request.get("deletionProtectionEnabled", False)),
            tags,
        )
        if token is not None:
            self._by_token[("profile", region, token)] = record.id
        return {**record.info(), "attributesCreated": 0}

    def _op_get_brand_profile(self, request: JsonDict, region: str) -> JsonDict:
        return self._live(str(request["brandProfileId"])).info()

    def _op_list_brand_profiles(self, request: JsonDict, region: str) -> JsonDict:
        live = [p for p in self._profiles.values() if not p.deleted and p.region == region]
        return {
            "brandProfiles": [
                {
                    k: v
                    for k, v in p.info().items()
                    if k in self._summary_members("ListBrandProfiles", "brandProfiles")
                }
                for p in live
            ]
        }

    def _summary_members(self, operation: str, member: str) -> set[str]:
        output = cast(StructureShape, self._operation(operation).output_shape)
        item = cast(ListShape, output.members[member]).member
        return set(cast(StructureShape, item).members)

    def _op_update_brand_profile(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        if "brandProfileName" in request:
            record.name = str(request["brandProfileName"])
        if "deletionProtectionEnabled" in request:
            record.deletion_protection = bool(request["deletionProtectionEnabled"])
        record.updated = time.time()
        return record.info()

    def _op_delete_brand_profile(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        if record.deletion_protection:
            raise ApiError(
                "ConflictException",
                f"brand profile {record.id} has deletion protection enabled",
                resourceId=record.id,
                resourceType="brand-profile",
            )
        record.deleted = True
        return {"brandProfileId": record.id, "brandProfileArn": record.arn}

    def _media_url(self, attribute: _Attribute) -> str:
        return f"{self.url}{MEDIA_PATH}{attribute.media_token}"

    def _checked_body(self, kind: str, encoded: Any, name: str) -> bytes:
        if kind == "TEXT":
            raise ApiError("ValidationException", f"attribute {name}: TEXT takes no attachmentBody")
        body = base64.b64decode(str(encoded))
        if len(body) > MAX_MEDIA_BYTES:
            raise ApiError("ValidationException", f"attribute {name}: the body is over 5 MB")
        if _media_kind(body) not in _MEDIA_KINDS[kind]:
            raise ApiError("ValidationException", f"attribute {name}: not a valid {kind} file")
        return body

    def _op_create_brand_profile_attributes(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        token = request.get("clientToken")
        key = ("attributes", record.id, str(token))
        if token is not None and key in self._by_token:
            self._replayed = True
            return cast(JsonDict, self._by_token[key])
        entries = list(request["attributes"])
        names = [str(e["attributeName"]) for e in entries]
        taken = sorted({n for n in names if n in record.attributes or names.count(n) > 1})
        if taken:
            raise ApiError(
                "ConflictException",
                f"attributes already exist: {', '.join(taken)}",
                resourceId=record.id,
                resourceType="brand-profile-attribute",
            )
        if len(record.attributes) + len(entries) > self.max_attributes:
            raise ApiError("ServiceQuotaExceededException", "too many attributes in the profile")
        made = []
        now = time.time()
        for entry in entries:
            kind, name = str(entry["attributeType"]), str(entry["attributeName"])
            attribute = _Attribute(name=name, type=kind, created=now, updated=now)
            if kind == "TEXT":
                if "attachmentBody" in entry or "attributeValue" not in entry:
                    raise ApiError("ValidationException", f"attribute {name}: TEXT needs a value")
                attribute.text = str(entry["attributeValue"])
            else:
                if "attachmentBody" not in entry or "attributeValue" in entry:
                    raise ApiError("ValidationException", f"attribute {name}: {kind} needs a body")
                attribute.body = self._checked_body(kind, entry["attachmentBody"], name)
            attribute.description = entry.get("description")
            attribute.category = entry.get("category")
            made.append(attribute)
        output = []
        for attribute in made:
            record.attributes[attribute.name] = attribute
            item: JsonDict = {"attributeName": attribute.name, "attributeType": attribute.type}
            if attribute.body is not None:
                item["mediaDownloadUrl"] = self._media_url(attribute)
            output.append(item)
        record.updated = now
        result = {"attributes": output}
        if token is not None:
            self._by_token[key] = result
        return result

    def _attribute(self, record: _Profile, name: str) -> _Attribute:
        attribute = record.attributes.get(name)
        if attribute is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"attribute {name} not found",
                resourceId=name,
                resourceType="brand-profile-attribute",
            )
        return attribute

    def _attribute_info(self, attribute: _Attribute, *, url: bool) -> JsonDict:
        info: JsonDict = {
            "attributeName": attribute.name,
            "attributeType": attribute.type,
            "createdAt": attribute.created,
            "updatedAt": attribute.updated,
        }
        if attribute.text is not None:
            info["attributeValue"] = attribute.text
        if attribute.description is not None:
            info["description"] = attribute.description
        if attribute.category is not None:
            info["category"] = attribute.category
        if attribute.body is not None:
            info["mediaContentType"] = _CONTENT_TYPES[_media_kind(attribute.body) or "pdf"]
            info["mediaSizeBytes"] = len(attribute.body)
            if url:
                info["mediaDownloadUrl"] = self._media_url(attribute)
        return info

    def _op_get_brand_profile_attribute(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        return self._attribute_info(
            self._attribute(record, str(request["attributeName"])), url=True
        )

    def _op_list_brand_profile_attributes(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        summary = ("attributeName", "attributeType", "description", "category")
        summaries = [
            {
                k: v
                for k, v in self._attribute_info(record.attributes[n], url=False).items()
                if k in summary or k in ("createdAt", "updatedAt")
            }
            for n in sorted(record.attributes)
        ]
        return self._page(summaries, request, "brandProfileAttributes")

    def _op_update_brand_profile_attribute(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        attribute = self._attribute(record, str(request["attributeName"]))
        if "attributeValue" in request:
            if attribute.type != "TEXT":
                raise ApiError(
                    "ValidationException", f"attribute {attribute.name} is {attribute.type}"
                )
            attribute.text = str(request["attributeValue"])
        if "attachmentBody" in request:
            attribute.body = self._checked_body(
                attribute.type, request["attachmentBody"], attribute.name
            )
            attribute.media_token = uuid.uuid4().hex
        for member in ("description", "category"):
            if member in request:
                setattr(attribute, member, request[member])
        attribute.updated = record.updated = time.time()
        return self._attribute_info(attribute, url=False)

    def _op_delete_brand_profile_attribute(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        attribute = self._attribute(record, str(request["attributeName"]))
        del record.attributes[attribute.name]
        record.updated = time.time()
        return {"brandProfileId": record.id, "attributeName": attribute.name}

    def _op_tag_resource(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["resourceArn"]))
        tags = {str(t["key"]): str(t["value"]) for t in request["tags"]}
        self._check_tags(tags, len(set(record.tags) - set(tags)))
        record.tags.update(tags)
        return {}

    def _op_untag_resource(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["resourceArn"]))
        for key in request["tagKeys"]:
            record.tags.pop(str(key), None)
        return {}

    def _op_list_tags_for_resource(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["resourceArn"]))
        return {"tags": [{"key": k, "value": v} for k, v in sorted(record.tags.items())]}

    # ----------------------------------------------------------------- registrations from a
    # profile (jobs)

    def jobs(self) -> list[JsonDict]:
        """Every job, as GetJob answers it now."""
        with self._lock:
            return [job.info(resources=True) for job in self._jobs.values()]

    def _op_create_registrations_from_brand_profile(
        self, request: JsonDict, region: str
    ) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        token = request.get("clientToken")
        key = ("jobs", record.id, str(token))
        if token is not None and key in self._by_token:
            self._replayed = True
            return cast(JsonDict, self._by_token[key])
        if self.sms is None:
            raise ApiError("InternalServerException", "the fake has no sms-voice to make them in")
        smart = bool(request.get("smartMatch", True))
        results = []
        for registration_type in map(str, request["registrationTypes"]):
            now = time.time()
            failure = self.fail_jobs.get(registration_type)
            job = _Job(
                id="job-" + uuid.uuid4().hex,
                profile_id=record.id,
                region=region,
                status="FAILED" if failure is not None else "SUCCESS",
                operation_type=self.JOB_CREATE_REGISTRATIONS,
                created=now,
                updated=now + self.job_seconds,
                error_code=failure[0] if failure is not None else None,
                error_message=failure[1] if failure is not None else None,
                finish_at=now + self.job_seconds,
            )
            if failure is None or failure[2]:
                made = self._prefilled(record, registration_type, region, smart)
                job.resources.append(made)
                self._made.append(
                    _MadeRegistration(
                        record.id, str(made["resourceId"]), registration_type, now, smart
                    )
                )
            self._jobs[job.id] = job
            results.append({"jobId": job.id, "resourceIdentifier": registration_type})
        result = {"results": results}
        if token is not None:
            self._by_token[key] = result
        return result

    def _prefilled(
        self, record: _Profile, registration_type: str, region: str, smart: bool
    ) -> JsonDict:
        """A DRAFT registration of the type, its fields filled by the stand-in for smartMatch."""
        registrations = self.sms.registrations
        made = registrations.dispatch(
            "CreateRegistration", {"RegistrationType": registration_type}, region
        )
        with registrations._lock:
            stored = registrations._registration(made["RegistrationId"], region)
            rtype = registrations._type(registration_type)
            for definition in rtype.fields:
                path = str(definition["FieldPath"])
                value = self._match(record, path, smart)
                if value is None:
                    continue
                if definition.get("FieldType") == "TEXT":
                    stored.current.values[path] = {"TextValue": value}
                elif definition.get("FieldType") == "SELECT":
                    options = (definition.get("SelectValidation") or {}).get("Options") or []
                    if value in options:
                        stored.current.values[path] = {"SelectChoices": [value]}
        return {
            "resourceType": "REGISTRATION",
            "resourceId": str(made["RegistrationId"]),
            "resourceArn": str(made["RegistrationArn"]),
        }

    @staticmethod
    def _match(record: _Profile, path: str, smart: bool) -> str | None:
        texts = {a.name: a.text for a in record.attributes.values() if a.text is not None}
        if path in texts:
            return texts[path]
        if smart:
            last = path.rsplit(".", 1)[-1].lower()
            for name, text in sorted(texts.items()):
                if name.lower() == last:
                    return text
        return None

    # ================================================================= jobs, made registrations
    # ListJobs, GetJob, ListRegistrationsFromBrandProfile and the test control that records a
    # job (``add_job``). Kept apart from the rest, so that the operation that makes jobs
    # (CreateRegistrationsFromBrandProfile) can record into ``_jobs`` and ``_made`` beside it.
    # The fake's choices where AWS is silent: job IDs are ``job-`` + 32 hex; a job's
    # operationType is free text (``JOB_CREATE_REGISTRATIONS`` by default); a job outlives its
    # profile; ListJobs lists the newest first, summaries with their ``resources`` unless
    # ``list_jobs_with_resources`` is False (GetJob always has them).

    #: The operationType ``add_job`` records by default (the real values are not documented).
    JOB_CREATE_REGISTRATIONS: Final = "CREATE_REGISTRATIONS_FROM_BRAND_PROFILE"

    def _reset_jobs(self) -> None:
        self._jobs: dict[str, _Job] = {}
        self._made: list[_MadeRegistration] = []
        self.list_jobs_with_resources = True

    def add_job(
        self,
        profile_id: str,
        status: str = "SUCCESS",
        *,
        registrations: Mapping[str, str] | None = None,
        operation_type: str = JOB_CREATE_REGISTRATIONS,
        error_code: str | None = None,
        error_message: str | None = None,
        smart_match: bool = True,
    ) -> str:
        """Record a job of a profile; returns its ID.

        ``registrations`` (registration ID -> type) are the resources it made: each is also a
        registration made from the profile (ListRegistrationsFromBrandProfile), with
        ``smartMatchUsed`` = ``smart_match``.
        """
        with self._lock:
            record = self._profiles[profile_id.rsplit("/", 1)[-1]]
            latest = max((job.created for job in self._jobs.values()), default=0.0)
            now = max(time.time(), latest + 0.001)
            job = _Job(
                id="job-" + uuid.uuid4().hex,
                profile_id=record.id,
                region=record.region,
                status=status,
                operation_type=operation_type,
                created=now,
                updated=now,
                error_code=error_code,
                error_message=error_message,
            )
            for registration_id, registration_type in (registrations or {}).items():
                arn = f"arn:aws:sms-voice:{record.region}:{self.account}:registration/"
                job.resources.append(
                    {
                        "resourceType": "REGISTRATION",
                        "resourceId": registration_id,
                        "resourceArn": arn + registration_id,
                    }
                )
                self._made.append(
                    _MadeRegistration(
                        record.id, registration_id, registration_type, now, smart_match
                    )
                )
            self._jobs[job.id] = job
            return job.id

    @staticmethod
    def _page(items: list[JsonDict], request: JsonDict, key: str) -> JsonDict:
        size = int(request.get("maxResults") or 100)
        start = int(request.get("nextToken") or 0)
        result: JsonDict = {key: items[start : start + size]}
        if start + size < len(items):
            result["nextToken"] = str(start + size)
        return result

    def _op_list_jobs(self, request: JsonDict, region: str) -> JsonDict:
        wanted = str(request.get("brandProfileId") or "").rsplit("/", 1)[-1]
        jobs = [
            job
            for job in sorted(self._jobs.values(), key=lambda j: -j.created)
            if job.region == region
            and (not wanted or job.profile_id == wanted)
            and request.get("status") in (None, job.status)
            and request.get("operationType") in (None, job.operation_type)
        ]
        summaries = [job.info(resources=self.list_jobs_with_resources) for job in jobs]
        return self._page(summaries, request, "jobs")

    def _op_get_job(self, request: JsonDict, region: str) -> JsonDict:
        job = self._jobs.get(str(request["jobId"]))
        if job is None or job.region != region:
            raise ApiError(
                "ResourceNotFoundException",
                f"job {request['jobId']} not found",
                resourceId=str(request["jobId"]),
                resourceType="job",
            )
        return job.info(resources=True)

    def _op_list_registrations_from_brand_profile(self, request: JsonDict, region: str) -> JsonDict:
        record = self._live(str(request["brandProfileId"]))
        made = [
            {
                "registrationId": m.registration_id,
                "registrationType": m.registration_type,
                "createdAt": m.created,
                "smartMatchUsed": m.smart_match,
            }
            for m in self._made
            if m.profile_id == record.id
        ]
        return self._page(made, request, "registrationAssociations")


@dataclasses.dataclass
class _Job:
    id: str
    profile_id: str
    region: str
    status: str
    operation_type: str
    created: float
    updated: float
    error_code: str | None = None
    error_message: str | None = None
    resources: list[JsonDict] = dataclasses.field(default_factory=list)
    #: Until then the job answers PROCESSING, with no resources and no error.
    finish_at: float = 0.0

    def info(self, *, resources: bool) -> JsonDict:
        if time.time() < self.finish_at:
            return {
                "jobId": self.id,
                "status": "PROCESSING",
                "operationType": self.operation_type,
                "createdAt": self.created,
                "updatedAt": self.created,
                "brandProfileId": self.profile_id,
            }
        found: JsonDict = {
            "jobId": self.id,
            "status": self.status,
            "operationType": self.operation_type,
            "createdAt": self.created,
            "updatedAt": self.updated,
            "brandProfileId": self.profile_id,
        }
        if self.error_code is not None:
            found["errorCode"] = self.error_code
        if self.error_message is not None:
            found["errorMessage"] = self.error_message
        if resources and self.resources:  # the model's list holds at least one
            found["resources"] = [dict(r) for r in self.resources]
        return found


@dataclasses.dataclass(frozen=True)
class _MadeRegistration:
    profile_id: str
    registration_id: str
    registration_type: str
    created: float
    smart_match: bool


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    service: FakeBrandProfiles


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return
        status, data, content_type = self.server.service.handle_http(
            self.command, self.path, self.headers, body
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
