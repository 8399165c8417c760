"""Retrying AWS calls until the invocation's own deadline.

botocore's retry modes count attempts and back off up to 20 s. The service allows about one
CreateRegistrationAttachment and one DeleteRegistrationAttachment per second per account, and a
stack with many attachments invokes the handler for all of them at once, so a call can be
throttled for a long time. We retry throttling and server errors with short jittered waits for
as long as the Lambda invocation can afford, then give up with time left to answer
CloudFormation (crhelper answers "Execution timed out" 0.5 s before the Lambda deadline).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServerException",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
    }
)
FIRST_WAIT_SECONDS = 0.2
LONGEST_WAIT_SECONDS = 2.0
#: botocore's limits for one attempt of one call: connecting, then each read of the answer.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 7
#: The longest one attempt can take; no attempt starts with less time than this left.
CALL_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
#: How late a sleep may wake in a loaded sandbox. A loop that sleeps, then calls, allows for it:
#: otherwise the call after the sleep is refused, and the loop ends on that refusal instead of
#: its own reason.
SLEEP_OVERSHOOT_SECONDS = 0.5


def room_to_wait(wait: float, deadline: Deadline) -> bool:
    """Whether sleeping ``wait`` seconds still leaves time for one more call to start."""
    return wait + SLEEP_OVERSHOOT_SECONDS + CALL_SECONDS < deadline.remaining()


class Deadline:
    """A point in monotonic time that work must finish before."""

    def __init__(self, seconds_from_now: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._at = clock() + seconds_from_now

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._at - self._clock())

    def sooner(self, seconds_from_now: float) -> Deadline:
        """This deadline or one ``seconds_from_now`` away, whichever comes first."""
        return Deadline(min(seconds_from_now, self.remaining()), self._clock)


class RetriesExhausted(Exception):
    """A retryable error persisted until the deadline."""


class OutOfTime(RetriesExhausted):
    """Too little time is left for another call to finish before the deadline."""


def is_retryable(error: Exception) -> bool:
    """Throttling, server errors and dropped connections are worth another try."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_ERROR_CODES or status >= 500
    return isinstance(error, (ConnectionError, HTTPClientError))


def call_with_retries(
    call: Callable[[], T],
    deadline: Deadline,
    *,
    what: str,
) -> T:
    """Run ``call``; on a retryable error wait (full jitter, capped) and try again.

    No attempt starts unless it can finish (``CALL_SECONDS``) before the deadline: a call still
    running past it could outlive the answer to CloudFormation, or the Lambda invocation.
    """
    attempt = 0
    while True:
        if deadline.remaining() < CALL_SECONDS:
            raise OutOfTime(
                f"{what}: not started, {deadline.remaining():.1f} s left before the response "
                f"reserve and a call may take {CALL_SECONDS} s"
            )
        try:
            return call()
        except Exception as error:
            if not is_retryable(error):
                raise
            attempt += 1
            wait = random.uniform(0, min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2**attempt))
            if not room_to_wait(wait, deadline):
                raise RetriesExhausted(
                    f"{what} still failing after {attempt} attempts, out of time: {error}"
                ) from error
            logger.debug("retrying %s after %s (attempt %d)", what, type(error).__name__, attempt)
            time.sleep(wait)
