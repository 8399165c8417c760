"""The CPython interpreters installed on this machine: find them, check them, make venvs.

The e2e harness runs the Lambda asset under the newest one (the Lambda runtime is newer than
the development environment); the packaging test installs the wheel under the oldest one that
``requires-python`` declares. Both look in pyenv's versions and on ``PATH`` for ``python3.X``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

_NAME = re.compile(r"python3\.\d+")
#: Runs under each candidate: only a working CPython that can make venvs (not itself a venv).
_PROBE = (
    "import ensurepip, sys, venv;"
    "assert sys.implementation.name == 'cpython', sys.implementation.name;"
    "assert sys.prefix == sys.base_prefix, 'a virtualenv';"
    "print(sys.executable, *sys.version_info[:3])"
)


@dataclasses.dataclass(frozen=True, order=True)
class Interpreter:
    """One working CPython: its version and its executable."""

    version: tuple[int, int, int]
    path: Path

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    def __str__(self) -> str:
        return f"CPython {self.version_text} ({self.path})"


def probe(executable: Path) -> Interpreter | None:
    """The interpreter at ``executable`` if it runs and can make venvs, else None."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        completed = subprocess.run(
            [str(executable), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = completed.stdout.split()
    if completed.returncode != 0 or len(fields) != 4:
        return None
    major, minor, micro = (int(field) for field in fields[1:])
    return Interpreter((major, minor, micro), Path(fields[0]))


def candidates(search_path: str | None, pyenv_root: Path) -> list[Path]:
    """Every ``python3.X`` under pyenv's versions and in the ``search_path`` directories.

    pyenv's shims are skipped (they only dispatch to the versions already listed), and so is a
    second name of the same file.
    """
    found = sorted(pyenv_root.glob("versions/*/bin/python3.*"))
    for directory in filter(None, (search_path or "").split(os.pathsep)):
        if Path(directory) == pyenv_root / "shims":
            continue
        try:
            found.extend(sorted(Path(directory).iterdir()))
        except OSError:
            continue
    unique: dict[Path, Path] = {}
    for path in found:
        if _NAME.fullmatch(path.name) and os.access(path, os.X_OK):
            unique.setdefault(path.resolve(), path)
    return list(unique.values())


def installed_pythons(
    search_path: str | None = None, pyenv_root: Path | None = None
) -> list[Interpreter]:
    """Working CPythons, oldest first (default: ``$PATH`` and ``$PYENV_ROOT`` or ~/.pyenv)."""
    if search_path is None and pyenv_root is None:
        return list(_machine_pythons())
    return _installed(search_path, pyenv_root or _pyenv_root())


@functools.cache
def _machine_pythons() -> tuple[Interpreter, ...]:
    return tuple(_installed(os.environ.get("PATH"), _pyenv_root()))


def _installed(search_path: str | None, pyenv_root: Path) -> list[Interpreter]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        working = set(pool.map(probe, candidates(search_path, pyenv_root)))
    return sorted(interpreter for interpreter in working if interpreter is not None)


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def running_python() -> Interpreter:
    """The interpreter running this process (the fallback when nothing else is found)."""
    major, minor, micro = sys.version_info[:3]
    return Interpreter((major, minor, micro), Path(sys.executable))


def newest_python(search_path: str | None = None, pyenv_root: Path | None = None) -> Interpreter:
    """The newest working CPython installed, or the running one when none is found."""
    found = installed_pythons(search_path, pyenv_root)
    return found[-1] if found else running_python()


def oldest_minor(requires_python: str) -> tuple[int, int]:
    """The oldest ``3.X`` a ``requires-python`` specifier admits (it must have a lower bound)."""
    lower = [
        Version(spec.version).release[:2]
        for spec in SpecifierSet(requires_python)
        if spec.operator in (">=", "~=", "==")
    ]
    if not lower:
        raise ValueError(f"requires-python {requires_python!r} declares no lower bound (>=3.X)")
    major, minor = max(lower)
    return major, minor


def oldest_declared_python(
    requires_python: str, search_path: str | None = None, pyenv_root: Path | None = None
) -> Interpreter | None:
    """The installed CPython of the oldest ``3.X`` that ``requires_python`` admits, or None."""
    minor = oldest_minor(requires_python)
    specifier = SpecifierSet(requires_python)
    matching = [
        interpreter
        for interpreter in installed_pythons(search_path, pyenv_root)
        if interpreter.version[:2] == minor and specifier.contains(interpreter.version_text)
    ]
    return matching[-1] if matching else None


def make_venv(python: Path, directory: Path, *pip_install: str | Path) -> Path:
    """A virtualenv made by ``python`` with ``pip install *pip_install``; returns its python."""
    venv_python = directory / "bin" / "python"
    commands = [[str(python), "-m", "venv", str(directory)]]
    if pip_install:
        pip = [str(venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        commands.append([*pip, *map(str, pip_install)])
    for command in commands:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    return venv_python
