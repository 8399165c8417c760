"""The harness plays CloudFormation's hard moments: checked with a scripted custom resource.

A tiny provider function (standard library only) answers as each resource's ``Script``
property says: succeed after a while, fail, answer an empty physical ID, crash once, or never
answer. The assertions are about the harness: what it cancels, which physical IDs it makes up,
what it redelivers, when it gives up, and what the fake CloudFormation endpoint shows meanwhile.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from .cloudformation import (
    CANCELLED,
    FAILED,
    NO_RESPONSE,
    SUCCESS,
    CloudAssembly,
    LambdaRuntime,
    StackDeployment,
)
from .fake_cloudformation import FakeCloudFormation
from .servers import ResponseReceiver

SCRIPTED = """
import json, os, ssl, sys, time, urllib.request

def handler(event, context):
    script = event["ResourceProperties"].get("Script", "ok")
    if event["RequestType"] == "Delete":
        script = "ok"
    marker = os.path.join(os.environ["MARKERS"], event["RequestId"])
    if script == "crash-once" and not os.path.exists(marker):
        open(marker, "w").close()
        sys.exit(3)
    if script.startswith(("sleep:", "fail-after:")):
        time.sleep(float(script.split(":")[1]))
    if script.startswith("silent"):
        time.sleep(float(script.split(":")[1]))
        return
    physical = event.get("PhysicalResourceId", "made-" + event["LogicalResourceId"])
    if script == "new-id":
        physical = "made-" + event["LogicalResourceId"] + "-" + event["RequestId"][:8]
    body = {
        "Status": "FAILED" if script.startswith("fail") else "SUCCESS",
        "Reason": "scripted",
        "PhysicalResourceId": "" if script == "empty-id" else physical,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {},
    }
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT",
        headers={"Content-Type": ""},
    )
    urllib.request.urlopen(request, context=ssl.create_default_context()).read()
    if script.startswith("answer-then-sleep:"):
        time.sleep(float(script.split(":")[1]))
