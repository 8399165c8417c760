"""Lambda entry point of the three custom resource types (attachments, registrations, profiles).

crhelper answers CloudFormation (the ResponseURL PUT, FAILED on any exception, FAILED just
before the Lambda deadline). This module only dispatches: one function per request type picks
the resource type's lifecycle by ``ResourceType`` and runs it under ``lifecycle_guard``, which
holds what every type shares (placeholders, is CloudFormation still waiting, the confirmation
after answering, rollbacks that never fail). Registration field values never reach a reason,
the response Data or a log line: only paths.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any

import boto3
from botocore.config import Config
from crhelper import CfnResource

from . import lifecycle_guard
from .attachment_lifecycle import AttachmentLifecycle
from .brand_profile_contract import RESOURCE_TYPE as BRAND_PROFILE_TYPE
from .brand_profile_lifecycle import BrandProfileLifecycle
from .lifecycle_guard import Lifecycle
from .registration_contract import RESOURCE_TYPE as REGISTRATION_TYPE
from .registration_lifecycle import RegistrationLifecycle
from .resource_contract import RESOURCE_TYPE as ATTACHMENT_TYPE
from .retries import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

# INFO, not crhelper's default DEBUG, which logs the event with its pre-signed ResponseURL.
# No sleep on Delete: crhelper's default waits 120 s per resource to flush logs.
helper = CfnResource(json_logging=False, log_level="INFO", boto_level="ERROR", sleep_on_delete=0)

#: The lifecycle of each resource type this provider serves. Events without a ResourceType
#: (hand-made test events, releases before registrations) are attachments.
LIFECYCLES: dict[str, Lifecycle] = {
    ATTACHMENT_TYPE: AttachmentLifecycle(),
    REGISTRATION_TYPE: RegistrationLifecycle(),
    BRAND_PROFILE_TYPE: BrandProfileLifecycle(),
}


@functools.cache
def _client(service: str) -> Any:
    # One attempt per call: retries.call_with_retries retries throttling, server errors and
    # dropped connections up to the invocation's deadline, which botocore does not know. Short
    # timeouts keep a single hung call from running past it.
    config = Config(
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda handler: let crhelper dispatch and answer, confirm, log one line."""
    started = time.monotonic()
    lifecycle_guard.begin(event)
    helper(event, context)
    lifecycle_guard.confirm_answers(context, helper.Status)
    logger.info(
        json.dumps(
            {
                "requestType": event.get("RequestType"),
                "logicalResourceId": event.get("LogicalResourceId"),
                "physicalResourceId": helper.PhysicalResourceId,
                "outcome": helper.Status,
                "reason": helper.Reason or None,
                "durationMs": round((time.monotonic() - started) * 1000),
            }
        )
    )


def _lifecycle(event: dict[str, Any]) -> Lifecycle:
    resource_type = str(event.get("ResourceType") or ATTACHMENT_TYPE)
    # A custom type of another name (Custom::Anything) given our ServiceToken: attachments,
    # the type this provider served first.
    return LIFECYCLES.get(resource_type, LIFECYCLES[ATTACHMENT_TYPE])


@helper.create
def on_create(event: dict[str, Any], context: Any) -> str:
    """Create, for any resource type."""
    return lifecycle_guard.create(_lifecycle(event), helper, event, context, _client)


@helper.update
def on_update(event: dict[str, Any], context: Any) -> str:
    """Update, for any resource type."""
    return lifecycle_guard.update(_lifecycle(event), helper, event, context, _client)


@helper.delete
def on_delete(event: dict[str, Any], context: Any) -> str:
    """Delete, for any resource type."""
    return lifecycle_guard.delete(_lifecycle(event), helper, event, context, _client)
