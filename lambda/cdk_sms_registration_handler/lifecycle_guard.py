"""What every custom resource type of this provider shares, in CloudFormation's terms.

A resource type brings a ``Lifecycle`` (its contract, rules and service calls: what Create,
Update and Delete do to its resources); this module runs it under the rules that do not depend
on the type:

- **Every answer names a resource.** Create first names a placeholder (an empty physical ID is
  rejected and the reason lost); a lifecycle names what it made as soon as it exists, so a
  FAILED answer (crhelper's timeout answer included) lets the rollback Delete remove it.
- **Is CloudFormation still waiting?** A Create or replacement asks before answering, and the
  lifecycle asks (``Request.checkpoint``) before a step that deleting cannot undo (associating
  a number, submitting for review). CloudFormation ignores the answer to a cancelled request
  and its rollback never learns the new ID, so what that request made is discarded here.
- **After answering**, ``confirm_answers`` watches that CloudFormation recorded a new resource,
  and discards it if the request was cancelled in between (a late answer).
- **Placeholders** (crhelper's ``<stack>_<id>_<8>``, CloudFormation's
  ``<stack>-<id>-<13 uppercase>``) were never resources: their Delete makes no call.
- **Rollbacks are declarations like any other**, with two differences: the stack's phase at the
  start of the request tells them apart from a cancelled forward request, and a rollback must
  never fail. A FAILED answer during ROLLBACK_IN_PROGRESS, UPDATE_ROLLBACK_IN_PROGRESS or
  UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS leaves the stack in ROLLBACK_FAILED or
  UPDATE_ROLLBACK_FAILED, recoverable only by skipping the resource; so what a rollback cannot
  do is left as it is, answered SUCCESS, and logged with what to do by hand.

``index.py`` only picks the lifecycle by ``ResourceType`` and calls ``create``, ``update`` or
``delete`` here.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from . import request_state
from .attachments import client_token
from .resource_contract import owner_mark
from .retries import Deadline

logger = logging.getLogger(__name__)

#: Time kept back from the Lambda deadline to send the response.
RESPONSE_RESERVE_SECONDS = 3.0
#: CloudFormation shows at most 256 characters of a reason and crhelper keeps only the tail of
#: longer ones, so reasons are cut here, keeping the head.
MAX_REASON_CHARS = 250
#: The stack statuses in which CloudFormation rolls back: a FAILED answer there wedges the stack.
ROLLBACK_PHASES = frozenset(
    {
        "ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    }
)
#: How often a lifecycle writing many values in a forward Update asks CloudFormation again
#: (``Request.checkpoint``), so that a cancelled Update stops soon while its rollback runs.
CHECKPOINT_EVERY_SECONDS = 5.0
#: What CloudFormation makes up for a cancelled Create: ``<stack>-<logical ID...>-<random>``.
_CLOUDFORMATION_PLACEHOLDER = re.compile(r"[A-Za-z0-9-]+-[A-Z0-9]{12,13}")


class RequestFailed(Exception):
    """A failure whose message is the reason CloudFormation shows (head first, no values)."""


class NotAwaited(Exception):
    """CloudFormation no longer waits for this request (the message says why)."""


class Refused(Exception):
    """The service (or IAM) refuses a Delete, or the owner cannot be read to allow one.

    The message is the reason; outside a rollback it becomes the FAILED reason.
    """


Clients = Callable[[str], Any]


@dataclasses.dataclass
class Request:
    """One CloudFormation request, as a lifecycle sees it."""

    event: Mapping[str, Any]
    deadline: Deadline
    clients: Clients
    #: The stack's status when the request began (Update and Delete; None for a Create, or
    #: when CloudFormation could not be asked).
    phase: str | None
    #: Names the physical ID of every later answer (a new resource, as soon as it exists).
    name: Callable[[str], None]

    @property
    def request_type(self) -> str:
        """Create, Update or Delete."""
        return str(self.event["RequestType"])

    @property
    def physical_id(self) -> str:
        """The physical ID CloudFormation holds (empty for a Create)."""
        return str(self.event.get("PhysicalResourceId", ""))

    @property
    def properties(self) -> Mapping[str, Any]:
        """The declared properties."""
        properties: Mapping[str, Any] = self.event["ResourceProperties"]
        return properties

    @property
    def old_properties(self) -> Mapping[str, Any] | None:
        """What CloudFormation believes the resource held (Update only): ties only."""
        old: Mapping[str, Any] | None = self.event.get("OldResourceProperties")
        return old

    @property
    def owner(self) -> str:
        """The owner mark of this resource: only it may delete what it made."""
        return owner_mark(str(self.event["StackId"]), str(self.event["LogicalResourceId"]))

    @property
    def token(self) -> str:
        """The idempotency token of this request (the same for every delivery of it)."""
        return client_token(
            str(self.event["StackId"]),
            str(self.event["LogicalResourceId"]),
            str(self.event["RequestId"]),
        )

    @property
    def rolling_back(self) -> bool:
        """Whether the request belongs to a rollback."""
        return self.phase in ROLLBACK_PHASES

    def already_taken(self, resource_id: str) -> bool:
        """Whether CloudFormation already records ``resource_id`` as this resource's.

        A Create's ClientToken gives back what an earlier delivery made; when that delivery's
        answer was taken, later requests own the resource, and this late one must not write
        its (older) declaration over it.
        """
        state = request_state.verdict(
            self.clients("cloudformation"),
            dict(self.event),
            resource_id,
            self.deadline,
            phase_at_start=self.phase,
        )
        return state.held

    def checkpoint(self, resource_id: str, *, in_place: bool = False) -> None:
        """Raise NotAwaited unless CloudFormation still waits for this request.

        ``in_place``: the resource is the one CloudFormation already holds (an Update of it),
        so holding its ID says nothing: only the resource's and the stack's statuses count.
        """
        state = request_state.verdict(
            self.clients("cloudformation"),
            dict(self.event),
            resource_id,
            self.deadline,
            phase_at_start=self.phase,
            in_place=in_place,
        )
        if not state.awaited:
            raise NotAwaited(f"CloudFormation no longer waits for this request ({state.why})")


@dataclasses.dataclass(frozen=True)
class Answer:
    """What a lifecycle answers: the physical ID, the attributes, and whether it is new."""

    physical_id: str
    data: Mapping[str, str]
    #: Made by this request (a Create, or a replacement): checked before and after answering.
    made: bool = False


class Lifecycle(Protocol):
    """What one resource type does; the rules above are applied around it."""

    #: "attachment", "registration": for reasons and log lines.
    kind: str
    #: The tag that marks what the handler made: named in "delete it by hand" advice.
    owner_tag: str

    def could_be_id(self, physical_id: str) -> bool:
        """Whether the service could have made this ID (else: nothing to delete)."""

    def create(self, request: Request) -> Answer:
        """Make the resource; name it with ``request.name`` as soon as it exists."""

    def update(self, request: Request) -> Answer:
        """Reconcile the resource with the declaration (a new ID is a replacement)."""

    def delete(self, request: Request) -> str:
        """Delete what this resource made; return what happened; raise Refused."""

    def discard(self, request: Request, made_id: str, *, left_for_rollback: bool) -> str:
        """Delete what this request made (not awaited, or a late answer); say what happened."""


class Responder(Protocol):
    """The parts of crhelper's CfnResource the guard sets."""

    PhysicalResourceId: str
    Data: dict[str, Any]

    def generate_physical_id(self, event: Any) -> str:
        """A placeholder physical ID for the event."""


