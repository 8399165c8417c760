"""Registrations without guesswork, as a user runs them: definitions -> scaffold -> synth -> status.

The CLI runs as a subprocess (``python -m cdk_sms_registration``) with dummy credentials against
the fake service over HTTP; the snapshot ``definitions`` writes drives ``scaffold``, the
synth-time checks (in a real ``cdk synth``) and a deploy of the filled scaffold through the
harness; ``status`` reports a denial made with the fake's control; the EventBridge rule's
pattern matches a sample event written per the service's event shape.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_registration import RegistrationDefinitions
from cdk_sms_registration.definitions import SAMPLE_FILE

from .cloudformation import CloudAssembly
from .conftest import REPO, Deploy
from .fake_cloudformation import FakeCloudFormation
from .fake_registration_types import (
    TEN_DLC_BRAND,
    TEN_DLC_BRAND_VETTING,
    TOLL_FREE,
    builtin_types,
    bulk_text_type,
)
from .fake_registrations import write_model_without_conditional_behavior
from .fake_sms import FakeSmsService

CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"
#: A value that must never appear in any output (field values are personal data).
PRIVATE_NAME = "Zebediah Quackenbush"
#: Values for the 10DLC brand's REQUIRED fields, by path.
BRAND_VALUES = {
    "companyInfo.companyName": "Example Corp",
    "companyInfo.businessType": "PRIVATE_PROFIT",
    "companyInfo.taxIdIssuingCountry": "US",
    "companyInfo.taxId": "12-3456789",
    "contactInfo.firstName": PRIVATE_NAME,
    "contactInfo.lastName": "Doe",
    "contactInfo.email": "jane@example.com",
    "contactInfo.phoneNumber": "+12065550100",
}


def _fake_type(name: str) -> dict[str, Any]:
    return next(t for t in builtin_types() if t["RegistrationType"] == name)


@pytest.fixture
def cli_env(sms_service: FakeSmsService, tmp_path: Path) -> dict[str, str]:
    """A user's environment: dummy credentials, a region, the fake's endpoint, no profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        **sms_service.env(),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def cli(env: Mapping[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m cdk_sms_registration ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cdk_sms_registration", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def snapshot(cli_env: dict[str, str], tmp_path: Path) -> Path:
    """A snapshot of both types, written by the ``definitions`` command."""
    done = cli(
        cli_env, "definitions", TOLL_FREE, TEN_DLC_BRAND, "--output", "defs.json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / "defs.json"


# ----------------------------------------------------------------------------- definitions


def test_definitions_reads_every_page_and_keeps_conditional_behavior(
    cli_env: dict[str, str], sms_service: FakeSmsService, tmp_path: Path
) -> None:
    sms_service.registrations.add_registration_type(bulk_text_type("BULK_TYPE", 250))
    # An "old botocore" whose model lacks ConditionalBehavior: the raw JSON keeps it.
    old_env = {
        **cli_env,
        "AWS_DATA_PATH": str(write_model_without_conditional_behavior(tmp_path / "old")),
    }
    types = (TOLL_FREE, TEN_DLC_BRAND, "BULK_TYPE")
    done = cli(old_env, "definitions", *types, "--output", "d.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # 100 definitions a page, the most the service allows: 250 fields take three pages.
    assert "BULK_TYPE: field definitions: page 3 (250 so far)" in done.stderr
    bulk = json.loads((tmp_path / "d.json").read_text())["RegistrationTypes"]["BULK_TYPE"]
    assert len({f["FieldPath"] for f in bulk["FieldDefinitions"]}) == 250
    snapshot = json.loads((tmp_path / "d.json").read_text())
    assert snapshot["Region"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", snapshot["TakenAt"])
    for name in (TOLL_FREE, TEN_DLC_BRAND):
        served = _fake_type(name)
        saved = snapshot["RegistrationTypes"][name]
        assert saved["FieldDefinitions"] == served["Fields"]  # every page, nothing dropped
        assert [s["SectionPath"] for s in saved["SectionDefinitions"]] == [
            s["SectionPath"] for s in served["Sections"]
        ]
        assert saved["TypeDefinition"]["RegistrationType"] == name
    brand = {
        f["FieldPath"]: f for f in snapshot["RegistrationTypes"][TEN_DLC_BRAND]["FieldDefinitions"]
    }
    assert (
        brand["companyInfo.stockSymbol"]["ConditionalBehavior"]["DefaultBehavior"] == "DISALLOWED"
    )


class _Refuser(BaseHTTPRequestHandler):
    """An endpoint that refuses every call with AccessDeniedException."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"__type": "AccessDeniedException", "Message": "not authorized"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def refusing_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_expected_failures_name_the_type_and_code_without_traceback(
    cli_env: dict[str, str], tmp_path: Path, refusing_endpoint: str
) -> None:
    unknown = cli(cli_env, "definitions", "US_NO_SUCH_TYPE", "--output", "x.json", cwd=tmp_path)
    denied = cli(
        {**cli_env, "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": refusing_endpoint},
        "definitions",
        TOLL_FREE,
        cwd=tmp_path,
    )
    no_credentials_env = {
        k: v for k, v in cli_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    no_credentials = cli(no_credentials_env, "definitions", TOLL_FREE, cwd=tmp_path)
    missing = cli(cli_env, "status", "registration-" + "0" * 32, cwd=tmp_path)
    expected = {
        unknown: "US_NO_SUCH_TYPE: DescribeRegistrationTypeDefinitions failed "
        "(ValidationException UNKNOWN_REGISTRATION_TYPE)",
        denied: f"{TOLL_FREE}: DescribeRegistrationTypeDefinitions failed (AccessDeniedException)",
        no_credentials: "no AWS credentials found",
        missing: f"registration-{'0' * 32}: DescribeRegistrations failed "
        "(ResourceNotFoundException)",
    }
    for done, message in expected.items():
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
        assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.json")), "a failed fetch writes no snapshot"


# ----------------------------------------------------------------------------- scaffold


def _scaffold(env: Mapping[str, str], snapshot: Path, name: str) -> str:
    done = cli(env, "scaffold", name, "--definitions", str(snapshot), cwd=snapshot.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_scaffold_lists_every_field_required_first_and_is_python(
    cli_env: dict[str, str], snapshot: Path
) -> None:
    text = _scaffold(cli_env, snapshot, TOLL_FREE)
    fields = _fake_type(TOLL_FREE)["Fields"]
    sections = [s["SectionPath"] for s in _fake_type(TOLL_FREE)["Sections"]]
    listed = re.findall(r'^    (?:# )?"([\w.]+)": ', text, flags=re.MULTILINE)
    order = {"REQUIRED": 0, "CONDITIONAL": 1, "OPTIONAL": 2}
    expected = sorted(
        fields, key=lambda f: (order[f["FieldRequirement"]], sections.index(f["SectionPath"]))
    )
    assert listed == [f["FieldPath"] for f in expected]
    # Valid Python as printed: the active entries are exactly the REQUIRED fields.
    namespace: dict[str, Any] = {"AttachmentSource": _AttachmentSource}
    exec(compile(text, "scaffold", "exec"), namespace)
    required = [f["FieldPath"] for f in fields if f["FieldRequirement"] == "REQUIRED"]
    assert list(namespace["fields"]) == required
    # Rules as comments: kind, requirement, length, pattern, choices.
    assert "# TEXT, REQUIRED, 1-100 characters, pattern ^(?=\\s*\\S)[\\s\\S]+$" in text
    assert "# SELECT, REQUIRED, 1-3 choices (a list of str)" in text
    assert '#          "1,000", "10,000"' not in text  # choices are listed plainly
    assert "# choices: 10, 100, 1,000, 10,000" in text
    assert '"messagingUseCase.optInImage": AttachmentSource.from_file(""),' in text


class _AttachmentSource:
    @staticmethod
    def from_file(path: str) -> str:
        return f"file:{path}"


def _filled(scaffold: str, values: Mapping[str, str]) -> str:
    """The scaffold with each active placeholder replaced by its value."""
    for path, value in values.items():
        scaffold, count = re.subn(
            rf'^(    "{re.escape(path)}": )"",$',
            rf"\g<1>{json.dumps(value)},",
            scaffold,
            flags=re.M,
        )
        assert count == 1, path
    return scaffold


# ----------------------------------------------------------------------------- synth checks

BAD_APP = """
import aws_cdk as cdk
from cdk_sms_registration import Registration, RegistrationDefinitions

app = cdk.App()
stack = cdk.Stack(app, "Bad", env=cdk.Environment(account="123456789012", region="us-east-1"))
Registration(
    stack,
    "Brand",
    registration_type="US_TEN_DLC_BRAND_REGISTRATION",
    definitions=RegistrationDefinitions.from_file("defs.json"),
    submit=True,
    fields={fields},
)
app.synth()
"""


def test_cdk_synth_fails_naming_every_bad_field(cli_env: dict[str, str], snapshot: Path) -> None:
    fields = {
        **BRAND_VALUES,
        "contactInfo.email": "not-an-email " + PRIVATE_NAME,  # the pattern
        "companyInfo.taxIdIssuingCountry": "USA",  # exactly 2 characters
        "companyInfo.stockSymbol": "EXMP",  # DISALLOWED unless PUBLIC_PROFIT
        "companyInfo.websiteUrl": "https://example.com",  # no such field
    }
    del fields["contactInfo.phoneNumber"]  # REQUIRED before submit
    (snapshot.parent / "app.py").write_text(BAD_APP.replace("{fields}", repr(fields)))
    env = {
        **cli_env,
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), str(CDK_CLI.parent), cli_env["PATH"]]
        ),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    done = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--app", f"{sys.executable} app.py"],
        cwd=snapshot.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Bad/Brand: 5 fields break the rules of US_TEN_DLC_BRAND_REGISTRATION" in output
    for line in (
        "contactInfo.email: does not match the pattern",
        "companyInfo.taxIdIssuingCountry: must be exactly 2 characters long, got 3",
        "companyInfo.stockSymbol: is not allowed given companyInfo.businessType",
        "companyInfo.websiteUrl: is not a field of US_TEN_DLC_BRAND_REGISTRATION; "
        "nearest known path: companyInfo.website",
        "contactInfo.phoneNumber: is required before submit",
    ):
        assert line in output, output[-3000:]
    assert PRIVATE_NAME not in output and "EXMP" not in output


def test_snapshot_without_the_type_and_tokens(snapshot: Path, tmp_path: Path) -> None:
    import aws_cdk as cdk

    from cdk_sms_registration import (
        Registration,
        RegistrationDefinitions,
        RegistrationValidationError,
    )

    definitions = RegistrationDefinitions.from_file(snapshot)
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), "S")
    with pytest.raises(
        RegistrationValidationError,
        match=r"S/Vetting: .*defs.json has no definitions of US_TEN_DLC_BRAND_VETTING "
        r"\(it holds US_TOLL_FREE_REGISTRATION, US_TEN_DLC_BRAND_REGISTRATION\)",
    ):
        Registration(
            stack, "Vetting", registration_type="US_TEN_DLC_BRAND_VETTING", definitions=definitions
        )
    # A deploy-time value is skipped (so is what depends on it); the rest is still checked.
    business = cdk.CfnParameter(stack, "BusinessType").value_as_string
    tokens = {
        **BRAND_VALUES,
        "companyInfo.businessType": business,
        "companyInfo.stockSymbol": "EXMP",
    }
    Registration(
        stack,
        "Tokens",
        registration_type=TEN_DLC_BRAND,
        fields=tokens,
        submit=True,
        definitions=definitions,
    )
    with pytest.raises(RegistrationValidationError, match="1 field break") as raised:
        Registration(
            stack,
            "Short",
            registration_type=TEN_DLC_BRAND,
            fields={**tokens, "companyInfo.taxIdIssuingCountry": "USA"},
            definitions=definitions,
        )
    assert "companyInfo.taxIdIssuingCountry: must be exactly 2" in str(raised.value)


# ----------------------------------------------------------------------------- deploy and status


def _synth_filled(scaffold: str, snapshot: Path, outdir: Path) -> CloudAssembly:
    import aws_cdk as cdk

    from cdk_sms_registration import Registration, RegistrationDefinitions

    namespace: dict[str, Any] = {}
    exec(compile(scaffold, "scaffold", "exec"), namespace)
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(
        app, "Walkthrough", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    Registration(
        stack,
        "Brand",
        registration_type=TEN_DLC_BRAND,
        fields=namespace["fields"],
        submit=True,
        definitions=RegistrationDefinitions.from_file(snapshot),
    )
    app.synth()
    return CloudAssembly(outdir)


def test_filled_scaffold_deploys_and_status_reports_the_denial(
    cli_env: dict[str, str],
    snapshot: Path,
    deploy: Deploy,
    sms_service: FakeSmsService,
    fake_cloudformation: FakeCloudFormation,
    tmp_path: Path,
) -> None:
    scaffold = _filled(_scaffold(cli_env, snapshot, TEN_DLC_BRAND), BRAND_VALUES)
    assembly = _synth_filled(scaffold, snapshot, tmp_path / "cdk.out")
    deployment = deploy(assembly.stack("Walkthrough"))
    created = deployment.create_all()
    assert created.status == "CREATE_COMPLETE", created.statuses
    [registration] = sms_service.registrations.live_registrations()
    registration_id = registration["RegistrationId"]
    assert registration["RegistrationStatus"] == "SUBMITTED"
    assert set(registration["Versions"][0]["Values"]) == set(BRAND_VALUES)

    waiting = cli(cli_env, "status", registration_id, cwd=tmp_path)
    assert waiting.returncode == 0, waiting.stderr
    assert "SUBMITTED  (ok)" in waiting.stdout

    link = "https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations-status.html"
    sms_service.registrations.deny(
        registration_id,
        reasons=[
            {
                "Reason": "INVALID_CONTACT",
                "ShortDescription": "The contact could not be verified.",
                "DocumentationLink": link,
            }
        ],
        field_feedback={
            "contactInfo.firstName": {
                "DeniedReason": "NAME_MISMATCH",
                "Feedback": "The name does not match the tax records.",
            }
        },
    )
    fake_cloudformation.page_size = 1  # every resource on its own page
    table = cli(
        {**cli_env, **fake_cloudformation.env()}, "status", "--stack", "Walkthrough", cwd=tmp_path
    )
    as_json = cli(cli_env, "status", registration_id, "--json", cwd=tmp_path)
    assert table.returncode == 1 and as_json.returncode == 1, table.stderr + as_json.stderr
    assert re.search(r"stack Walkthrough: page \d+ ", table.stderr)
    lid = deployment.stack.logical_id("Brand/Resource")
    for text in (
        f"{registration_id} [{lid}]  {TEN_DLC_BRAND}",
        "REQUIRES_UPDATES  (NEEDS ACTION)",
        "latest denied version:  1  DENIED",
        "INVALID_CONTACT: The contact could not be verified.",
        link,
        "contactInfo.firstName: NAME_MISMATCH - The name does not match the tax records.",
    ):
        assert text in table.stdout, table.stdout
    [report] = json.loads(as_json.stdout)["Registrations"]
    assert report["NeedsAction"] is True
    assert report["Versions"]["LatestDenied"] == {"VersionNumber": 1, "Status": "DENIED"}
    assert report["DeniedReasons"][0]["DocumentationLink"] == link
    assert report["FieldFeedback"] == [
        {
            "FieldPath": "contactInfo.firstName",
            "DeniedReason": "NAME_MISMATCH",
            "Feedback": "The name does not match the tax records.",
        }
    ]
    for done in (waiting, table, as_json):
        assert PRIVATE_NAME not in done.stdout + done.stderr


# ----------------------------------------------------------------------------- events

#: A Registration Status Change event as the service sends it (source, detail-type from the
#: user guide; detail as the AWS 10DLC registration sample reads it).
SAMPLE_EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "Registration Status Change",
    "source": "aws.sms-voice",
    "account": "123456789012",
    "time": "2026-11-02T10:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "registrationArn": "arn:aws:sms-voice:us-east-1:123456789012:registration/ID",
        "registrationDetails": {
            "registrationId": "ID",
            "registrationVersionNumber": 1,
            "registrationType": TEN_DLC_BRAND,
            "currentStatus": "REQUIRES_UPDATES",
            "registrationStatusChangeTimestamp": 1793613600000,
        },
    },
}


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge matching for exact-value patterns: lists of values, nested objects."""
    for key, wanted in pattern.items():
        if key not in event:
            return False
        if isinstance(wanted, Mapping):
            if not isinstance(event[key], Mapping) or not matches(wanted, event[key]):
                return False
        elif event[key] not in wanted:
            return False
    return True


def _event_for(registration_id: str, **changes: Any) -> dict[str, Any]:
    event = json.loads(json.dumps(SAMPLE_EVENT).replace('"ID"', json.dumps(registration_id)))
    event["detail"]["registrationArn"] = event["detail"]["registrationArn"].replace(
        "/ID", f"/{registration_id}"
    )
    event.update(changes)
    return event


def test_status_change_rules_match_the_sample_event(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from examples import registration_notifications_app as example

    app = cdk.App(outdir=str(tmp_path))
    stack = example.build(app)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    rules = {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Events::Rule"}
    registrations = [
        lid for lid, r in template["Resources"].items() if r["Type"] == "Custom::SmsRegistration"
    ]
    assert len(rules) == 2 and len(registrations) == 1
    by_id = {}
    for rule in rules.values():
        pattern = rule["Properties"]["EventPattern"]
        target_id = pattern["detail"]["registrationDetails"]["registrationId"][0]
        # The construct's rule names its own registration (Ref), the imported one its ID.
        resolved = (
            "registration-" + "a" * 32 if target_id == {"Ref": registrations[0]} else target_id
        )
        pattern = json.loads(
            json.dumps(pattern).replace(json.dumps(target_id), json.dumps(resolved))
        )
        by_id[resolved] = pattern
        assert rule["Properties"]["Targets"][0]["Arn"]["Ref"].startswith("RegistrationStatus")
    assert set(by_id) == {"registration-" + "a" * 32, example.CONSOLE_REGISTRATION_ID}
    for registration_id, pattern in by_id.items():
        assert matches(pattern, _event_for(registration_id))
        other = next(i for i in by_id if i != registration_id)
        assert not matches(pattern, _event_for(other))
        assert not matches(
            pattern,
            _event_for(registration_id, **{"detail-type": "Text Message Delivery Status Updated"}),
        )
        assert not matches(pattern, _event_for(registration_id, source="aws.sns"))


def test_cli_commands_do_not_import_the_cdk(snapshot: Path) -> None:
    code = (
        "import sys\n"
        "from cdk_sms_registration import cli\n"
        f"cli.main(['scaffold', {TOLL_FREE!r}, '--definitions', {str(snapshot)!r}])\n"
        "assert 'aws_cdk' not in sys.modules and 'boto3' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ast.parse(done.stdout)


# ----------------------------------------------------------------------------- samples

SAMPLE_TYPES = (TOLL_FREE, TEN_DLC_BRAND, TEN_DLC_BRAND_VETTING)


def test_shipped_samples_are_what_definitions_writes_against_the_fake(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The package's sample snapshot is the ``definitions`` command's own output.

    Taken against the fake service (whose definitions the handler is tested with), so the
    samples cannot drift from what the suite proves. ``UPDATE_SAMPLES=1`` rewrites the file.
    """
    done = cli(cli_env, "definitions", *SAMPLE_TYPES, "--output", "s.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    taken = json.loads((tmp_path / "s.json").read_text())
    if os.environ.get("UPDATE_SAMPLES") == "1":
        SAMPLE_FILE.write_text(
            json.dumps(
                {
                    **taken,
                    "TakenAt": "2026-12-07T00:00:00Z",
                    "Region": "sample",
                    "Sample": SAMPLE_NOTE,
                },
                indent=1,
            )
            + "\n"
        )
    shipped = json.loads(SAMPLE_FILE.read_text())
    assert shipped["RegistrationTypes"] == taken["RegistrationTypes"]
    assert shipped["Sample"] == SAMPLE_NOTE
    assert list(RegistrationDefinitions.from_sample().registration_types) == list(SAMPLE_TYPES)


SAMPLE_NOTE = (
    "SAMPLE definitions, not authoritative. Written by `python -m cdk_sms_registration "
    "definitions` against this library's test service, whose definitions are modelled on the "
    "service's published ones (AWS End User Messaging SMS, 2026). The service's definitions "
    "change and differ by account: before you submit, snapshot yours with `python -m "
    "cdk_sms_registration definitions TYPE --output FILE` and use that file."
)
