"""A good citizen of the CDK ecosystem: cdk-nag, cfn-lint, README snippets, docs, the CLI."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

import app as example_app
import cdk_sms_registration
from cdk_sms_registration_handler import brand_profile_contract, registration_contract
from cdk_sms_registration_handler.registration_rules import check_fields
from examples import (
    brand_profile_app,
    cross_stack_app,
    imported_attachment_app,
    kms_bucket_app,
    registration_notifications_app,
    toll_free_registration_app,
)

from .conftest import REPO, SAMPLE_PDF, SAMPLE_PNG
from .e2e.fake_registration_types import builtin_types

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
EXAMPLES: dict[str, Callable[[cdk.App], Any]] = {
    "app.py": example_app.build,
    "kms_bucket_app": kms_bucket_app.build,
    "cross_stack_app": cross_stack_app.build,
    "imported_attachment_app": imported_attachment_app.build,
    "registration_notifications_app": registration_notifications_app.build,
    "toll_free_registration_app": toll_free_registration_app.build,
    "brand_profile_app": brand_profile_app.build,
}


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example synthesized with cdk-nag's AWS Solutions pack (synth raises on findings)."""
    outdir = tmp_path_factory.mktemp("examples")
    built = {}
    for name, build in EXAMPLES.items():
        app = cdk.App(outdir=str(outdir / name))
        build(app)
        app.synth()
        built[name] = outdir / name
    return built


def _templates(assemblies: dict[str, Path]) -> list[Path]:
    return sorted(
        path for assembly in assemblies.values() for path in assembly.glob("*.template.json")
    )


def test_examples_pass_cdk_nag(assemblies: dict[str, Path]) -> None:
    assert len(_templates(assemblies)) == 9
    for assembly in assemblies.values():
        report = assembly / "validation-report.json"
        if report.exists():
            for plugin in json.loads(report.read_text())["pluginReports"]:
                assert plugin["conclusion"] == "success", plugin


def test_every_example_app_is_checked() -> None:
    apps = {path.stem for path in (REPO / "examples").glob("*.py") if path.stem != "__init__"}
    assert apps == set(EXAMPLES) - {"app.py"}


def test_toll_free_example_declares_what_the_service_takes(assemblies: dict[str, Path]) -> None:
    """Its fields pass the rules against the fake service's toll-free definitions, submitted."""
    (template_path,) = assemblies["toll_free_registration_app"].glob("*.template.json")
    resources = json.loads(template_path.read_text())["Resources"]
    (registration,) = [
        r for r in resources.values() if r["Type"] == registration_contract.RESOURCE_TYPE
    ]
    properties = dict(registration["Properties"])
    del properties["ServiceToken"]
    attachment = [f for f in properties["Fields"] if "AttachmentId" in f]
    assert [f["AttachmentId"]["Fn::GetAtt"][1] for f in attachment] == ["RegistrationAttachmentId"]
    properties["Fields"] = [
        {**f, "AttachmentId": "ra-0123456789abcdef"} if "AttachmentId" in f else f
        for f in properties["Fields"]
    ]
    assert [a["Ref"] for a in properties.pop("Associations")] == ["TollFreeNumberId"]
    spec = registration_contract.parse_properties(properties)
    assert spec.submit and spec.tags == {"team": "messaging"}
    kinds = sorted({(v.kind, len(v.strings)) for v in spec.fields})
    assert kinds == [("AttachmentId", 1), ("Choices", 2), ("Text", 1)]
    (definitions,) = [
        t["Fields"] for t in builtin_types() if t["RegistrationType"] == spec.registration_type
    ]
    assert check_fields(definitions, spec.values, submit=True) == []


def test_brand_profile_example_draws_its_fields_from_the_profile(
    assemblies: dict[str, Path],
) -> None:
    """Three types of two countries, every profile value written into their fields, and every
    REQUIRED field declared (they pass the fake service's rules even for a submit)."""
    (template_path,) = assemblies["brand_profile_app"].glob("*.template.json")
    resources = json.loads(template_path.read_text())["Resources"]
    (profile,) = [
        r for r in resources.values() if r["Type"] == brand_profile_contract.RESOURCE_TYPE
    ]
    attributes = {a["Name"]: a for a in profile["Properties"]["Attributes"]}
    texts = {name: a["Text"] for name, a in attributes.items() if "Text" in a}
    assert texts == dict(brand_profile_app.FACTS)
    media = {name: a["Type"] for name, a in attributes.items() if "Text" not in a}
    assert media == {"logo": "IMAGE", "letterOfAuthorization": "DOCUMENT"}
    registrations = [
        r for r in resources.values() if r["Type"] == registration_contract.RESOURCE_TYPE
    ]
    types = sorted(r["Properties"]["RegistrationType"] for r in registrations)
    assert types == [
        "IN_SENDER_ID_REGISTRATION",
        "US_TEN_DLC_BRAND_REGISTRATION",
        "US_TOLL_FREE_REGISTRATION",
    ]
    definitions = {t["RegistrationType"]: t["Fields"] for t in builtin_types()}
    used = set()
    for registration in registrations:
        properties = dict(registration["Properties"])
        del properties["ServiceToken"]
        assert properties["Submit"] is False  # DRAFTs: reviewed by a person first
        for entry in properties["Fields"]:
            if "AttachmentId" in entry:
                assert entry["AttachmentId"]["Fn::GetAtt"][1] == "RegistrationAttachmentId"
                entry["AttachmentId"] = "ra-0123456789abcdef"
            elif "Text" in entry:
                used |= {name for name, text in texts.items() if text == entry["Text"]}
        spec = registration_contract.parse_properties(properties)
        assert check_fields(definitions[spec.registration_type], spec.values, submit=True) == []
    assert used == set(texts)  # every fact reaches at least one registration


