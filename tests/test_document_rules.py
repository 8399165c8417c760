"""The document rules: accepted and rejected kinds, with the messages users see."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from cdk_sms_registration_handler.document_rules import (
    DEFAULT_MAX_SIZE_BYTES,
    AttachmentValidationError,
    DocumentType,
    check_local_file,
    check_max_size_setting,
    sniff_type,
)

from .conftest import SAMPLE_JPEG, SAMPLE_PDF, SAMPLE_PNG


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_default_limit_is_5_mb() -> None:
    assert DEFAULT_MAX_SIZE_BYTES == 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SAMPLE_PDF, DocumentType.PDF),
        (SAMPLE_PNG, DocumentType.PNG),
        (SAMPLE_JPEG, DocumentType.JPEG),
    ],
)
def test_real_documents_are_accepted(path: os.PathLike[str], expected: DocumentType) -> None:
    assert check_local_file(str(path)) is expected


@pytest.mark.parametrize("name", ["LOA.PDF", "scan.JPeG", "scan.Jpg", "logo.PNG"])
def test_extension_case_does_not_matter(make_file, name: str) -> None:
    content = {
        ".pdf": SAMPLE_PDF.read_bytes(),
        ".jpeg": SAMPLE_JPEG.read_bytes(),
        ".jpg": SAMPLE_JPEG.read_bytes(),
        ".png": SAMPLE_PNG.read_bytes(),
    }[os.path.splitext(name)[1].lower()]
    check_local_file(make_file(name, content))


def test_pdf_header_after_leading_bytes_is_accepted(make_file) -> None:
    assert (
        check_local_file(make_file("a.pdf", b"\n\n" + SAMPLE_PDF.read_bytes())) is DocumentType.PDF
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.pdf", SAMPLE_PNG.read_bytes(), "content is PNG but the extension says PDF"),
        ("photo.png", SAMPLE_JPEG.read_bytes(), "content is JPEG but the extension says PNG"),
        ("letter.jpg", SAMPLE_PDF.read_bytes(), "content is PDF but the extension says JPEG"),
        ("archive.pdf", _zip_bytes(), "content is not a PDF, JPEG or PNG"),
        ("letter.pdf", b"", "is empty"),
        ("letter.pdf", b"Dear AWS, please register us.", "content is not a PDF, JPEG or PNG"),
    ],
)
def test_content_must_match_extension(make_file, name: str, content: bytes, message: str) -> None:
    path = make_file(name, content)
    with pytest.raises(AttachmentValidationError) as raised:
        check_local_file(path)
    assert message in str(raised.value)
    assert path in str(raised.value)


@pytest.mark.parametrize(
    "name", ["letter.docx", "letter.txt", "letter", "letter.pdf.zip", "scan.gif"]
)
def test_other_extensions_are_rejected(make_file, name: str) -> None:
    path = make_file(name, SAMPLE_PDF.read_bytes())
    with pytest.raises(AttachmentValidationError, match=r"must be \.pdf, \.jpg, \.jpeg or \.png"):
        check_local_file(path)


def test_docx_named_pdf_is_rejected(make_file) -> None:
    with pytest.raises(AttachmentValidationError, match="not a PDF, JPEG or PNG"):
        check_local_file(make_file("letter.pdf", _zip_bytes()))


def test_size_limit_is_inclusive_and_overridable(make_file) -> None:
    content = SAMPLE_PDF.read_bytes()
    path = make_file("letter.pdf", content)
    check_local_file(path, max_size_bytes=len(content))
    with pytest.raises(AttachmentValidationError) as raised:
        check_local_file(path, max_size_bytes=len(content) - 1)
    assert f"is {len(content)} bytes, over the {len(content) - 1}-byte limit" in str(raised.value)


def test_over_default_limit_is_rejected(make_file) -> None:
    path = make_file("big.pdf", b"%PDF-1.4\n" + b"0" * DEFAULT_MAX_SIZE_BYTES)
    with pytest.raises(AttachmentValidationError, match="over the 5242880-byte limit"):
        check_local_file(path)


def test_missing_file_and_directory(tmp_path) -> None:
    with pytest.raises(AttachmentValidationError, match="file does not exist"):
        check_local_file(str(tmp_path / "nope.pdf"))
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    with pytest.raises(AttachmentValidationError, match="is not a regular file"):
        check_local_file(str(folder))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(make_file) -> None:
    path = make_file("locked.pdf", SAMPLE_PDF.read_bytes())
    os.chmod(path, 0)
    with pytest.raises(AttachmentValidationError, match="cannot be read"):
        check_local_file(path)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "5"])
def test_max_size_setting_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(AttachmentValidationError, match="max_size_bytes"):
        check_max_size_setting(bad)  # type: ignore[arg-type]


def test_sniff_needs_signature_at_start_for_images() -> None:
    assert sniff_type(b"xx\x89PNG\r\n\x1a\n") is None
    assert sniff_type(b"\xff\xd8\xff\xdb") is DocumentType.JPEG
