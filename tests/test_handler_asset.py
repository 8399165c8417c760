"""The handler asset: assembled from the installed packages, once, and only from the pin."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_sms_registration import AttachmentSource, RegistrationAttachment
from cdk_sms_registration import handler_asset as asset
from cdk_sms_registration_handler import CRHELPER_REQUIREMENT

from .cdk_apps import ENV, new_app
from .conftest import SAMPLE_PDF


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def test_assembled_once_per_handler_version(fresh_cache: Path) -> None:
    first = asset.asset_directory.__wrapped__()
    assert first == fresh_cache / "cdk-sms-registration" / f"handler-{asset.source_hash()}"
    marker = first / "built-once"
    marker.touch()
    # A later process finds the directory by its hash and does not assemble it again.
    assert asset.asset_directory.__wrapped__() == first
    assert marker.exists()
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no leftover staging dir
    assert (first / "crhelper" / "resource_helper.py").is_file()
    assert (first / asset.PACKAGE_NAME / "index.py").is_file()
    assert not list(first.rglob("__pycache__"))


def test_no_writable_cache_falls_back_to_a_private_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_directory))
    built = asset.asset_directory.__wrapped__()
    assert not_a_directory not in built.parents
    assert (built / "crhelper" / "__init__.py").is_file()
    shutil.rmtree(built)


def test_many_apps_in_one_process_stage_one_asset(tmp_path: Path) -> None:
    keys = set()
    for index in range(2):
        app = new_app(tmp_path / f"out{index}")
        stack = cdk.Stack(app, "Stack", env=ENV)
        RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
        assembly = app.synth()
        template = assembly.get_stack_by_name("Stack").template
        function = next(
            r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
        )
        keys.add(function["Properties"]["Code"]["S3Key"])
    assert len(keys) == 1
    assert asset.asset_directory.cache_info().misses <= 1


def test_only_the_pinned_crhelper_is_bundled() -> None:
    installed = importlib.metadata.version("crhelper")
    assert f"crhelper=={installed}" == CRHELPER_REQUIREMENT
    with pytest.raises(asset.HandlerAssetError) as raised:
        asset.crhelper_files("crhelper==9.9.9")
    assert "bundles crhelper==9.9.9 into its Lambda asset, but" in str(raised.value)
    assert f"has crhelper {installed}; install it into that environment" in str(raised.value)
    with pytest.raises(asset.HandlerAssetError, match="crhelper-gone is not installed for"):
        asset.crhelper_files("crhelper-gone==1.0")


def test_asset_hash_follows_the_sources_and_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    unchanged = asset.source_hash()
    assert asset.source_hash() == unchanged
    monkeypatch.setattr(asset, "CRHELPER_REQUIREMENT", "crhelper==2.0.13")
    assert asset.source_hash() != unchanged
