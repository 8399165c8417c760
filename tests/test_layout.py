"""Guards for the repository layout that users asked for."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import constructs

import cdk_sms_registration
from cdk_sms_registration_handler import CRHELPER_REQUIREMENT

from .conftest import REPO


def test_import_constructs_is_the_library_not_the_folder() -> None:
    library = Path(constructs.__file__).resolve()
    assert REPO / "constructs" not in library.parents
    assert "site-packages" in library.parts
    assert hasattr(constructs, "Construct")


def test_constructs_folder_has_no_init() -> None:
    # An __init__.py here would shadow the constructs library for every synth run from the repo.
    assert not (REPO / "constructs" / "__init__.py").exists()


def test_crhelper_pin_matches_the_tested_version() -> None:
    pinned = {
        line.split("==")[0].lower(): line.split("==")[1].strip()
        for line in (REPO / "requirements-dev.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    name, version = CRHELPER_REQUIREMENT.split("==")
    assert pinned[name] == version


def test_version_is_written_once() -> None:
    assert importlib.metadata.version("cdk-sms-registration") == cdk_sms_registration.__version__
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert f"## {cdk_sms_registration.__version__}" in changelog


def test_python_is_the_pinned_environment() -> None:
    assert sys.version_info >= (3, 10)