# ------------------------------------------------------------------------- request functions

#: New resources answered SUCCESS in this invocation, for the confirmation after answering.
_answered_new: list[tuple[Lifecycle, Request, str]] = []


def deadline_of(context: Any) -> Deadline:
    """The invocation's deadline, less the time the response needs."""
    return Deadline(context.get_remaining_time_in_millis() / 1000 - RESPONSE_RESERVE_SECONDS)


def shorten(reason: str) -> str:
    """A reason CloudFormation shows whole (it keeps 256 characters)."""
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 3] + "..."


def reasons(function: Callable[..., str]) -> Callable[..., str]:
    """Turn every failure into a RequestFailed whose message is a short, head-first reason."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> str:
        try:
            return function(*args, **kwargs)
        except RequestFailed as error:
            # from None: a cause may carry a service message, and crhelper logs the traceback.
            raise RequestFailed(shorten(str(error))) from None
        except Exception as error:
            logger.exception("request failed unexpectedly")
            raise RequestFailed(shorten(f"{type(error).__name__}: {error}")) from error

    return run


def begin(event: Mapping[str, Any]) -> None:
    """A new invocation: nothing answered yet."""
    del event
    _answered_new.clear()


@reasons
def create(
    lifecycle: Lifecycle,
    helper: Responder,
    event: Mapping[str, Any],
    context: Any,
    clients: Clients,
) -> str:
    """Create: name a placeholder, let the lifecycle make the resource, answer if awaited."""
    # crhelper's own answers (a failure, its timeout) carry this until a resource exists: an
    # empty physical ID would be rejected, and a Delete knows this one means "nothing made".
    helper.PhysicalResourceId = helper.generate_physical_id(event)
    request = Request(event, deadline_of(context), clients, None, _namer(helper))
    answer = lifecycle.create(request)
    _answer_if_awaited(lifecycle, request, answer.physical_id)
    helper.Data.update(answer.data)
    return answer.physical_id


@reasons
def update(
    lifecycle: Lifecycle,
    helper: Responder,
    event: Mapping[str, Any],
    context: Any,
    clients: Clients,
) -> str:
    """Update: reconcile in place, or replace; a rollback never fails."""
    physical_id = str(event["PhysicalResourceId"])
    # crhelper's own timeout answer uses this: it must name the resource, never be empty.
    helper.PhysicalResourceId = physical_id
    deadline = deadline_of(context)
    # Read first: a rollback Update (stack UPDATE_ROLLBACK_IN_PROGRESS) is told apart from a
    # forward Update that CloudFormation cancelled by the phase it began in.
    phase = request_state.stack_status(clients("cloudformation"), str(event["StackId"]), deadline)
    # A replacement's ID is not named before it is answered: a FAILED answer keeps the old ID,
    # and the replacement path discards what it made.
    request = Request(event, deadline, clients, phase, lambda _made: None)
    try:
        answer = lifecycle.update(request)
    except RequestFailed as error:
        if request.rolling_back:
            # A FAILED answer would leave the stack in UPDATE_ROLLBACK_FAILED.
            logger.warning(
                "rollback (%s): %s %s kept as it is: %s", phase, lifecycle.kind, physical_id, error
            )
            return physical_id
        raise
    if answer.made:
        _answer_if_awaited(lifecycle, request, answer.physical_id)
    helper.Data.update(answer.data)
    return answer.physical_id


@reasons
def delete(
    lifecycle: Lifecycle,
    helper: Responder,
    event: Mapping[str, Any],
    context: Any,
    clients: Clients,
) -> str:
    """Delete: no call for a placeholder, never another's resource, never a failed rollback."""
    physical_id = str(event["PhysicalResourceId"])
    helper.PhysicalResourceId = physical_id
    if is_placeholder(physical_id, event) or not lifecycle.could_be_id(physical_id):
        # crhelper's or ours after a failed Create, or one CloudFormation made up for a
        # cancelled Create: no resource was recorded under it.
        logger.info(
            "%s is a placeholder, not a %s ID; nothing to delete", physical_id, lifecycle.kind
        )
        return physical_id
    deadline = deadline_of(context)
    request = Request(event, deadline, clients, None, lambda _made: None)
    try:
        outcome = lifecycle.delete(request)
    except (Refused, RequestFailed) as error:
        request.phase = request_state.stack_status(
            clients("cloudformation"), str(event["StackId"]), deadline
        )
        if not request.rolling_back:
            raise RequestFailed(str(error)) from None
        # ROLLBACK_FAILED would be worse than a resource left behind: leave it, say so.
        logger.warning(
            "rollback (%s): %s %s left in place: %s; delete it by hand once nothing uses it "
            "(tag %s)",
            request.phase,
            lifecycle.kind,
            physical_id,
            error,
            lifecycle.owner_tag,
        )
        return physical_id
    logger.info("%s %s: %s", lifecycle.kind, physical_id, outcome)
    return physical_id


