"""Shared fixtures: sample documents and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Where `make setup` links the CDK CLI and, on Linux x64, the pinned Node.js.
NODE_BIN = REPO / "node_modules" / ".bin"
# jsii starts `node` from PATH for every in-process synth: the pinned one, as the Makefile does.
if (NODE_BIN / "node").exists():
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"
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