"""

STACK = "Scripted"


def _assembly(directory: Path, scripts: dict[str, str]) -> CloudAssembly:
    """A cloud assembly: one function (the scripted asset) and a custom resource per script."""
    asset = directory / "asset.scripted"
    asset.mkdir(parents=True)
    (asset / "scripted.py").write_text(SCRIPTED)
    resources: dict[str, Any] = {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "scripted.handler",
                "Runtime": "python3.14",
                "Timeout": 30,
                "Code": {"S3Bucket": "b", "S3Key": "scripted.zip"},
                "Environment": {"Variables": {"MARKERS": str(directory)}},
            },
        },
        "FnConfig": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 1,
                "MaximumEventAgeInSeconds": 60,
            },
        },
    }
    for logical_id, script in scripts.items():
        resources[logical_id] = {
            "Type": "Custom::Scripted",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}, "Script": script},
        }
    (directory / f"{STACK}.template.json").write_text(json.dumps({"Resources": resources}))
    (directory / f"{STACK}.assets.json").write_text(
        json.dumps(
            {
                "files": {
                    "scripted": {
                        "source": {"path": asset.name, "packaging": "zip"},
                        "destinations": {"d": {"bucketName": "b", "objectKey": "scripted.zip"}},
                    }
                }
            }
        )
    )
    (directory / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    STACK: {
                        "type": "aws:cloudformation:stack",
                        "properties": {"templateFile": f"{STACK}.template.json"},
                    }
                }
            }
        )
    )
    return CloudAssembly(directory)


@pytest.fixture
def play(
    tmp_path: Path,
    lambda_runtime: LambdaRuntime,
    response_receiver: ResponseReceiver,
    fake_cloudformation: FakeCloudFormation,
    s3_client: Any,
) -> Any:
    def make(scripts: dict[str, str], **options: Any) -> StackDeployment:
        assembly = _assembly(tmp_path / "cdk.out", scripts)
        return StackDeployment(
            assembly.stack(STACK),
            runtime=lambda_runtime,
            receiver=response_receiver,
            s3=s3_client,
            cloudformation=fake_cloudformation,
            **options,
        )

    return make


def _problems(deployment: StackDeployment) -> list[str]:
    """What the harness flagged, but that the scripted function imports no crhelper nor boto3."""
    return [
        p
        for p in deployment.verify()
        if not p.endswith(
            (": crhelperFile None is not in the staged asset", ": boto3 came from None")
        )
        and not p.startswith("log of ")
    ]


def _placeholder(deployment: StackDeployment, logical_id: str) -> re.Pattern[str]:
    return re.compile(rf"{deployment.stack_name}-{logical_id}-[A-Z0-9]{{13}}")


def test_a_failure_cancels_the_siblings_still_running(play: Any) -> None:
    # Fails waits a second so that Fast has usually answered by then; on a loaded machine
    # Fast may still be running, and is then cancelled like Slow (both outcomes are checked).
    deployment = play({"Fails": "fail-after:1", "Slow": "sleep:4", "Fast": "ok"})
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE"
    assert result.one("Create", "Fails").status == FAILED
    assert result.one("Create", "Slow").status == CANCELLED
    assert result.one("Create", "Fast").status in (SUCCESS, CANCELLED)
    cancelled = {lid for lid in ("Slow", "Fast") if result.one("Create", lid).status == CANCELLED}
    # The rollback Delete of a cancelled Create carries an ID CloudFormation made up.
    for logical_id in cancelled:
        assert _placeholder(deployment, logical_id).fullmatch(
            result.one("Delete", logical_id).event["PhysicalResourceId"]
        )
    # Each cancelled Create's late answer was recorded, and ignored; no other answer is late.
    assert sorted(sent.logical_id for sent in result.late) == sorted(cancelled)
    assert all(sent.response is not None for sent in result.late)
    assert deployment.resource_detail("Slow")["ResourceStatus"] == "DELETE_COMPLETE"
    assert _problems(deployment) == []


def test_an_answered_sibling_is_not_cancelled_and_does_not_delay_the_cancellation(
    play: Any,
) -> None:
    # Answered answers at once, then its function runs on for 6 s: CloudFormation has recorded
    # its answer, so the failure does not cancel it, and cancels Slow without waiting for it.
    deployment = play(
        {"Answered": "answer-then-sleep:6", "Fails": "fail-after:1", "Slow": "sleep:3"}
    )
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE"
    answered = result.one("Create", "Answered")
    assert answered.status == SUCCESS
    assert result.one("Delete", "Answered").event["PhysicalResourceId"] == "made-Answered"
    assert result.one("Create", "Slow").status == CANCELLED
    assert [sent.logical_id for sent in result.late] == ["Slow"]
    assert _problems(deployment) == []


def test_an_empty_physical_id_is_rejected_and_replaced(
    play: Any, response_receiver: ResponseReceiver
) -> None:
    deployment = play({"Empty": "empty-id"})
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE"
    assert result.one("Create", "Empty").status == FAILED
    delete = result.one("Delete", "Empty")
    assert _placeholder(deployment, "Empty").fullmatch(delete.event["PhysicalResourceId"])
    # The receiver flags the handler's empty ID: a real handler must never send one.
    assert any(
        "PhysicalResourceId '' is not a non-empty string" in p for p in response_receiver.problems
    )
    response_receiver.problems.clear()


def test_a_crashed_invocation_is_delivered_again(play: Any) -> None:
    deployment = play({"Crashy": "crash-once"})
    result = deployment.create_all()

    assert result.status == "CREATE_COMPLETE"
    create = result.one("Create", "Crashy")
    assert [d.exit_code for d in create.deliveries] == [1, 0]
    assert create.status == SUCCESS
    problems = _problems(deployment)
    assert len([p for p in problems if "function error" in p]) == 1


def test_no_answer_within_service_timeout_rolls_back(
    play: Any, fake_cloudformation: FakeCloudFormation
) -> None:
    deployment = play({"Silent": "silent:3"}, service_timeout=1.0)
    result = deployment.create_all()

    assert result.status == "ROLLBACK_COMPLETE"
    assert result.one("Create", "Silent").status == NO_RESPONSE
    assert _placeholder(deployment, "Silent").fullmatch(
        result.one("Delete", "Silent").event["PhysicalResourceId"]
    )
    assert deployment.current_stack_status() == "ROLLBACK_COMPLETE"
    deployment.problems.clear()  # the scripted function never answers, on purpose


def test_a_cancelled_update_is_rolled_back_on_the_old_physical_id(play: Any) -> None:
    deployment = play({"Changes": "ok", "Breaks": "ok"})
    assert deployment.create_all().status == "CREATE_COMPLETE"
    old = deployment.physical_id("Changes")

    base = {"ServiceToken": deployment.resources["Changes"].properties["ServiceToken"]}
    result = deployment.update_all(
        {"Changes": {**base, "Script": "sleep:5"}, "Breaks": {**base, "Script": "fail"}}
    )
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    changes = result.select("Update", "Changes")
    assert [sent.status for sent in changes] == [CANCELLED, SUCCESS]
    assert changes[1].event["PhysicalResourceId"] == old
    assert changes[1].event["ResourceProperties"]["Script"] == "ok"
    assert deployment.physical_id("Changes") == old
    assert _problems(deployment) == []


def test_a_stack_update_resolves_a_dependent_after_its_dependency_is_replaced(play: Any) -> None:
    # CloudFormation orders a stack update by dependencies: Uses names Source's physical ID, so
    # its Update waits for Source's replacement and carries the new ID; Alone, which depends on
    # nothing in the update, runs beside Source. Resolving everything before the update (the
    # harness once did) sent Uses the old ID, which cleanup then deleted.
    deployment = play({"Source": "ok", "Uses": "ok", "Alone": "ok"})
    uses = deployment.stack.resources["Uses"]["Properties"]
    uses["Names"] = {"Ref": "Source"}
    assert deployment.create_all().status == "CREATE_COMPLETE"
    old_source = deployment.physical_id("Source")

    new_stack = copy.copy(deployment.stack)
    new_stack.template = copy.deepcopy(deployment.stack.template)
    new_stack.template["Resources"]["Source"]["Properties"]["Script"] = "new-id"
    new_stack.template["Resources"]["Alone"]["Properties"]["Script"] = "sleep:1"
    result = deployment.deploy(new_stack)

    assert result.status == "UPDATE_COMPLETE"
    new_source = deployment.physical_id("Source")
    assert new_source != old_source
    update = result.one("Update", "Uses")
    assert update.event["ResourceProperties"]["Names"] == new_source
    assert update.event["OldResourceProperties"]["Names"] == old_source
    order = [(sent.request_type, sent.logical_id) for sent in deployment.history]
    assert order.index(("Update", "Uses")) > order.index(("Update", "Source"))
    assert result.one("Delete", "Source").event["PhysicalResourceId"] == old_source
    assert _problems(deployment) == []
