"""Whether CloudFormation still waits for the answer to a request.

CloudFormation cancels the operations still in progress when a sibling resource fails, and
stops waiting after ``ServiceTimeout``; from then on it ignores the answer. Its rollback sends a
Delete with a physical ID it generated itself (after a cancelled Create) or an Update back to
the old properties (after a cancelled Update), possibly while the cancelled invocation still
runs. Whatever that invocation made would outlive the stack, so before it answers it asks
CloudFormation (read-only, its own stack) whether the answer will still be taken.

The resource's status alone is not enough: during a rollback Update it is UPDATE_IN_PROGRESS
again, while the stack is UPDATE_ROLLBACK_IN_PROGRESS. A request is awaited when CloudFormation
has not recorded a different outcome for the resource, the resource is still in progress for
this request type, and the stack is still in the phase it was in when the request began.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .retries import Deadline, RetriesExhausted, call_with_retries, room_to_wait

logger = logging.getLogger(__name__)

#: The resource status CloudFormation shows while it waits for a request of each type.
IN_PROGRESS = {"Create": "CREATE_IN_PROGRESS", "Update": "UPDATE_IN_PROGRESS"}
#: Stack statuses in which CloudFormation sends Creates and forward Updates.
FORWARD_PHASES = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"})
#: How long, after answering, the handler watches for CloudFormation to record its answer.
CONFIRM_SECONDS = 10.0
CONFIRM_POLL_SECONDS = 0.5
#: The most one verdict may spend on CloudFormation's (throttled) read API.
VERDICT_SECONDS = 20.0


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether the answer will be taken, and the statuses that say so (for the reason).

    ``settled``: CloudFormation holds the resource made, or could not be asked; nothing more
    can be learnt by asking again.
    """

    awaited: bool
    why: str
    settled: bool = False
    #: CloudFormation already records the resource as this logical resource's: an earlier
    #: delivery of the request was answered and taken.
    held: bool = False


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def stack_status(cloudformation: Any, stack_id: str, deadline: Deadline) -> str | None:
    """The stack's status, or None when CloudFormation cannot be asked."""
    try:
        response = call_with_retries(
            lambda: cloudformation.describe_stacks(StackName=stack_id),
            deadline,
            what="cloudformation:DescribeStacks",
        )
    except ClientError as error:
        if _error_code(error) == "ValidationError":
            return "DOES_NOT_EXIST"
        logger.warning("cannot read the stack's status: %s", error)
        return None
    except (BotoCoreError, RetriesExhausted) as error:
        logger.warning("cannot read the stack's status: %s", error)
        return None
    stacks: list[dict[str, Any]] = response.get("Stacks", [])
    return str(stacks[0]["StackStatus"]) if stacks else "DOES_NOT_EXIST"


def verdict(
    cloudformation: Any,
    event: dict[str, Any],
    made_id: str,
    deadline: Deadline,
    *,
    phase_at_start: str | None,
    in_place: bool = False,
) -> Verdict:
    """Whether CloudFormation will take an answer naming ``made_id`` for this request.

    ``in_place``: ``made_id`` is the resource CloudFormation already holds (an Update of it),
    so CloudFormation holding it proves nothing: only the statuses count.

    When CloudFormation cannot be asked (no permission, unreachable, out of time), the answer
    counts as awaited: deleting a resource CloudFormation may keep would be worse.
    """
    deadline = deadline.sooner(VERDICT_SECONDS)
    try:
        response = call_with_retries(
            lambda: cloudformation.describe_stack_resource(
                StackName=event["StackId"], LogicalResourceId=event["LogicalResourceId"]
            ),
            deadline,
            what="cloudformation:DescribeStackResource",
        )
    except ClientError as error:
        if _error_code(error) == "ValidationError":
            return Verdict(False, "the stack or resource no longer exists")
        logger.warning("cannot ask CloudFormation about this request: %s", error)
        why = f"CloudFormation could not be asked ({_error_code(error)})"
        return Verdict(True, why, settled=True)
    except (BotoCoreError, RetriesExhausted) as error:
        logger.warning("cannot ask CloudFormation about this request: %s", error)
        return Verdict(True, "CloudFormation could not be asked", settled=True)
    detail: dict[str, Any] = response["StackResourceDetail"]
    resource_status = str(detail.get("ResourceStatus", ""))
    if not in_place and detail.get("PhysicalResourceId") == made_id:
        # An earlier delivery of this request was answered and taken: the resource is this one.
        return Verdict(
            True, f"CloudFormation holds {made_id} ({resource_status})", settled=True, held=True
        )
    expected = IN_PROGRESS.get(str(event["RequestType"]))
    if resource_status != expected:
        return Verdict(False, f"resource {resource_status}")
    status = stack_status(cloudformation, event["StackId"], deadline)
    if status is None:
        return Verdict(True, "the stack's status could not be read", settled=True)
    in_phase = status == phase_at_start if phase_at_start else status in FORWARD_PHASES
    why = f"resource {resource_status}, stack {status}"
    return Verdict(in_phase, why)


def confirm_taken(
    cloudformation: Any,
    event: dict[str, Any],
    made_id: str,
    deadline: Deadline,
    *,
    phase_at_start: str | None,
) -> Verdict:
    """After a SUCCESS answer: watch until CloudFormation records it, or moves on without it.

    CloudFormation may cancel the request between the check before the answer and the answer's
    arrival; it then ignores the answer. A verdict that is not awaited means exactly that.
    Gives up (awaited, not settled) after ``CONFIRM_SECONDS``.
    """
    give_up_at = time.monotonic() + min(CONFIRM_SECONDS, deadline.remaining())
    while True:
        state = verdict(cloudformation, event, made_id, deadline, phase_at_start=phase_at_start)
        if state.settled or not state.awaited or time.monotonic() >= give_up_at:
            return state
        if not room_to_wait(CONFIRM_POLL_SECONDS, deadline):
            return state  # the next look would be refused: awaited, not settled
        time.sleep(CONFIRM_POLL_SECONDS)
