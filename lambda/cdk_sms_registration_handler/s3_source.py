"""Preflight of the S3 object before the service is asked to read it.

The service fails an upload late and says only INTERNAL_ERROR. Checking the object first
turns a missing, unreadable, oversized or mistyped document into a clear FAILED reason, before
anything is created that would then have to be cleaned up.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .document_rules import (
    SNIFF_BYTES,
    AttachmentValidationError,
    DocumentFacts,
    check_document,
    check_size,
    type_for_name,
)
from .resource_contract import AttachmentSpec
from .retries import Deadline, call_with_retries

_MISSING_CODES = {"404", "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchVersion"}
_DENIED_CODES = {"403", "AccessDenied", "Forbidden", "AllAccessDisabled"}


class SourceProblem(AttachmentValidationError):
    """The S3 object cannot become a registration attachment."""


def _explain(error: ClientError, spec: AttachmentSpec) -> SourceProblem:
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in _MISSING_CODES:
        return SourceProblem(f"{spec.display_name}: object not found")
    if code in _DENIED_CODES:
        # Without s3:ListBucket, S3 answers 403 for a missing key too.
        return SourceProblem(
            f"{spec.display_name}: object missing or access denied (check the key; the handler "
            "role needs s3:GetObject, and kms:Decrypt for an SSE-KMS bucket)"
        )
    return SourceProblem(f"{spec.display_name}: cannot be read ({code or error})")


def check_source(s3: Any, spec: AttachmentSpec, deadline: Deadline) -> DocumentFacts:
    """Check that the object exists, is readable, and is a document within the size limit.

    HeadObject answers existence, access and size; a ranged GetObject of the first bytes
    answers the type. Nothing larger than ``SNIFF_BYTES`` is downloaded.
    """
    version_args = {"VersionId": spec.version_id} if spec.version_id else {}
    try:
        head = call_with_retries(
            lambda: s3.head_object(Bucket=spec.bucket, Key=spec.key, **version_args),
            deadline,
            what="s3:HeadObject",
        )
        if spec.version_id:
            _require_current_version(s3, spec, deadline)
        type_for_name(spec.url)
        check_size(spec.url, int(head["ContentLength"]), spec.max_size_bytes)
        first_bytes = call_with_retries(
            lambda: s3.get_object(
                Bucket=spec.bucket, Key=spec.key, Range=f"bytes=0-{SNIFF_BYTES - 1}", **version_args
            )["Body"].read(),
            deadline,
            what="s3:GetObject",
        )
    except ClientError as error:
        raise _explain(error, spec) from error
    facts = DocumentFacts(name=spec.url, size_bytes=int(head["ContentLength"]), head=first_bytes)
    check_document(facts, spec.max_size_bytes)
    return facts


def _require_current_version(s3: Any, spec: AttachmentSpec, deadline: Deadline) -> None:
    """The service reads s3://bucket/key, the current version: refuse to upload another one."""
    current = call_with_retries(
        lambda: s3.head_object(Bucket=spec.bucket, Key=spec.key), deadline, what="s3:HeadObject"
    ).get("VersionId")
    if current != spec.version_id:
        raise SourceProblem(
            f"{spec.display_name}: not the current version ({current} is); the service reads "
            "the current version of s3://bucket/key"
        )


def read_document(s3: Any, spec: AttachmentSpec, deadline: Deadline, max_bytes: int) -> bytes:
    """The whole object, at most ``max_bytes`` (a brand profile sends the body itself).

    Checked first with ``check_source``; read whole into memory, one document at a time.
    """
    version_args = {"VersionId": spec.version_id} if spec.version_id else {}
    try:
        body: bytes = call_with_retries(
            lambda: s3.get_object(Bucket=spec.bucket, Key=spec.key, **version_args)["Body"].read(
                max_bytes + 1
            ),
            deadline,
            what="s3:GetObject",
        )
    except ClientError as error:
        raise _explain(error, spec) from error
    check_size(spec.url, len(body), max_bytes)
    return body
