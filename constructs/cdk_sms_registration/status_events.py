"""EventBridge rules for a registration's ``Registration Status Change`` events.

What was checked: the AWS End User Messaging SMS User Guide ("Monitoring with EventBridge")
lists ``Registration Status Change`` among the events the service sends directly to
EventBridge, with source ``aws.sms-voice``. The ``detail`` shape matched here,
``registrationDetails.registrationId`` (next to ``registrationArn``, ``currentStatus``,
``registrationVersionNumber``, ``registrationType``), is the one the AWS 10DLC registration
sample (aws-samples/sample-sms-10dlc-registration-automation) reads; it was not confirmed
against an example event published in the user guide. Delivery is best effort.
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct

SOURCE = "aws.sms-voice"
DETAIL_TYPE = "Registration Status Change"


def status_change_pattern(registration_id: str) -> events.EventPattern:
    """The pattern of one registration's status change events."""
    return events.EventPattern(
        source=[SOURCE],
        detail_type=[DETAIL_TYPE],
        detail={"registrationDetails": {"registrationId": [registration_id]}},
    )


def status_change_rule(
    scope: Construct,
    construct_id: str,
    registration_id: str,
    *,
    target: events.IRuleTarget | None = None,
    description: str | None = None,
) -> events.Rule:
    """A rule on the default event bus for one registration's status changes."""
    rule = events.Rule(
        scope,
        construct_id,
        description=description,
        event_pattern=status_change_pattern(registration_id),
    )
    if target is not None:
        rule.add_target(target)
    return rule
