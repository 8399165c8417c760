"""The provider for CloudFormation-only teams: the written template and zip, deployed and used.

``python -m cdk_sms_registration provider-template`` writes a template and a handler zip; here
the zip is uploaded where the template says (as ``aws s3 cp`` would), the template deployed with
its functions run from that zip, and the hand-written example template played against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from cdk_sms_registration.provider_template import write_provider_template
from cdk_sms_registration.shared_provider import SERVICE_TOKEN_EXPORT_NAME

from ..conftest import REPO, SAMPLE_PDF, SAMPLE_PNG
from .cloudformation import REGION, SUCCESS, StackArtifact
from .conftest import Deploy
from .fake_sms import FakeSmsService
from .standalone import StandaloneStack

EXAMPLE = REPO / "examples" / "cloudformation" / "registration-attachment.yaml"
DOCUMENTS_BUCKET = "provider-template-documents-e2e"
#: One artifacts bucket per region, as a StackSet across regions needs.
ARTIFACTS_BUCKET = "sms-provider-artifacts-${AWS::Region}"


def _example_stack(directory: Path) -> StackArtifact:
    (directory / "Example.template.json").write_text(json.dumps(cfn_yaml.load(str(EXAMPLE))))
    return StackArtifact(directory, "Example", {"templateFile": "Example.template.json"})


def test_written_provider_runs_the_hand_written_example(
    deploy: Deploy, sms_service: FakeSmsService, s3_client: Any, tmp_path: Path
) -> None:
    written = write_provider_template(tmp_path / "out", ARTIFACTS_BUCKET, "releases")
    artifacts_bucket = ARTIFACTS_BUCKET.replace("${AWS::Region}", REGION)
    s3_client.create_bucket(Bucket=artifacts_bucket)
    s3_client.put_object(
        Bucket=artifacts_bucket, Key=written.key, Body=written.zip_path.read_bytes()
    )
    s3_client.create_bucket(Bucket=DOCUMENTS_BUCKET)
    s3_client.put_object(
        Bucket=DOCUMENTS_BUCKET,
        Key="sender-id/letter-of-authorization.pdf",
        Body=SAMPLE_PDF.read_bytes(),
    )
    s3_client.put_object(
        Bucket=DOCUMENTS_BUCKET,
        Key="sender-id/company-registration.png",
        Body=SAMPLE_PNG.read_bytes(),
    )
    provider = deploy(
        StandaloneStack(
            written.template_path,
            "SmsRegistrationAttachmentProvider",
            s3=s3_client,
            workdir=tmp_path / "code",
        ),
        parameters={"ReadableObjectArns": f"arn:aws:s3:::{DOCUMENTS_BUCKET}/sender-id/*"},
    )
    stack = deploy(
        _example_stack(tmp_path),
        parameters={"DocumentsBucket": DOCUMENTS_BUCKET},
        exports={SERVICE_TOKEN_EXPORT_NAME: provider.outputs()["ServiceToken"]},
        providers=[provider],
    )

    created = stack.create_all()

    assert created.status == "CREATE_COMPLETE", created.statuses
    # The handler ran from the zip fetched from the key the template names.
    (sent, *_) = created.requests
    assert sent.invocation.function.asset_dir.is_relative_to(tmp_path / "code")
    letter = stack.physical_id("LetterOfAuthorization")
    company = stack.physical_id("CompanyRegistration")
    assert {a["RegistrationAttachmentId"] for a in sms_service.live_attachments()} == {
        letter,
        company,
    }
    assert stack.outputs()["LetterOfAuthorizationId"] == letter

    properties = dict(stack.resolved_properties("LetterOfAuthorization"))
    properties["Tags"] = [{"Key": "team", "Value": "sms-platform"}]
    updated = stack.update("LetterOfAuthorization", properties)
    assert updated.status == "UPDATE_COMPLETE", updated.statuses
    assert sms_service.attachment(letter)["Tags"]["team"] == "sms-platform"

    deleted = stack.delete_all()
    assert deleted.status == "DELETE_COMPLETE", deleted.statuses
    assert [s.status for s in deleted.requests] == [SUCCESS]
    assert [a["RegistrationAttachmentId"] for a in sms_service.live_attachments()] == [company]
    sms_service.client().delete_registration_attachment(RegistrationAttachmentId=company)
