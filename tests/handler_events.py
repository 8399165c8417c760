"""CloudFormation custom-resource events and a Lambda-like context, for handler tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

STACK_ID = (
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/SmsStack/"
    "0f9c1a40-aaaa-bbbb-cccc-0123456789ab"
)
LOGICAL_ID = "LetterOfAuthorization52F61641"
SERVICE_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:provider"


def event(
    request_type: str,
    properties: dict[str, Any] | None = None,
    *,
    old_properties: dict[str, Any] | None = None,
    physical_id: str | None = None,
    request_id: str | None = None,
    response_url: str = "https://cloudformation-custom-resource-response.example/responses/x",
    logical_id: str = LOGICAL_ID,
    stack_id: str = STACK_ID,
) -> dict[str, Any]:
    """A documented custom-resource request event."""
    body: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": request_id or str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::SmsRegistrationAttachment",
        "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **(properties or {})},
    }
    if physical_id is not None:
        body["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        body["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **old_properties}
    return body


@dataclass
class LambdaContext:
    """The parts of the Lambda context object crhelper and the handler use."""

    timeout_seconds: float = 900.0
    function_name: str = "provider"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))
