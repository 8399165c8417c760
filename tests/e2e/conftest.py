"""Session-scoped local servers for end-to-end tests, reset and checked around every test.

Fixtures:
- ``s3_server``: ``MotoS3Server`` (session; buckets persist, use unique names or ``reset()``).
- ``sms_service``: ``FakeSmsService`` backed by ``s3_server``; reset before each test and
  checked after it (``violations`` must be empty). ``sms_service_session`` is the raw one.
- ``response_receiver``: ``ResponseReceiver`` (HTTPS); reset before each test, ``problems``
  must be empty after it. ``response_receiver_session`` is the raw one.
- ``s3_client`` / ``sms_client``: real boto3 clients for the servers (region us-east-1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .fake_sms import FakeSmsService
from .servers import MotoS3Server, ResponseReceiver


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoS3Server]:
    """moto's S3 as a real HTTP server for the whole session."""
    with MotoS3Server() as server:
        yield server


@pytest.fixture(scope="session")
def sms_service_session(s3_server: MotoS3Server) -> Iterator[FakeSmsService]:
    """The fake SMS endpoint for the whole session (prefer ``sms_service``)."""
    with FakeSmsService(s3_endpoint_url=s3_server.url) as service:
        yield service


@pytest.fixture
def sms_service(sms_service_session: FakeSmsService) -> Iterator[FakeSmsService]:
    """The fake SMS endpoint, reset before the test; fails the test on model violations."""
    sms_service_session.reset()
    yield sms_service_session
    violations = sms_service_session.take_violations()
    sms_service_session.reset()
    assert violations == [], "requests or responses broke the service model"


@pytest.fixture(scope="session")
def response_receiver_session() -> Iterator[ResponseReceiver]:
    """The HTTPS ResponseURL receiver for the whole session (prefer ``response_receiver``)."""
    with ResponseReceiver() as receiver:
        yield receiver


@pytest.fixture
def response_receiver(
    response_receiver_session: ResponseReceiver,
) -> Iterator[ResponseReceiver]:
    """The ResponseURL receiver, reset before the test; fails the test on bad responses."""
    response_receiver_session.reset()
    yield response_receiver_session
    problems = list(response_receiver_session.problems)
    response_receiver_session.reset()
    assert problems == [], "custom-resource responses broke CloudFormation's rules"


@pytest.fixture
def s3_client(s3_server: MotoS3Server) -> Any:
    """A real boto3 S3 client for ``s3_server``."""
    return s3_server.client()


@pytest.fixture
def sms_client(sms_service: FakeSmsService) -> Any:
    """A real boto3 ``pinpoint-sms-voice-v2`` client for ``sms_service`` (default retries)."""
    return sms_service.client()
