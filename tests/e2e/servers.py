"""Real local servers for end-to-end tests: moto's S3 and an HTTPS CloudFormation ResponseURL.

- ``MotoS3Server``: ``python -m moto.server`` in a subprocess on 127.0.0.1; ``url``, ``client()``,
  ``reset()``, ``env()``; ``make_s3_client(endpoint_url)`` builds a boto3 S3 client for it.
- ``S3IamProxy``: forwards to moto and evaluates IAM (``iam_eval``) on the handler's object
  reads.
- ``ResponseReceiver``: HTTPS server with a throwaway CA made at start-up. ``new_response_url()``
  hands out a unique pre-signed-looking URL, ``wait_for()`` / ``wait_for_one()`` return the parsed
  responses PUT there, ``problems`` lists every response that breaks CloudFormation's rules.
"""

from __future__ import annotations

import dataclasses
import datetime
import http.client
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import boto3
import botocore.config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .iam_eval import IamRegistry, parse_authorization, s3_object_request

LOCALHOST = "127.0.0.1"
DUMMY_ACCESS_KEY = "testing"
DUMMY_SECRET_KEY = "testing"
DEFAULT_REGION = "us-east-1"
MAX_RESPONSE_BYTES = 4096
MAX_PHYSICAL_ID_BYTES = 1024
RESPONSE_PATH_PREFIX = "/responses/"
REQUIRED_RESPONSE_FIELDS = (
    "Status",
    "PhysicalResourceId",
    "StackId",
    "RequestId",
    "LogicalResourceId",
)
RESPONSE_STATUSES = frozenset({"SUCCESS", "FAILED"})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def make_s3_client(endpoint_url: str, region: str = DEFAULT_REGION) -> Any:
    """A real boto3 S3 client for a local endpoint (dummy credentials, path-style)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


# --------------------------------------------------------------------------- moto S3


class MotoS3Server:
    """``python -m moto.server`` as a subprocess bound to 127.0.0.1."""

    def __init__(self, *, port: int | None = None, startup_timeout: float = 30.0) -> None:
        self.port = port
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir: str | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._process is None or self.port is None:
            raise RuntimeError("MotoS3Server is not started")
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        """The file that collects the server's output."""
        if self._log_dir is None:
            raise RuntimeError("MotoS3Server is not started")
        return Path(self._log_dir) / "moto.log"

    def start(self) -> None:
        """Start the subprocess and wait until it answers HTTP."""
        self.port = self.port or free_port()
        self._log_dir = tempfile.mkdtemp(prefix="moto-s3-")
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
        }
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", LOCALHOST, "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited early:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered, just not 2xx
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"moto server did not answer in {self.startup_timeout}s")

    def _log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "<no log>"

    def stop(self) -> None:
        """Terminate the subprocess and wait for it."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None

    def __enter__(self) -> MotoS3Server:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def client(self, region: str = DEFAULT_REGION) -> Any:
        """A real boto3 S3 client for this server."""
        return make_s3_client(self.url, region)

    def reset(self) -> None:
        """Drop every bucket and object (moto's reset API)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def env(self) -> dict[str, str]:
        """Environment that points boto3 S3 clients in a subprocess at this server."""
        return {"AWS_ENDPOINT_URL_S3": self.url}


# --------------------------------------------------------------------------- IAM in front of S3


class S3IamProxy:
    """A forwarding HTTP proxy in front of moto's S3 that evaluates IAM on object reads.

    Path-style ``GET``/``HEAD`` of an object signed with a key ``iam`` knows is evaluated as
    ``s3:GetObject`` (``s3:GetObjectVersion`` with ``versionId``) on
    ``arn:aws:s3:::bucket/key``; a denial answers 403 AccessDenied and, unless a test's own
    ``add_deny`` caused it, lands in ``violations``. Any other call of such a key is a
    violation too (the handler makes none). Everything else passes through unchanged.
    """

    def __init__(self, upstream_url: str, iam: IamRegistry) -> None:
        self.upstream = urlsplit(upstream_url)
        self.iam = iam
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> S3IamProxy:
        server = ThreadingHTTPServer((LOCALHOST, 0), _S3ProxyHandler)
        server.daemon_threads = True
        server.proxy = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, name="s3-iam-proxy", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "use S3IamProxy as a context manager"
        return f"http://{LOCALHOST}:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Environment that points boto3 S3 clients in a subprocess at this proxy."""
        return {"AWS_ENDPOINT_URL_S3": self.url}

    def take_violations(self) -> list[str]:
        with self._lock:
            taken, self.violations = self.violations, []
            return taken

    def refusal(self, method: str, target: str, authorization: str | None) -> str | None:
        """IAM's message when the request is denied, else None."""
        credentials = parse_authorization(authorization)
        if credentials is None or self.iam.identity(credentials[0]) is None:
            return None
        split = urlsplit(target)
        request = s3_object_request(method, split.path, parse_qs(split.query))
        if request is None:
            with self._lock:
                self.violations.append(f"S3 {method} {target}: a call IAM is not evaluated for")
            return None
        decision = self.iam.authorize(credentials[0], request.action, lambda _identity: [request])
        if decision is None or decision.allowed:
            return None
        if decision.denied_by != "boundary":
            with self._lock:
                self.violations.append(f"S3 {method} {target}: IAM denied: {decision.message}")
        return decision.message

    def forward(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on to moto: (status, headers, body)."""
        connection = http.client.HTTPConnection(
            self.upstream.hostname or LOCALHOST, self.upstream.port, timeout=60
        )
        try:
            connection.request(method, target, body=body or None, headers=dict(headers))
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            connection.close()


class _S3ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    _HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})

    def _relay(self) -> None:
        proxy: S3IamProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        message = proxy.refusal(self.command, self.path, self.headers.get("Authorization"))
        if message is not None:
            error = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{escape(message)}</Message><RequestId>{uuid.uuid4().hex}</RequestId>"
                "</Error>"
            ).encode()
            self._send(403, [("Content-Type", "application/xml")], error, len(error))
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self._HOP_BY_HOP}
        if body:
            headers["Content-Length"] = str(len(body))
        status, answer_headers, data = proxy.forward(self.command, self.path, headers, body)
        # A HEAD answer has no body but keeps the Content-Length of the object.
        declared = dict((k.lower(), v) for k, v in answer_headers).get("content-length")
        size = int(declared) if self.command == "HEAD" and declared else len(data)
        kept = [(k, v) for k, v in answer_headers if k.lower() not in self._HOP_BY_HOP]
        self._send(status, kept, data, size)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, size: int) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _relay

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


# --------------------------------------------------------------------------- certificates


@dataclasses.dataclass(frozen=True)
class CertificateFiles:
    """PEM files of a throwaway CA and a server certificate for 127.0.0.1/localhost."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_test_certificates(directory: Path) -> CertificateFiles:
    """Write a fresh CA and a CA-signed server certificate (SAN 127.0.0.1, localhost)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e2e throwaway test CA")])
    ca_cert = (
        _cert_builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOCALHOST))]
    )
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    server_cert = (
        _cert_builder(server_name, ca_name, server_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(san, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certs = CertificateFiles(
        ca_cert=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server-key.pem",
    )
    certs.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    certs.server_key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


def _cert_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --------------------------------------------------------------------------- response receiver


@dataclasses.dataclass(frozen=True)
class RecordedPut:
    """One request received by the ResponseReceiver."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def url_path(self) -> str:
        """The path without the query string."""
        return urlsplit(self.path).path

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class ResponseReceiver:
    """HTTPS stand-in for CloudFormation's pre-signed S3 ResponseURL."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.recorded: list[RecordedPut] = []
        self.problems: list[str] = []
        self.tls_errors: list[str] = []
        self.status_code = 200
        self._expected: dict[str, dict[str, str]] = {}
        self._dir: str | None = None
        self._certs: CertificateFiles | None = None
        self._server: _HttpsServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Make the CA, start serving HTTPS on an ephemeral port of 127.0.0.1."""
        self._dir = tempfile.mkdtemp(prefix="cfn-receiver-")
        self._certs = make_test_certificates(Path(self._dir))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._certs.server_cert, self._certs.server_key)
        server = _HttpsServer((LOCALHOST, 0), _ReceiverHandler)
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="cfn-receiver", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and delete the certificate files."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> ResponseReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("ResponseReceiver is not started")
        return f"https://{LOCALHOST}:{self._server.server_address[1]}"

    @property
    def ca_bundle_path(self) -> str:
        """PEM of the throwaway CA (give it to a subprocess as ``SSL_CERT_FILE``)."""
        if self._certs is None:
            raise RuntimeError("ResponseReceiver is not started")
        return str(self._certs.ca_cert)

    def env(self) -> dict[str, str]:
        """Environment that makes a subprocess trust this receiver."""
        return {"SSL_CERT_FILE": self.ca_bundle_path}

    def ssl_context(self) -> ssl.SSLContext:
        """A default client context that trusts the throwaway CA."""
        return ssl.create_default_context(cafile=self.ca_bundle_path)

    # ----------------------------------------------------------------- test API

    def new_response_url(self, expected: Mapping[str, str] | None = None) -> str:
        """A fresh ResponseURL; ``expected`` fields (e.g. RequestId) are checked on arrival."""
        path = f"{RESPONSE_PATH_PREFIX}{uuid.uuid4()}"
        with self._lock:
            self._expected[path] = dict(expected or {})
        return f"{self.url}{path}?X-Amz-Signature=dummy"

    def reset(self) -> None:
        """Forget recorded requests, problems, TLS errors and issued URLs; answer 200 again."""
        with self._lock:
            self.recorded.clear()
            self.problems.clear()
            self.tls_errors.clear()
            self._expected.clear()
            self.status_code = 200

    def responses_for(self, response_url: str) -> list[RecordedPut]:
        """The PUTs received so far for ``response_url`` (no waiting)."""
        path = urlsplit(response_url).path
        with self._lock:
            return [r for r in self.recorded if r.url_path == path and r.method == "PUT"]

    def wait_for(
        self, response_url: str, *, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` responses arrived for ``response_url``; return them parsed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(puts := self.responses_for(response_url)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(puts)}/{count} responses for {response_url} after {timeout}s"
                        f" (TLS errors: {self.tls_errors})"
                    )
                self._lock.wait(remaining)
        return [_parsed_or_raw(put) for put in puts]

    def wait_for_one(self, response_url: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the first response for ``response_url`` and return it parsed."""
        return self.wait_for(response_url, count=1, timeout=timeout)[0]

    # ----------------------------------------------------------------- server side

    def _record(self, put: RecordedPut) -> int:
        with self._lock:
            self.recorded.append(put)
            expected = self._expected.get(put.url_path)
            problems = self._check(put, expected)
            self.problems.extend(f"{put.method} {put.url_path}: {p}" for p in problems)
            self._lock.notify_all()
            return self.status_code if put.method == "PUT" else 405

    def _check(self, put: RecordedPut, expected: dict[str, str] | None) -> list[str]:
        if put.method != "PUT":
            return [f"method {put.method}, CloudFormation expects PUT"]
        problems: list[str] = []
        if expected is None:
            problems.append("not a URL handed out by new_response_url()")
        if "X-Amz-Signature=dummy" not in urlsplit(put.path).query:
            problems.append("the pre-signed query string was dropped")
        if len(put.body) > MAX_RESPONSE_BYTES:
            problems.append(f"body is {len(put.body)} bytes, over {MAX_RESPONSE_BYTES}")
        try:
            body = json.loads(put.body)
        except ValueError as exc:
            return [*problems, f"body is not JSON: {exc}"]
        if not isinstance(body, dict):
            return [*problems, "body is not a JSON object"]
        return problems + _check_response_fields(body, expected or {})


def _parsed_or_raw(put: RecordedPut) -> dict[str, Any]:
    try:
        parsed = put.json()
    except ValueError:
        return {"_raw": put.body.decode(errors="replace")}
    return parsed if isinstance(parsed, dict) else {"_raw": parsed}


def _check_response_fields(body: dict[str, Any], expected: Mapping[str, str]) -> list[str]:
    problems = [f"missing {field}" for field in REQUIRED_RESPONSE_FIELDS if field not in body]
    status = body.get("Status")
    if status not in RESPONSE_STATUSES:
        problems.append(f"Status {status!r} is not SUCCESS or FAILED")
    if status == "FAILED" and not body.get("Reason"):
        problems.append("FAILED without a Reason")
    physical_id = body.get("PhysicalResourceId")
    if "PhysicalResourceId" in body:
        if not isinstance(physical_id, str) or not physical_id:
            problems.append(f"PhysicalResourceId {physical_id!r} is not a non-empty string")
        elif len(physical_id.encode()) > MAX_PHYSICAL_ID_BYTES:
            problems.append(f"PhysicalResourceId is over {MAX_PHYSICAL_ID_BYTES} bytes")
    if "Data" in body and not isinstance(body["Data"], dict):
        problems.append("Data is not a JSON object")
    for field, value in expected.items():
        if body.get(field) != value:
            problems.append(f"{field} is {body.get(field)!r}, expected {value!r}")
    return problems


class _HttpsServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    receiver: ResponseReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        """TLS failures are kept in ``receiver.tls_errors``; others print as usual."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)


class _ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpsServer

    def setup(self) -> None:
        """Do the TLS handshake in the request thread, not in the accept loop."""
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            with self.server.receiver._lock:
                self.server.receiver.tls_errors.append(repr(exc))
            raise
        super().setup()

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        put = RecordedPut(
            method=self.command,
            path=self.path,
            headers=dict(self.headers.items()),
            body=body,
            received_at=time.time(),
        )
        status = self.server.receiver._record(put)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:
        self._record()

    def do_POST(self) -> None:
        self._record()

    def do_GET(self) -> None:
        self._record()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
