"""Tests of the end-to-end infrastructure itself: the fake SMS endpoint and the local servers."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import botocore.config
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .fake_sms import ATTACHMENT_ID_RE, CONTENT_TYPE, TARGET_PREFIX, FakeSmsService
from .servers import DEFAULT_REGION, MotoS3Server, ResponseReceiver

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
CREATE = "CreateRegistrationAttachment"
DELETE = "DeleteRegistrationAttachment"
NO_RETRIES = botocore.config.Config(retries={"total_max_attempts": 1})
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def client(sms_service: FakeSmsService) -> Any:
    """SMS client without retries, so injected errors surface at once.

    New attachments are visible at once here; the visibility delay has its own test.
    """
    sms_service.visibility_seconds = 0
    return sms_service.client(config=NO_RETRIES)


def test_new_attachment_is_invisible_for_a_moment(sms_service: FakeSmsService, client: Any) -> None:
    sms_service.visibility_seconds = 2.0  # far above an in-process round trip, even loaded
    sms_service.upload_seconds = 0
    created = client.create_registration_attachment(AttachmentBody=PNG_BYTES)
    attachment_id = created["RegistrationAttachmentId"]
    with pytest.raises(ClientError) as exc_info:
        client.describe_registration_attachments(RegistrationAttachmentIds=[attachment_id])
    assert _error_code(exc_info) == "ResourceNotFoundException"
    time.sleep(2.1)
    assert _describe_status(client, attachment_id) == "UPLOAD_COMPLETE"


@pytest.mark.parametrize("strict", [True, False])
def test_ids_not_of_the_service_shape(
    sms_service: FakeSmsService, client: Any, strict: bool
) -> None:
    """A placeholder such as CloudFormation makes up: ValidationException, or not found."""
    sms_service.strict_ids = strict
    placeholder = "Stack-LetterOfAuthorization52F6-1XK3J9QZ7M2PA"
    for call in (
        lambda: client.delete_registration_attachment(RegistrationAttachmentId=placeholder),
        lambda: client.describe_registration_attachments(RegistrationAttachmentIds=[placeholder]),
    ):
        with pytest.raises(ClientError) as exc_info:
            call()
        expected = "ValidationException" if strict else "ResourceNotFoundException"
        assert _error_code(exc_info) == expected


@pytest.fixture
def bucket(s3_client: Any) -> str:
    """A fresh bucket holding ``letter.pdf`` and ``notes.txt``."""
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    s3_client.put_object(Bucket=name, Key="letter.pdf", Body=PDF)
    s3_client.put_object(Bucket=name, Key="notes.txt", Body=b"plain text, not a PDF")
    return name


def _error_code(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc_info.value.response["Error"]["Code"])


def _describe_status(client: Any, attachment_id: str) -> str:
    response = client.describe_registration_attachments(RegistrationAttachmentIds=[attachment_id])
    return str(response["RegistrationAttachments"][0]["AttachmentStatus"])


def test_create_from_s3_pdf_completes_after_upload_seconds(
    sms_service: FakeSmsService, client: Any, bucket: str
) -> None:
    sms_service.upload_seconds = 2.0  # far above an in-process round trip, even loaded
    created = client.create_registration_attachment(AttachmentUrl=f"s3://{bucket}/letter.pdf")
    attachment_id = created["RegistrationAttachmentId"]
    assert ATTACHMENT_ID_RE.fullmatch(attachment_id)
    assert created["RegistrationAttachmentArn"] == (
        f"arn:aws:sms-voice:us-east-1:123456789012:registration-attachment/{attachment_id}"
    )
    assert created["AttachmentStatus"] == "UPLOAD_IN_PROGRESS"
    assert _describe_status(client, attachment_id) == "UPLOAD_IN_PROGRESS"
    time.sleep(2.05)
    described = client.describe_registration_attachments(
        RegistrationAttachmentIds=[created["RegistrationAttachmentArn"]]
    )["RegistrationAttachments"][0]
    assert described["AttachmentStatus"] == "UPLOAD_COMPLETE"
    assert described["AttachmentUrl"] == f"s3://{bucket}/letter.pdf"
    assert described["CreatedTimestamp"] == created["CreatedTimestamp"]
    snapshot = sms_service.attachment(attachment_id)
    assert snapshot is not None and snapshot["SizeBytes"] == len(PDF)


def test_create_from_body_with_zero_upload_seconds_is_complete_at_once(
    sms_service: FakeSmsService, client: Any
) -> None:
    sms_service.upload_seconds = 0
    created = client.create_registration_attachment(AttachmentBody=PNG)
    assert created["AttachmentStatus"] == "UPLOAD_COMPLETE"


def test_client_token_is_idempotent_even_concurrently(
    sms_service: FakeSmsService, bucket: str
) -> None:
    clients = [sms_service.client() for _ in range(20)]
    results: list[str] = []

    def create(client: Any) -> None:
        response = client.create_registration_attachment(
            AttachmentUrl=f"s3://{bucket}/letter.pdf", ClientToken="stable-token-1"
        )
        results.append(response["RegistrationAttachmentId"])

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20 and len(set(results)) == 1
    assert len(sms_service.live_attachments()) == 1
    assert sms_service.successes[CREATE] == 20


def test_without_client_token_botocore_creates_duplicates(client: Any, bucket: str) -> None:
    first = client.create_registration_attachment(AttachmentUrl=f"s3://{bucket}/letter.pdf")
    second = client.create_registration_attachment(AttachmentUrl=f"s3://{bucket}/letter.pdf")
    assert first["RegistrationAttachmentId"] != second["RegistrationAttachmentId"]


def test_not_a_supported_file_fails_upload(
    sms_service: FakeSmsService, client: Any, bucket: str
) -> None:
    sms_service.upload_seconds = 0
    created = client.create_registration_attachment(AttachmentUrl=f"s3://{bucket}/notes.txt")
    described = client.describe_registration_attachments(
        RegistrationAttachmentIds=[created["RegistrationAttachmentId"]]
    )["RegistrationAttachments"][0]
    assert described["AttachmentStatus"] == "UPLOAD_FAILED"
    assert described["AttachmentUploadErrorReason"] == "INTERNAL_ERROR"


def test_too_large_and_forced_failures_fail_upload(
    sms_service: FakeSmsService, client: Any
) -> None:
    sms_service.upload_seconds = 0
    sms_service.max_size_bytes = 10
    too_big = client.create_registration_attachment(AttachmentBody=PDF)
    assert too_big["AttachmentStatus"] == "UPLOAD_FAILED"
    sms_service.max_size_bytes = 1024
    sms_service.set_faults(fail_uploads=True)
    forced = client.create_registration_attachment(AttachmentBody=PDF)
    assert forced["AttachmentStatus"] == "UPLOAD_FAILED"


def test_missing_object_url_rules_and_both_sources_are_validation_errors(
    sms_service: FakeSmsService, client: Any, bucket: str
) -> None:
    for kwargs in (
        {"AttachmentUrl": f"s3://{bucket}/missing.pdf"},
        {"AttachmentUrl": "s3://no-such-bucket-e2e/letter.pdf"},
        {"AttachmentUrl": f"https://{bucket}.s3.amazonaws.com/letter.pdf"},
        {"AttachmentUrl": f"s3://{bucket}/letter.pdf", "AttachmentBody": PDF},
        {},
    ):
        with pytest.raises(ClientError) as exc_info:
            client.create_registration_attachment(**kwargs)
        assert _error_code(exc_info) == "ValidationException", kwargs
    assert sms_service.live_attachments() == []
    assert sms_service.violations == []


def test_tags_roundtrip_and_limits(client: Any) -> None:
    created = client.create_registration_attachment(
        AttachmentBody=PDF, Tags=[{"Key": "team", "Value": "sms"}]
    )
    arn = created["RegistrationAttachmentArn"]
    assert created["Tags"] == [{"Key": "team", "Value": "sms"}]
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    listed = client.list_tags_for_resource(ResourceArn=arn)
    assert listed["ResourceArn"] == arn
    assert listed["Tags"] == [{"Key": "env", "Value": "test"}]
    with pytest.raises(ClientError) as exc_info:
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert _error_code(exc_info) == "ValidationException"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(200)]
    with pytest.raises(ClientError) as exc_info:
        client.tag_resource(ResourceArn=arn, Tags=many)
    assert _error_code(exc_info) == "ServiceQuotaExceededException"


def test_attachments_are_regional(sms_service: FakeSmsService, client: Any) -> None:
    body = PDF + b"\n" * 100
    created = client.create_registration_attachment(AttachmentBody=body)
    other = sms_service.client(region="eu-west-1", config=NO_RETRIES)
    with pytest.raises(ClientError) as exc_info:
        other.describe_registration_attachments(
            RegistrationAttachmentIds=[created["RegistrationAttachmentId"]]
        )
    assert _error_code(exc_info) == "ResourceNotFoundException"
    assert other.describe_registration_attachments()["RegistrationAttachments"] == []
    assert sms_service.call_log[-1].region == "eu-west-1"
    logged = sms_service.call_log[0].request["AttachmentBody"]
    assert logged == f"<{len(base64.b64encode(body))} base64 characters>"


def test_delete_then_describe_is_not_found(sms_service: FakeSmsService, client: Any) -> None:
    created = client.create_registration_attachment(AttachmentBody=PDF)
    arn = created["RegistrationAttachmentArn"]
    deleted = client.delete_registration_attachment(RegistrationAttachmentId=arn)
    assert deleted["AttachmentStatus"] == "DELETED"
    for call, kwargs in (
        (client.describe_registration_attachments, {"RegistrationAttachmentIds": [arn]}),
        (client.delete_registration_attachment, {"RegistrationAttachmentId": arn}),
        (client.list_tags_for_resource, {"ResourceArn": arn}),
    ):
        with pytest.raises(ClientError) as exc_info:
            call(**kwargs)
        assert _error_code(exc_info) == "ResourceNotFoundException"
    assert sms_service.live_attachments() == []
    sms_service.deleted_visibility = "status_deleted"
    assert _describe_status(client, created["RegistrationAttachmentId"]) == "DELETED"


def test_describe_lists_filters_and_paginates(sms_service: FakeSmsService, client: Any) -> None:
    sms_service.upload_seconds = 0
    ids = [client.create_registration_attachment(AttachmentBody=PDF) for _ in range(3)]
    client.create_registration_attachment(AttachmentBody=base64.b64decode("aGVsbG8="))
    complete = [r["RegistrationAttachmentId"] for r in ids]
    seen: list[str] = []
    kwargs: dict[str, Any] = {
        "Filters": [{"Name": "attachment-status", "Values": ["UPLOAD_COMPLETE"]}],
        "MaxResults": 2,
    }
    while True:
        page = client.describe_registration_attachments(**kwargs)
        seen += [a["RegistrationAttachmentId"] for a in page["RegistrationAttachments"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == complete


def test_conflict_switches(sms_service: FakeSmsService, client: Any) -> None:
    first = client.create_registration_attachment(AttachmentBody=PDF)["RegistrationAttachmentId"]
    second = client.create_registration_attachment(AttachmentBody=PDF)["RegistrationAttachmentId"]
    sms_service.set_in_use(first)
    with pytest.raises(ClientError) as exc_info:
        client.delete_registration_attachment(RegistrationAttachmentId=first)
    assert _error_code(exc_info) == "ConflictException"
    sms_service.set_faults(conflict_on_delete=True)
    with pytest.raises(ClientError) as exc_info:
        client.delete_registration_attachment(RegistrationAttachmentId=second)
    assert _error_code(exc_info) == "ConflictException"
    sms_service.set_faults()
    client.delete_registration_attachment(RegistrationAttachmentId=second)
    assert [a["RegistrationAttachmentId"] for a in sms_service.live_attachments()] == [first]


def test_injected_throttling_and_internal_errors(sms_service: FakeSmsService, client: Any) -> None:
    sms_service.set_faults(throttle_rate=1.0)
    with pytest.raises(ClientError) as exc_info:
        client.create_registration_attachment(AttachmentBody=PDF)
    assert _error_code(exc_info) == "ThrottlingException"
    sms_service.set_faults(internal_error_rate={"DescribeRegistrationAttachments": 1.0})
    with pytest.raises(ClientError) as exc_info:
        client.describe_registration_attachments()
    assert _error_code(exc_info) == "InternalServerException"
    client.create_registration_attachment(AttachmentBody=PDF)
    assert sms_service.calls[CREATE] == 2 and sms_service.successes[CREATE] == 1


def test_latency_is_added(sms_service: FakeSmsService, client: Any) -> None:
    sms_service.set_faults(latency_seconds=0.2)
    started = time.monotonic()
    client.describe_registration_attachments()
    assert time.monotonic() - started >= 0.2


def test_rate_limit_is_enforced(sms_service: FakeSmsService, client: Any) -> None:
    sms_service.set_rate_limits({CREATE: 1.0})  # a 1 s window: a loaded machine stays inside
    client.create_registration_attachment(AttachmentBody=PDF)
    with pytest.raises(ClientError) as exc_info:
        client.create_registration_attachment(AttachmentBody=PDF)
    assert _error_code(exc_info) == "ThrottlingException"
    time.sleep(1.1)
    client.create_registration_attachment(AttachmentBody=PDF)
    assert sms_service.calls[CREATE] == 3 and sms_service.successes[CREATE] == 2


def test_default_retries_ride_out_the_rate_limit(sms_service: FakeSmsService) -> None:
    sms_service.set_rate_limits({DELETE: 5.0})
    sms_service.visibility_seconds = 0
    client = sms_service.client(
        config=botocore.config.Config(retries={"mode": "legacy", "max_attempts": 10})
    )
    ids = [client.create_registration_attachment(AttachmentBody=PDF) for _ in range(3)]
    for created in ids:
        client.delete_registration_attachment(
            RegistrationAttachmentId=created["RegistrationAttachmentId"]
        )
    assert sms_service.successes[DELETE] == 3 and sms_service.live_attachments() == []


def _signed_raw_call(
    service: FakeSmsService, operation: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=f"{service.url}/",
        data=data,
        headers={"X-Amz-Target": f"{TARGET_PREFIX}{operation}", "Content-Type": CONTENT_TYPE},
    )
    SigV4Auth(Credentials("testing", "testing"), "sms-voice", DEFAULT_REGION).add_auth(request)
    raw = urllib.request.Request(
        f"{service.url}/", data=data, headers=dict(request.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_model_violations_are_recorded(sms_service: FakeSmsService) -> None:
    status, body = _signed_raw_call(
        sms_service, CREATE, {"AttachmentBody": base64.b64encode(PDF).decode(), "Bogus": 1}
    )
    assert (status, body["__type"]) == (400, "ValidationException")
    _signed_raw_call(sms_service, CREATE, {"AttachmentBody": "eA==", "ClientToken": "x" * 65})
    _signed_raw_call(
        sms_service, "DescribeRegistrationAttachments", {"RegistrationAttachmentIds": ["a"] * 6}
    )
    status, body = _signed_raw_call(sms_service, "SendTextMessage", {})
    assert body["__type"] == "UnknownOperationException"
    violations = sms_service.take_violations()
    assert any("unknown member 'Bogus'" in v for v in violations)
    assert any("ClientToken: length 65 is above the maximum 64" in v for v in violations)
    assert any("item count 6 is above the maximum 5" in v for v in violations)
    assert any(v.startswith("SendTextMessage:") for v in violations)
    assert sms_service.live_attachments() == []


def test_unsigned_request_is_a_violation(sms_service: FakeSmsService) -> None:
    raw = urllib.request.Request(
        f"{sms_service.url}/",
        data=b"{}",
        headers={
            "X-Amz-Target": f"{TARGET_PREFIX}ListTagsForResource",
            "Content-Type": CONTENT_TYPE,
        },
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as exc_info:
        urllib.request.urlopen(raw, timeout=10)
    assert exc_info.value.code == 403
    assert sms_service.take_violations() == [
        "ListTagsForResource: request has no SigV4 Authorization header"
    ]


def test_reset_clears_everything(sms_service: FakeSmsService, client: Any) -> None:
    client.create_registration_attachment(AttachmentBody=PDF)
    sms_service.set_faults(throttle_rate=1.0)
    sms_service.reset()
    assert sms_service.live_attachments() == [] and not sms_service.calls
    client.describe_registration_attachments()


def test_moto_server_is_real_s3(s3_server: MotoS3Server, s3_client: Any) -> None:
    assert s3_server.url.startswith("http://127.0.0.1:")
    assert s3_server.env() == {"AWS_ENDPOINT_URL_S3": s3_server.url}
    s3_client.create_bucket(Bucket="e2e-moto-check")
    assert "Buckets" in s3_client.list_buckets()


def _put(receiver: ResponseReceiver, url: str, body: bytes) -> int:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection(
        parts.netloc, context=receiver.ssl_context(), timeout=10
    )
    connection.request(
        "PUT",
        f"{parts.path}?{parts.query}",
        body=body,
        headers={"content-type": "", "content-length": str(len(body))},
    )
    status = connection.getresponse().status
    connection.close()
    return status


def _cfn_response(**overrides: Any) -> dict[str, Any]:
    return {
        "Status": "SUCCESS",
        "PhysicalResourceId": "ra-0123",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Attachment",
        "Data": {},
        **overrides,
    }


def test_response_receiver_accepts_https_put(response_receiver: ResponseReceiver) -> None:
    url = response_receiver.new_response_url({"RequestId": "req-1"})
    assert url.startswith("https://127.0.0.1:") and "X-Amz-Signature=dummy" in url
    assert _put(response_receiver, url, json.dumps(_cfn_response()).encode()) == 200
    assert response_receiver.wait_for_one(url, timeout=5)["Status"] == "SUCCESS"
    assert response_receiver.responses_for(url)[0].headers["content-type"] == ""


def test_response_receiver_flags_bad_responses(response_receiver: ResponseReceiver) -> None:
    url = response_receiver.new_response_url({"RequestId": "req-1"})
    big = _cfn_response(Data={"Blob": "x" * 4100})
    _put(response_receiver, url, json.dumps(big).encode())
    _put(response_receiver, url, json.dumps(_cfn_response(Status="FAILED")).encode())
    _put(response_receiver, url, json.dumps(_cfn_response(RequestId="other")).encode())
    assert len(response_receiver.wait_for(url, count=3, timeout=5)) == 3
    problems = list(response_receiver.problems)
    response_receiver.problems.clear()
    assert len(problems) == 3
    assert "over 4096" in problems[0]
    assert "FAILED without a Reason" in problems[1]
    assert "RequestId is 'other'" in problems[2]


def test_response_receiver_rejects_untrusted_clients(response_receiver: ResponseReceiver) -> None:
    url = response_receiver.new_response_url()
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection(parts.netloc, timeout=5)
    with pytest.raises(OSError):
        connection.request("PUT", parts.path, body=b"{}")
    connection.close()
    with pytest.raises(TimeoutError):
        response_receiver.wait_for(url, timeout=0.2)
