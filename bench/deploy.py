"""Deploy latency and quota throughput, against the offline endpoints of the end-to-end suite.

The shipped handler asset runs as Lambda runs it (a fresh interpreter per invocation, only
boto3 beside the asset), through the CloudFormation harness, against moto's S3 server and the
protocol-level fake of pinpoint-sms-voice-v2. The fake adds a per-call latency L and finishes
uploads after T seconds; S3 calls are counted from moto's request recorder.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cdk_sms_registration import AttachmentSource, RegistrationAttachment
from tests.e2e.cloudformation import (
    CloudAssembly,
    LambdaRuntime,
    StackDeployment,
)
from tests.e2e.fake_cloudformation import FakeCloudFormation
from tests.e2e.fake_sms import FakeSmsService
from tests.e2e.servers import MotoS3Server, ResponseReceiver
from tests.pythons import make_venv, newest_python

from .measure import median

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "documents" / "sample-letter-of-authorization.pdf"
ENV = cdk.Environment(account="123456789012", region="us-east-1")
CREATE = "CreateRegistrationAttachment"
DELETE = "DeleteRegistrationAttachment"
DESCRIBE = "DescribeRegistrationAttachments"


def _boto3_requirement() -> str:
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if line.lower().startswith("boto3=="):
            return line.strip()
    raise RuntimeError("boto3 is not pinned in requirements-dev.txt")


def _assembly(outdir: Path, throughput_count: int) -> CloudAssembly:
    app = cdk.App(outdir=str(outdir))
    single = cdk.Stack(app, "BenchOne", env=ENV)
    RegistrationAttachment(single, "Doc", source=AttachmentSource.from_file(str(SAMPLE)))
    many = cdk.Stack(app, "BenchMany", env=ENV)
    for index in range(throughput_count):
        RegistrationAttachment(many, f"Doc{index}", source=AttachmentSource.from_file(str(SAMPLE)))
    app.synth()
    return CloudAssembly(outdir)


class _S3Recorder:
    """Counts S3 requests by HTTP method through moto's request recorder."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str) -> bytes:
        request = urllib.request.Request(f"{self.url}/moto-api/recorder/{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
        return body

    def start(self) -> None:
        self._call("POST", "reset-recording")
        self._call("POST", "start-recording")

    def handler_calls(self) -> Counter[str]:
        """HeadObject and ranged GetObject calls (the fake service's own reads are not ranged)."""
        calls: Counter[str] = Counter()
        for line in self._call("GET", "download-recording").decode().splitlines():
            if not line.strip():
                continue
            request = json.loads(line)
            if request["method"] == "HEAD":
                calls["HeadObject"] += 1
            elif request["method"] == "GET" and "Range" in request.get("headers", {}):
                calls["GetObject"] += 1
        return calls


@contextmanager
def _endpoints(workdir: Path) -> Iterator[tuple[MotoS3Server, FakeSmsService, ResponseReceiver]]:
    # moto writes its request recording to this file (else to moto_recording in the cwd).
    os.environ["MOTO_RECORDER_FILEPATH"] = str(workdir / "moto_recording")
    s3_server = MotoS3Server()
    s3_server.start()
    sms = FakeSmsService(s3_endpoint_url=s3_server.url)
    receiver = ResponseReceiver()
    sms.start()
    receiver.start()
    try:
        yield s3_server, sms, receiver
    finally:
        receiver.stop()
        sms.stop()
        s3_server.stop()


def _timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(
    workdir: Path,
    *,
    latency_seconds: float,
    upload_seconds: list[float],
    rounds: int,
    throughput_count: int,
    quota_per_second: float,
    parallelism: int,
) -> dict[str, Any]:
    """Create/Update/Delete latency per upload time T, then quota throughput."""
    assembly = _assembly(workdir / "cdk.out", throughput_count)
    python = make_venv(newest_python().path, workdir / "lambda-venv", _boto3_requirement())
    with _endpoints(workdir) as (s3_server, sms, receiver), FakeCloudFormation() as cfn:
        runtime = LambdaRuntime(
            python,
            {**sms.env(), **s3_server.env(), **receiver.env(), **cfn.env()},
            workdir / "runs",
        )
        recorder = _S3Recorder(s3_server.url)

        def deployment(stack: str) -> StackDeployment:
            return StackDeployment(
                assembly.stack(stack),
                runtime=runtime,
                receiver=receiver,
                s3=s3_server.client(),
                parallelism=parallelism,
                cloudformation=cfn,
            )

        latency = {}
        for upload in upload_seconds:
            sms.reset()
            sms.upload_seconds = upload
            sms.set_faults(latency_seconds=latency_seconds)
            samples: dict[str, list[float]] = {"create": [], "update": [], "delete": []}
            calls: list[dict[str, float]] = []
            for _ in range(rounds):
                stack = deployment("BenchOne")
                stack.provision()
                (logical_id,) = stack.stack.custom_resources()
                before = Counter(sms.calls)
                recorder.start()
                seconds, created = _timed(stack.create_all)
                assert created.status == "CREATE_COMPLETE", created.statuses
                s3_calls = recorder.handler_calls()
                sms_calls = Counter(sms.calls) - before
                samples["create"].append(seconds)
                calls.append(
                    {
                        "HeadObject": s3_calls["HeadObject"],
                        "GetObject": s3_calls["GetObject"],
                        CREATE: sms_calls[CREATE],
                        DESCRIBE: sms_calls[DESCRIBE],
                    }
                )
                properties = dict(stack.resolved_properties(logical_id))
                properties["Tags"] = [{"Key": "bench", "Value": str(time.time())}]
                seconds, updated = _timed(partial(stack.update, logical_id, properties))
                assert updated.status == "UPDATE_COMPLETE", updated.statuses
                samples["update"].append(seconds)
                seconds, deleted = _timed(stack.delete_all)
                assert deleted.status == "DELETE_COMPLETE", deleted.statuses
                samples["delete"].append(seconds)
            latency[upload] = {
                "create_seconds": median(samples["create"]),
                "create_overhead_seconds": median(samples["create"]) - upload,
                "update_tags_seconds": median(samples["update"]),
                "delete_seconds": median(samples["delete"]),
                "calls_per_create": {k: median([c[k] for c in calls]) for k in calls[0]},
            }

        sms.reset()
        sms.upload_seconds = 0.2
        sms.set_faults()
        sms.set_rate_limits({CREATE: quota_per_second, DELETE: quota_per_second})
        stack = deployment("BenchMany")
        stack.provision()
        create_seconds, created = _timed(stack.create_all)
        assert created.status == "CREATE_COMPLETE", created.statuses
        live = len(sms.live_attachments())
        delete_seconds, deleted = _timed(stack.delete_all)
        assert deleted.status == "DELETE_COMPLETE", deleted.statuses
        ideal = throughput_count / quota_per_second
        throughput = {
            "attachments": throughput_count,
            "quota_per_second": quota_per_second,
            "parallelism": parallelism,
            "live_after_create": live,
            "live_after_delete": len(sms.live_attachments()),
            "create_seconds": create_seconds,
            "delete_seconds": delete_seconds,
            "ideal_seconds": ideal,
            "create_vs_ideal": create_seconds / ideal,
            "delete_vs_ideal": delete_seconds / ideal,
            "throttled_creates": sms.calls[CREATE] - sms.successes[CREATE],
            "throttled_deletes": sms.calls[DELETE] - sms.successes[DELETE],
        }
    return {
        "latency_seconds": latency_seconds,
        "by_upload_seconds": latency,
        "throughput": throughput,
    }
