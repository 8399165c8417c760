"""Finding the installed CPythons: the newest for the Lambda harness, the oldest declared one."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from .pythons import (
    installed_pythons,
    newest_python,
    oldest_declared_python,
    oldest_minor,
    running_python,
)


def _fake(path: Path, version: tuple[int, int, int] | None) -> Path:
    """A script answering the probe as that CPython would, or failing like a broken one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f'echo "$0 {" ".join(map(str, version))}"' if version else "exit 1"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(tmp_path: Path) -> tuple[str, Path]:
    """A PATH directory and a pyenv root holding fake interpreters."""
    bin_dir, pyenv = tmp_path / "bin", tmp_path / "pyenv"
    _fake(bin_dir / "python3.97", (3, 97, 2))
    _fake(bin_dir / "python3.99", None)  # newest by name, but broken
    _fake(bin_dir / "python3.98-config", (3, 98, 0))  # not an interpreter name
    _fake(pyenv / "versions" / "3.98.1" / "bin" / "python3.98", (3, 98, 1))
    _fake(pyenv / "versions" / "3.96.0" / "bin" / "python3.96", (3, 96, 0))
    _fake(pyenv / "shims" / "python3.100", (3, 100, 0))  # shims only dispatch: skipped
    return f"{bin_dir}:{pyenv / 'shims'}:{tmp_path / 'missing'}", pyenv


def test_newest_is_the_highest_working_version_on_path_and_in_pyenv(
    machine: tuple[str, Path],
) -> None:
    search_path, pyenv = machine
    found = installed_pythons(search_path, pyenv)
    assert [python.version for python in found] == [(3, 96, 0), (3, 97, 2), (3, 98, 1)]
    newest = newest_python(search_path, pyenv)
    assert newest.version == (3, 98, 1)
    assert newest.path == pyenv / "versions" / "3.98.1" / "bin" / "python3.98"


def test_nothing_found_falls_back_to_the_running_python(tmp_path: Path) -> None:
    newest = newest_python(str(tmp_path), tmp_path / "no-pyenv")
    assert newest == running_python()
    assert newest.path == Path(sys.executable)


def test_oldest_declared_is_the_lower_bound_minor_not_merely_the_oldest_installed(
    machine: tuple[str, Path],
) -> None:
    search_path, pyenv = machine
    assert oldest_minor(">=3.97") == (3, 97)
    assert oldest_minor(">=3.9, !=3.9.1, >=3.10") == (3, 10)
    assert oldest_declared_python(">=3.97", search_path, pyenv).version == (3, 97, 2)
    # 3.95 is declared but not installed: 3.96 would not prove 3.95 works.
    assert oldest_declared_python(">=3.95", search_path, pyenv) is None
    # The excluded patch release does not count.
    assert oldest_declared_python(">=3.97,!=3.97.2", search_path, pyenv) is None


def test_a_specifier_without_a_lower_bound_is_an_error() -> None:
    with pytest.raises(ValueError, match=re.escape("declares no lower bound")):
        oldest_minor("<4")


def test_this_machine_the_newest_is_at_least_every_pyenv_version_and_this_one() -> None:
    newest = newest_python()
    assert newest.version >= sys.version_info[:3]
    assert newest.path.is_file()
    pyenv_versions = [
        tuple(map(int, entry.name.split(".")))
        for entry in Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv").glob(
            "versions/3.*"
        )
        if re.fullmatch(r"3\.\d+\.\d+", entry.name) and (entry / "bin" / "python3").exists()
    ]
    assert all(newest.version >= version for version in pyenv_versions)
