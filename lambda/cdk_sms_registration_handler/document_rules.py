"""What a registration attachment document may be: type, extension and size.

The one place these rules live. The CDK construct applies them to local files at synth time,
the handler applies them to S3 objects before it calls the service, and the preflight CLI
applies them in users' pipelines.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

#: The service's size limit for one document. The API reference says 5 MB today; earlier pages
#: said 500 KB and 1 MiB, so it is a setting (``max_size_bytes``), not a fixed rule.
DEFAULT_MAX_SIZE_BYTES = 5 * 1024 * 1024

#: How many leading bytes are enough to tell the document type.
SNIFF_BYTES = 1024


class AttachmentValidationError(ValueError):
    """A document, a property or a setting breaks a rule of registration attachments."""


class DocumentType(enum.Enum):
    """The document types the service accepts."""

    PDF = "PDF"
    JPEG = "JPEG"
    PNG = "PNG"


EXTENSION_TYPES: dict[str, DocumentType] = {
    ".pdf": DocumentType.PDF,
    ".jpg": DocumentType.JPEG,
    ".jpeg": DocumentType.JPEG,
    ".png": DocumentType.PNG,
}

ALLOWED_EXTENSIONS_TEXT = ".pdf, .jpg, .jpeg or .png"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PDF_HEADER = b"%PDF-"


@dataclass(frozen=True)
class DocumentFacts:
    """What is known about a document before it is uploaded."""

    name: str
    size_bytes: int
    head: bytes


def type_for_name(name: str) -> DocumentType:
    """The document type a file name promises by its extension (any case)."""
    extension = os.path.splitext(name)[1].lower()
    try:
        return EXTENSION_TYPES[extension]
    except KeyError:
        shown = extension or "no extension"
        raise AttachmentValidationError(
            f"{name}: has {shown}; registration attachments must be {ALLOWED_EXTENSIONS_TEXT}"
        ) from None


def sniff_type(head: bytes) -> DocumentType | None:
    """The document type the leading bytes show, or None when they show none of the three.

    PDF readers accept the ``%PDF-`` header anywhere in the first 1024 bytes; PNG and JPEG
    signatures must open the file.
    """
    if head.startswith(_PNG_SIGNATURE):
        return DocumentType.PNG
    if head.startswith(_JPEG_SIGNATURE):
        return DocumentType.JPEG
    if _PDF_HEADER in head[:SNIFF_BYTES]:
        return DocumentType.PDF
    return None


def check_max_size_setting(max_size_bytes: int) -> int:
    """Reject a size limit that cannot be right."""
    if isinstance(max_size_bytes, bool) or not isinstance(max_size_bytes, int):
        raise AttachmentValidationError(
            f"max_size_bytes: {max_size_bytes!r} is not a whole number of bytes"
        )
    if max_size_bytes < 1:
        raise AttachmentValidationError(
            f"max_size_bytes: {max_size_bytes} must be a positive number of bytes"
        )
    return max_size_bytes


def check_not_empty(name: str, size_bytes: int) -> None:
    """Reject an empty document (the one message for it, at synth, in ``check`` and on deploy)."""
    if size_bytes == 0:
        raise AttachmentValidationError(
            f"{name}: is empty; a registration attachment needs content"
        )


def check_size(name: str, size_bytes: int, max_size_bytes: int) -> None:
    """Reject an empty document or one over the size limit."""
    check_not_empty(name, size_bytes)
    if size_bytes <= max_size_bytes:
        return
    message = f"{name}: is {size_bytes} bytes, over the {max_size_bytes}-byte limit"
    if max_size_bytes < DEFAULT_MAX_SIZE_BYTES:
        raise AttachmentValidationError(
            f"{message} set by max_size_bytes (the service itself accepts up to 5 MB, "
            f"{DEFAULT_MAX_SIZE_BYTES} bytes)"
        )
    raise AttachmentValidationError(
        f"{message}; 5 MB ({DEFAULT_MAX_SIZE_BYTES} bytes) is the service's limit, so compress "
        "the document (raise max_size_bytes only once the service accepts larger documents)"
    )


def check_content(name: str, head: bytes) -> DocumentType:
    """Reject content that is not what the extension says; return the document type."""
    promised = type_for_name(name)
    found = sniff_type(head)
    if found is None:
        raise AttachmentValidationError(
            f"{name}: content is not a PDF, JPEG or PNG (checked by its leading bytes), "
            f"although the extension says {promised.value}"
        )
    if found is not promised:
        raise AttachmentValidationError(
            f"{name}: content is {found.value} but the extension says {promised.value}; "
            "rename the file or convert it"
        )
    return found


def check_document(facts: DocumentFacts, max_size_bytes: int) -> DocumentType:
    """Apply every rule to one document; return its type or raise AttachmentValidationError."""
    type_for_name(facts.name)
    check_size(facts.name, facts.size_bytes, max_size_bytes)
    return check_content(facts.name, facts.head)


def check_document_without_size_limit(facts: DocumentFacts) -> DocumentType:
    """Every rule but the size limit (which an attachment sets), in ``check_document``'s order."""
    type_for_name(facts.name)
    check_not_empty(facts.name, facts.size_bytes)
    return check_content(facts.name, facts.head)


def missing_file_message(path: str) -> str:
    """What to say about a file that does not exist; a relative path is shown resolved."""
    resolved = os.path.abspath(path)
    if os.path.isabs(path):
        return f"{path}: file does not exist"
    return (
        f"{path}: file does not exist (looked for {resolved}, relative to the working "
        f"directory {os.getcwd()})"
    )


def read_local_facts(path: str) -> DocumentFacts:
    """Read a local file's size and leading bytes, naming the file in any error."""
    if not os.path.exists(path):
        raise AttachmentValidationError(missing_file_message(path))
    if not os.path.isfile(path):
        raise AttachmentValidationError(f"{path}: is not a regular file")
    try:
        with open(path, "rb") as document:
            head = document.read(SNIFF_BYTES)
            size = os.fstat(document.fileno()).st_size
    except OSError as error:
        raise AttachmentValidationError(f"{path}: cannot be read ({error.strerror})") from error
    return DocumentFacts(name=path, size_bytes=size, head=head)


def check_local_file(path: str, max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES) -> DocumentType:
    """Apply every rule to a local file."""
    type_for_name(path)
    return check_document(read_local_facts(path), max_size_bytes)
