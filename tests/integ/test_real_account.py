"""The example stack in a real AWS account: deploy with the CDK CLI, check, destroy, check.

Never part of the default run (pytest's addopts exclude the ``aws`` marker). Run it with
``pytest -m aws tests/integ`` in an account and region that are CDK-bootstrapped; it skips when
boto3 finds no credentials or no region. It creates one registration attachment from the sample
letter of authorization and deletes it again.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]
STACK = "SmsRegistrationExample"
CDK = REPO / "node_modules" / ".bin" / "cdk"
DEPLOY_TIMEOUT_SECONDS = 1800


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    """The boto3 session the CDK CLI will use too (same credential chain)."""
    session = boto3.Session()
    if session.get_credentials() is None:
        pytest.skip(
            "no AWS credentials configured: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) for a CDK-bootstrapped account to run the real-account test"
        )
    if not session.region_name:
        pytest.skip("no AWS region configured: set AWS_REGION or AWS_DEFAULT_REGION")
    return session


def _cdk(*arguments: str, session: boto3.Session) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": os.pathsep.join(
            [str(REPO / ".venv" / "bin"), str(REPO / "node_modules" / ".bin"), os.environ["PATH"]]
        ),
        "AWS_REGION": str(session.region_name),
        "AWS_DEFAULT_REGION": str(session.region_name),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    completed = subprocess.run(
        [str(CDK), *arguments, "--no-notices"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, f"cdk {arguments[0]} failed:\n{completed.stderr[-4000:]}"
    return completed


@pytest.fixture(scope="module")
def deployed(
    session: boto3.Session, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Deploy the example stack; destroy it afterwards whatever the test found."""
    outputs_file = tmp_path_factory.mktemp("integ") / "outputs.json"
    try:
        _cdk(
            "deploy",
            STACK,
            "--require-approval",
            "never",
            "--outputs-file",
            str(outputs_file),
            session=session,
        )
        outputs: dict[str, Any] = json.loads(outputs_file.read_text())[STACK]
        yield outputs
    finally:
        _cdk("destroy", "--force", STACK, session=session)


def _describe(sms: Any, attachment_id: str) -> dict[str, Any] | None:
    try:
        found = sms.describe_registration_attachments(RegistrationAttachmentIds=[attachment_id])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    attachments: list[dict[str, Any]] = found["RegistrationAttachments"]
    return attachments[0] if attachments else None


def test_example_stack_creates_and_destroys_its_attachment(
    session: boto3.Session, deployed: dict[str, Any]
) -> None:
    sms = session.client("pinpoint-sms-voice-v2")
    attachment_id = deployed["LetterOfAuthorizationId"]
    attachment = _describe(sms, attachment_id)
    assert attachment is not None, f"{attachment_id} not found after deploy"
    assert attachment["AttachmentStatus"] == "UPLOAD_COMPLETE"
    assert attachment["RegistrationAttachmentArn"] == deployed["LetterOfAuthorizationArn"]
    tags = sms.list_tags_for_resource(ResourceArn=attachment["RegistrationAttachmentArn"])
    assert {"Key": "purpose", "Value": "sender-id-registration"} in tags["Tags"]

    _cdk("destroy", "--force", STACK, session=session)
    gone = _describe(sms, attachment_id)
    assert gone is None or gone["AttachmentStatus"] == "DELETED", gone
