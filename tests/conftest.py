"""Shared fixtures: sample documents and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# jsii prints a large banner on every start while Node 20 is end-of-life.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_PDF = REPO / "examples" / "documents" / "sample-letter-of-authorization.pdf"
SAMPLE_PNG = DATA / "pixel.png"
SAMPLE_JPEG = DATA / "photo.jpg"
#: A second version of the sample letter (other bytes, same kind of document).
SAMPLE_PDF_V2 = DATA / "letter-v2.pdf"


@pytest.fixture
def make_file(tmp_path: Path):
    """Write a file with the given name and bytes; return its path as a string."""

    def write(name: str, content: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    return write