def test_every_acknowledgment_has_a_reason(assemblies: dict[str, Path]) -> None:
    found = {}
    for metadata in assemblies["app.py"].glob("*.metadata.json"):
        for entries in json.loads(metadata.read_text()).values():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.update(entry["data"])
    assert set(found) == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:"
        "<AWS::AccountId>:registration-attachment/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
        "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*.pdf]",
        # The shared provider: registrations, what they are associated with (IAM authorizes an
        # association against both), and the account's stacks (read-only).
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:"
        "<AWS::AccountId>:registration/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:"
        "<AWS::AccountId>:phone-number/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:"
        "<AWS::AccountId>:sender-id/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:"
        "<AWS::Region>:<AWS::AccountId>:stack/*]",
        # The shared provider serves brand profiles too.
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:end-user-messaging:"
        "<AWS::Region>:<AWS::AccountId>:brand-profile/*]",
    }
    assert all(len(reason) > 40 for reason in found.values())


def test_cdk_nag_still_catches_what_is_not_acknowledged(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = example_app.SmsRegistrationExampleStack(app, "WithBareBucket")
    s3.Bucket(stack, "NoAccessLogs")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-S1" in rules
    assert not any(rule.startswith("AwsSolutions-IAM5") for rule in rules)


def test_cfn_lint_finds_nothing(assemblies: dict[str, Path]) -> None:
    templates = [str(path) for path in _templates(assemblies)]
    templates.extend(
        str(path) for path in sorted((REPO / "examples" / "cloudformation").glob("*.yaml"))
    )
    rules = [
        "--append-rules",
        str(REPO / "constructs" / "cdk_sms_registration" / "cfn_lint_rules"),
    ]  # the shipped rule accepts them too
    result = subprocess.run(
        [CFN_LINT, *rules, "--", *templates], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_is_not_blind(tmp_path: Path) -> None:
    template = tmp_path / "bad.json"
    template.write_text(
        json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}})
    )
    result = subprocess.run([CFN_LINT, str(template)], capture_output=True, text=True)
    assert result.returncode != 0


def _readme_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(_readme_snippets())))
def test_readme_python_snippets_run(
    index: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    exec(compile(_readme_snippets()[index], f"README.md snippet {index}", "exec"), {})
    printed = capsys.readouterr().out
    for expected in re.findall(r"print\(error\)  # (.*)", _readme_snippets()[index]):
        assert expected in printed


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in cdk_sms_registration.__all__:
        value = getattr(cdk_sms_registration, name)
        if callable(value) and not (value.__doc__ or "").strip():
            missing.append(name)
        members = vars(value).items() if isinstance(value, type) else []
        for member, attribute in members:
            public = not member.startswith("_") and (
                callable(attribute) or isinstance(attribute, (property, staticmethod))
            )
            if public and not (getattr(attribute, "__doc__", "") or "").strip():
                missing.append(f"{name}.{member}")
    for path in (REPO / "constructs" / "cdk_sms_registration").glob("*.py"):
        if not ast.get_docstring(ast.parse(path.read_text())):
            missing.append(path.name)
    assert missing == []


def test_docs_build(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pdoc", "--output-directory", str(tmp_path), "cdk_sms_registration"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "PDOC_ALLOW_EXEC": "1",
        },
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "cdk_sms_registration.html").read_text()
    for name in ("RegistrationAttachment", "from_attachment_id", "AttachmentSource", "from_bucket"):
        assert f'id="{name}' in page or f".{name}" in page, name
    assert "Warn:" not in result.stderr


class TestPreflightCli:
    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cdk_sms_registration", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        )

    def test_accepts_a_valid_pdf(self) -> None:
        result = self._run("check", str(SAMPLE_PDF))
        assert result.returncode == 0
        assert "PDF" in result.stdout

    def test_rejects_png_named_pdf(self, make_file) -> None:
        bad = make_file("logo.pdf", SAMPLE_PNG.read_bytes())
        result = self._run("check", str(SAMPLE_PDF), bad)
        assert result.returncode == 1
        assert f"{bad}: content is PNG but the extension says PDF" in result.stderr

    def test_max_size(self) -> None:
        result = self._run("check", "--max-size", "100", str(SAMPLE_PDF))
        assert result.returncode == 1
        assert "over the 100-byte limit" in result.stderr

    def test_usage_errors(self) -> None:
        assert self._run("check").returncode == 2
        assert self._run("check", "--max-size", "0", str(SAMPLE_PDF)).returncode == 2