def confirm_answers(context: Any, status: str) -> None:
    """After a SUCCESS answer: discard a new resource whose request CloudFormation cancelled."""
    if status != "SUCCESS":
        return
    for lifecycle, request, made_id in list(_answered_new):
        deadline = deadline_of(context)
        state = request_state.confirm_taken(
            request.clients("cloudformation"),
            dict(request.event),
            made_id,
            deadline,
            phase_at_start=request.phase,
        )
        if state.awaited:
            if not state.settled:
                logger.warning("%s: CloudFormation has not recorded the answer yet", made_id)
            continue
        # The answer came too late: CloudFormation's rollback neither records nor deletes it.
        request.deadline = deadline
        outcome = lifecycle.discard(request, made_id, left_for_rollback=False)
        logger.warning(
            "answer for %s ignored by CloudFormation (%s): %s", made_id, state.why, outcome
        )


def _answer_if_awaited(lifecycle: Lifecycle, request: Request, made_id: str) -> None:
    """Fail, discarding what this request made, unless CloudFormation still awaits the answer."""
    try:
        request.checkpoint(made_id)
    except NotAwaited as error:
        # Cancelled, or past ServiceTimeout: CloudFormation ignores this answer, and its rollback
        # will neither record nor delete what it names. Remove it now or it is orphaned.
        outcome = lifecycle.discard(request, made_id, left_for_rollback=False)
        raise RequestFailed(f"{error}; {lifecycle.kind} {made_id} {outcome}") from None
    _answered_new.append((lifecycle, request, made_id))


def _namer(helper: Responder) -> Callable[[str], None]:
    def name(made_id: str) -> None:
        helper.PhysicalResourceId = made_id

    return name


def is_placeholder(physical_id: str, event: Mapping[str, Any]) -> bool:
    """A physical ID crhelper or CloudFormation made up: no resource was recorded under it."""
    stack_id = str(event["StackId"])
    stack_name = stack_id.split("/")[1] if "/" in stack_id else ""
    crhelper_placeholder = re.fullmatch(
        re.escape(f"{stack_name}_{event['LogicalResourceId']}_") + "[A-Z0-9]{8}", physical_id
    )
    cloudformation_placeholder = physical_id.startswith(
        f"{stack_name[:20]}-"
    ) and _CLOUDFORMATION_PLACEHOLDER.fullmatch(physical_id)
    return crhelper_placeholder is not None or bool(cloudformation_placeholder)


def discarded_text(kind: str, left_for_rollback: bool, owner_tag: str) -> str:
    """What a failed discard leaves, for the reason."""
    if left_for_rollback:
        return "not deleted yet; the rollback Delete retries it"
    return f"could not be deleted: delete the {kind} by hand (tag {owner_tag})"
