"""AWS calls of the command line: clients, every page, and errors as one line each.

boto3 is imported on first use: ``check`` and ``scaffold`` run without it. The user's own
credentials, region and endpoint settings apply (``AWS_PROFILE``, ``AWS_REGION``,
``AWS_ENDPOINT_URL_*``). Expected failures (no credentials or region, access denied, not
found, an unknown registration type) become ``CommandFailed``: one line naming the thing and
the AWS error code, no traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

SMS_SERVICE = "pinpoint-sms-voice-v2"
#: Brand profiles (AWS End User Messaging, API version 2026-09-21; older botocores lack it).
BRAND_PROFILE_SERVICE = "endusermessaging"
#: The registration APIs allow about one request per second by default: retry throttling.
_RETRIES = {"mode": "adaptive", "max_attempts": 10}


class CommandFailed(Exception):
    """A command cannot go on; the message is what the user sees (no traceback)."""


#: An AWS region's shape (us-east-1, us-gov-west-1, eu-isoe-west-1): anything else would only
#: fail after botocore's endpoint retries.
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


def region_argument(value: str) -> str:
    """``--region``'s type: an AWS region name, or a one-line error saying what one looks like."""
    if not _REGION.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an AWS region name (like us-east-1 or eu-west-2)"
        )
    return value


def add_region_option(parser: Any) -> None:
    """``--region``, for the commands that call AWS."""
    parser.add_argument(
        "--region",
        type=region_argument,
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or your profile's)",
    )


def client(service: str, region: str | None = None) -> Any:
    """A boto3 client with the user's credentials and region, retrying throttling.

    The region is ``region``, else the profile's or ``AWS_DEFAULT_REGION`` (botocore), else
    ``AWS_REGION`` (which not every botocore reads).
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise CommandFailed(
            "this command needs boto3: pip install 'cdk-sms-registration[aws]'"
        ) from None
    try:
        session = boto3.session.Session()
        region = region or session.region_name or os.environ.get("AWS_REGION") or None
        return session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            config=Config(retries=_RETRIES),  # type: ignore[arg-type]
        )
    except Exception as error:
        raise CommandFailed(describe_error(error, f"{service} client")) from None


def describe_error(error: BaseException, subject: str) -> str:
    """One line for an AWS error: the subject, the operation and the error code (and reason)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code") or "UnknownError")
        reason = response.get("Reason")
        operation = getattr(error, "operation_name", "") or "a call"
        return f"{subject}: {operation} failed ({code}{f' {reason}' if reason else ''})"
    name = type(error).__name__
    hints = {
        "NoCredentialsError": "no AWS credentials found (set AWS_PROFILE or run aws configure)",
        "PartialCredentialsError": "incomplete AWS credentials",
        "NoRegionError": "no AWS region set (set AWS_REGION or pass --region)",
        "EndpointConnectionError": f"could not reach the endpoint ({error})",
        "ProfileNotFound": str(error),
        "UnknownServiceError": "this boto3 does not know the service: pip install --upgrade boto3",
    }
    return f"{subject}: {hints.get(name, f'{name}: {error}')}"


def is_aws_error(error: BaseException) -> bool:
    """Whether ``error`` is one of botocore's (a refusal, no credentials, no endpoint)."""
    return any(cls.__module__.startswith("botocore") for cls in type(error).__mro__)


def pages(
    call: Callable[..., dict[str, Any]],
    key: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    token_name: str = "NextToken",
    **params: Any,
) -> Iterator[dict[str, Any]]:
    """Every item under ``key`` of every page; ``progress(pages, items)`` after each page.

    ``token_name`` is the page token's member (``nextToken`` in rest-json services).
    """
    token: str | None = None
    fetched = items = 0
    while True:
        page = call(**params, **({token_name: token} if token else {}))
        found: list[dict[str, Any]] = page.get(key, [])
        fetched += 1
        items += len(found)
        if progress is not None:
            progress(fetched, items)
        yield from found
        token = page.get(token_name)
        if not token:
            return


def say(message: str) -> None:
    """Progress and errors go to stderr, so stdout stays the command's output."""
    print(message, file=sys.stderr, flush=True)


def run_command(subject: str, command: Callable[[], int]) -> int:
    """Run a command: an expected failure prints one line and returns 2, no traceback."""
    try:
        return command()
    except CommandFailed as failure:
        say(f"error: {failure}")
    except Exception as error:
        if not is_aws_error(error):
            raise
        say(f"error: {describe_error(error, subject)}")
    return 2
