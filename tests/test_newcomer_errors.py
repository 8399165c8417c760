"""The mistakes a newcomer makes, each answered by a message that says what to do."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

import cdk_sms_registration
from cdk_sms_registration import (
    AttachmentSource,
    AttachmentValidationError,
    Registration,
    RegistrationAttachment,
    RegistrationDefinitions,
    RegistrationValidationError,
)
from cdk_sms_registration.attachment import SHARED_PROVIDER_ASSETS_WARNING
from cdk_sms_registration_handler import document_rules
from cdk_sms_registration_handler.document_rules import DEFAULT_MAX_SIZE_BYTES, check_local_file
from cdk_sms_registration_handler.registration_contract import HANDLER_TAG_PREFIX
from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE, SOURCE_TAG_KEY

from .cdk_apps import ENV, new_app, resources_of_type
from .conftest import SAMPLE_PDF, SAMPLE_PNG

SHARED_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:shared-provider"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdk_sms_registration", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("newcomer")


def _stack(outdir: Path, name: str) -> cdk.Stack:
    return cdk.Stack(new_app(outdir), name, env=ENV)


def test_bucket_name_instead_of_a_bucket() -> None:
    with pytest.raises(AttachmentValidationError) as raised:
        AttachmentSource.from_bucket("my-bucket", "loa.pdf")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "from_bucket bucket 'my-bucket': must be an s3.IBucket, not str; import a bucket by its "
        'name with s3.Bucket.from_bucket_name(self, "Docs", "my-bucket") and pass that'
    )


def test_missing_relative_path_shows_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AttachmentValidationError) as raised:
        AttachmentSource.from_file("documents/loa.pdf")
    message = str(raised.value)
    assert message.startswith("documents/loa.pdf: file does not exist")
    assert f"looked for {tmp_path / 'documents' / 'loa.pdf'}" in message
    assert f"relative to the working directory {tmp_path}" in message
    assert "Path(__file__).parent / 'documents/loa.pdf'" in message
    # The suggested form works: from_file takes a Path.
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "loa.pdf").write_bytes(SAMPLE_PDF.read_bytes())
    AttachmentSource.from_file(tmp_path / "documents" / "loa.pdf")
    # check says where it looked too.
    result = _cli("check", "scans/absent.pdf", cwd=tmp_path)
    assert f"looked for {tmp_path / 'scans' / 'absent.pdf'}" in result.stderr


def test_empty_file_has_one_message_at_synth_and_in_check(make_file) -> None:
    empty = make_file("letter.pdf", b"")
    expected = f"{empty}: is empty; a registration attachment needs content"
    with pytest.raises(AttachmentValidationError) as at_synth:
        AttachmentSource.from_file(empty)
    assert str(at_synth.value) == expected
    result = _cli("check", empty)
    assert result.returncode == 1
    assert result.stderr.strip() == f"FAIL {expected}"


def test_check_walks_a_folder(tmp_path: Path) -> None:
    (tmp_path / "sub" / ".git").mkdir(parents=True)
    (tmp_path / "loa.PDF").write_bytes(SAMPLE_PDF.read_bytes())
    (tmp_path / "sub" / "logo.png").write_bytes(SAMPLE_PNG.read_bytes())
    (tmp_path / "sub" / "scan.pdf").write_bytes(SAMPLE_PNG.read_bytes())
    (tmp_path / "sub" / ".git" / "hidden.pdf").write_bytes(b"not checked")
    (tmp_path / "notes.txt").write_text("not a document")
    result = _cli("check", str(tmp_path))
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        f"ok   {tmp_path / 'loa.PDF'}",
        f"skip {tmp_path / 'notes.txt'}",
        f"ok   {tmp_path / 'sub' / 'logo.png'}",
    ]
    assert result.stderr.strip() == (
        f"FAIL {tmp_path / 'sub' / 'scan.pdf'}: content is PNG but the extension says PDF; "
        "rename the file or convert it"
    )
    assert "extension" not in result.stdout
    assert f"skip {tmp_path / 'notes.txt'}: not .pdf, .jpg, .jpeg or .png" in result.stdout

    empty = tmp_path / "empty-folder"
    empty.mkdir()
    nothing = _cli("check", str(empty))
    assert nothing.returncode == 1
    assert f"{empty}: folder holds no .pdf, .jpg, .jpeg or .png files" in nothing.stderr


def test_too_many_tags_after_tags_of_fail_validation_with_the_path(outdir: Path) -> None:
    stack = _stack(outdir, "Tagged")
    RegistrationAttachment(
        stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF), tags={"owner": "sms"}
    )
    for index in range(199):
        cdk.Tags.of(stack).add(f"cost-center-{index}", "x")
    with pytest.raises(RuntimeError) as raised:
        stack.node.root.synth()  # type: ignore[attr-defined]
    message = str(raised.value)
    assert "Validation failed" in message
    assert "[Tagged/Loa] tags: 200 tags, at most 199 allowed" in message
    assert "exclude_resource_types=['Custom::SmsRegistrationAttachment']" in message
    assert "Resolution error" not in message


def test_a_reserved_key_from_tags_of_fails_validation(outdir: Path) -> None:
    stack = _stack(outdir, "Reserved")
    RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    cdk.Tags.of(stack).add(SOURCE_TAG_KEY, "mine")
    with pytest.raises(RuntimeError) as raised:
        stack.node.root.synth()  # type: ignore[attr-defined]
    assert (
        f"[Reserved/Loa] tags: tag key {SOURCE_TAG_KEY!r} is reserved for the source "
        "fingerprint (a tag added with Tags.of())"
    ) in str(raised.value)


def test_199_tags_are_fine(outdir: Path) -> None:
    stack = _stack(outdir, "Tagged199")
    RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    for index in range(199):
        # IAM allows 50 tags per role: the provider's role is left out, as the error says.
        cdk.Tags.of(stack).add(
            f"cost-center-{index}", "x", exclude_resource_types=["AWS::IAM::Role"]
        )
    resource = next(iter(resources_of_type(Template.from_stack(stack), RESOURCE_TYPE).values()))
    assert len(resource["Properties"]["Tags"]) == 199


def test_snapshot_removal_policy_is_refused_after_construction_too(outdir: Path) -> None:
    stack = _stack(outdir, "Snapshot")
    loa = RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    with pytest.raises(AttachmentValidationError) as raised:
        loa.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)
    assert str(raised.value) == (
        "Snapshot/Loa: removal_policy RemovalPolicy.SNAPSHOT is not supported; "
        "use DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE"
    )
    loa.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    resource = next(iter(resources_of_type(Template.from_stack(stack), RESOURCE_TYPE).values()))
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_snapshot_set_by_an_aspect_fails_validation(outdir: Path) -> None:
    stack = _stack(outdir, "SnapshotAspect")
    RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    cdk.RemovalPolicies.of(stack).apply(cdk.RemovalPolicy.SNAPSHOT)
    with pytest.raises(RuntimeError, match=r"\[SnapshotAspect/Loa\] removal_policy .*SNAPSHOT"):
        stack.node.root.synth()  # type: ignore[attr-defined]


def _registration(stack: cdk.Stack) -> Registration:
    return Registration(
        stack, "Reg", registration_type="US_TOLL_FREE_REGISTRATION", service_token=SHARED_TOKEN
    )


def test_a_registration_reports_tags_of_problems_under_its_path(outdir: Path) -> None:
    stack = _stack(outdir, "RegTagged")
    _registration(stack)
    for index in range(200):
        cdk.Tags.of(stack).add(f"cost-center-{index}", "x")
    with pytest.raises(RuntimeError) as raised:
        stack.node.root.synth()  # type: ignore[attr-defined]
    message = str(raised.value)
    assert "[RegTagged/Reg] tags: 200 tags, at most 199 allowed" in message
    assert "exclude_resource_types=['Custom::SmsRegistration']" in message
    assert "Resolution error" not in message

    stack = _stack(outdir, "RegReserved")
    _registration(stack)
    cdk.Tags.of(stack).add(f"{HANDLER_TAG_PREFIX}mine", "x")
    with pytest.raises(RuntimeError) as raised:
        stack.node.root.synth()  # type: ignore[attr-defined]
    assert (
        f"[RegReserved/Reg] tags: tag key '{HANDLER_TAG_PREFIX}mine' uses the prefix "
        f"{HANDLER_TAG_PREFIX}, reserved for the handler's marks (a tag added with Tags.of())"
    ) in str(raised.value)


def test_a_registration_refuses_snapshot_at_construction_after_and_by_aspect(
    outdir: Path,
) -> None:
    stack = _stack(outdir, "RegSnapshot")
    registration = _registration(stack)
    with pytest.raises(RegistrationValidationError) as raised:
        registration.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)
    assert str(raised.value) == (
        "RegSnapshot/Reg: removal_policy RemovalPolicy.SNAPSHOT is not supported; "
        "use DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE"
    )
    cdk.RemovalPolicies.of(stack).apply(cdk.RemovalPolicy.SNAPSHOT)
    with pytest.raises(RuntimeError, match=r"\[RegSnapshot/Reg\] removal_policy .*SNAPSHOT"):
        stack.node.root.synth()  # type: ignore[attr-defined]


def test_shared_provider_with_a_file_warns_about_the_asset_bucket(outdir: Path) -> None:
    stack = _stack(outdir, "Shared")
    RegistrationAttachment(
        stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF), service_token=SHARED_TOKEN
    )
    bucket = s3.Bucket.from_bucket_name(stack, "Docs", "registration-documents")
    RegistrationAttachment(
        stack,
        "FromBucket",
        source=AttachmentSource.from_bucket(bucket, "loa.pdf"),
        service_token=SHARED_TOKEN,
    )
    warnings = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    assert [warning.id for warning in warnings] == ["/Shared/Loa"]
    text = str(warnings[0].entry.data)
    assert "ReadableObjectArns" in text
    assert "arn:aws:s3:::cdk-<qualifier>-assets-<account>-<region>/*" in text
    assert f"[ack: {SHARED_PROVIDER_ASSETS_WARNING}]" in text


def test_public_exception_path() -> None:
    assert AttachmentValidationError is document_rules.AttachmentValidationError
    assert f"{AttachmentValidationError.__module__}.{AttachmentValidationError.__qualname__}" == (
        "cdk_sms_registration.AttachmentValidationError"
    )
    copy = pickle.loads(pickle.dumps(AttachmentValidationError("x.pdf: is empty")))
    assert type(copy) is AttachmentValidationError
    traceback = subprocess.run(
        [
            sys.executable,
            "-c",
            "import cdk_sms_registration\n"
            "from cdk_sms_registration_handler.document_rules import type_for_name\n"
            "type_for_name('letter.docx')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert traceback.stderr.strip().splitlines()[-1] == (
        "cdk_sms_registration.AttachmentValidationError: letter.docx: has .docx; "
        "registration attachments must be .pdf, .jpg, .jpeg or .png"
    )


def test_size_messages_name_the_service_limit(make_file) -> None:
    big = make_file("big.pdf", b"%PDF-1.4\n" + b"0" * DEFAULT_MAX_SIZE_BYTES)
    with pytest.raises(AttachmentValidationError) as raised:
        check_local_file(big)
    assert str(raised.value) == (
        f"{big}: is {DEFAULT_MAX_SIZE_BYTES + 9} bytes, over the 5242880-byte limit; 5 MB "
        "(5242880 bytes) is the service's limit, so compress the document (raise "
        "max_size_bytes only once the service accepts larger documents)"
    )
    with pytest.raises(AttachmentValidationError) as lowered:
        check_local_file(str(SAMPLE_PDF), max_size_bytes=100)
    assert str(lowered.value).endswith(
        "over the 100-byte limit set by max_size_bytes (the service itself accepts up to "
        "5 MB, 5242880 bytes)"
    )


def test_check_imports_no_cdk(make_file) -> None:
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['cdk_sms_registration', 'check', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('cdk_sms_registration', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "cdk = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii'))\n"
        "print('exit', code, 'cdk modules', cdk)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(SAMPLE_PDF)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.stdout.splitlines()[-1] == "exit 0 cdk modules []"
    assert "node" not in result.stderr.lower()


def test_version_flag() -> None:
    result = _cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cdk-sms-registration {cdk_sms_registration.__version__}"


def test_lazy_package_keeps_its_public_names() -> None:
    for name in cdk_sms_registration.__all__:
        assert getattr(cdk_sms_registration, name) is not None
    assert set(cdk_sms_registration.__all__) <= set(dir(cdk_sms_registration))
    namespace: dict[str, object] = {}
    exec("from cdk_sms_registration import *", namespace)
    assert namespace["RegistrationAttachment"] is RegistrationAttachment
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        cdk_sms_registration.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_a_url_given_as_a_bucket_key_fails_at_synth(outdir: Path) -> None:
    stack = _stack(outdir, "UrlKey")
    bucket = s3.Bucket.from_bucket_name(stack, "Docs", "bkt")
    with pytest.raises(AttachmentValidationError, match=r"is a URL, not an object key"):
        AttachmentSource.from_bucket(bucket, "s3://bkt/loa.pdf")


def test_a_phone_number_as_an_association_names_the_id_to_use(outdir: Path) -> None:
    stack = _stack(outdir, "PhoneAssociation")
    with pytest.raises(
        RegistrationValidationError,
        match=r"PhoneAssociation/TollFree: associations\[1\]: '\+12065550100' is a phone "
        r"number; an association takes the number's ID \(phone-\.\.\.\) or ARN",
    ):
        Registration(
            stack,
            "TollFree",
            registration_type="US_TOLL_FREE_REGISTRATION",
            associations=["+12065550100"],
        )


def test_sample_definitions_check_at_synth_and_warn_that_they_are_samples(outdir: Path) -> None:
    stack = _stack(outdir, "Samples")
    samples = RegistrationDefinitions.from_sample("US_TEN_DLC_BRAND_REGISTRATION")
    assert samples.is_sample and samples.registration_types == ["US_TEN_DLC_BRAND_REGISTRATION"]
    with pytest.raises(RegistrationValidationError, match=r"Samples/Bad: 1 field breaks the rules"):
        Registration(
            stack,
            "Bad",
            registration_type="US_TEN_DLC_BRAND_REGISTRATION",
            fields={"companyInfo.companyNam": "Example Corp"},
            submit=False,
            definitions=samples,
        )
    Registration(
        stack,
        "Brand",
        registration_type="US_TEN_DLC_BRAND_REGISTRATION",
        fields={"companyInfo.companyName": "Example Corp"},
        submit=False,
        definitions=samples,
    )
    warnings = Annotations.from_stack(stack).find_warning("/Samples/Brand", Match.any_value())
    assert len(warnings) == 1
    assert "SAMPLE definitions" in str(warnings[0].entry.data)
    with pytest.raises(RegistrationValidationError, match=r"no sample definitions of GB_SENDER"):
        RegistrationDefinitions.from_sample("GB_SENDER_ID_REGISTRATION")


@pytest.mark.parametrize("command", ["definitions", "status"])
def test_a_region_that_is_not_one_is_refused_at_once(command: str) -> None:
    result = _cli(command, "US_TOLL_FREE_REGISTRATION", "--region", "us-eest")
    assert result.returncode == 2
    assert "'us-eest' is not an AWS region name (like us-east-1 or eu-west-2)" in result.stderr
    assert "Traceback" not in result.stderr


def test_provider_template_output_that_is_a_file_or_under_one_is_one_line(
    tmp_path: Path,
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    for output, says in (
        (afile, "is a file; give a folder"),
        (afile / "sub", "cannot create the folder"),
    ):
        result = _cli("provider-template", "--bucket", "my-docs", "--output", str(output))
        assert result.returncode == 2
        assert result.stderr.strip().startswith(f"error: --output {output}: {says}")
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_an_unknown_type_with_definitions_loaded_suggests_the_nearest(outdir: Path) -> None:
    stack = _stack(outdir, "NearType")
    with pytest.raises(
        RegistrationValidationError,
        match=r"NearType/Brand: .* has no definitions of US_TEN_DLC_BRAND_REGISTRATON .*did you "
        r"mean US_TEN_DLC_BRAND_REGISTRATION\?",
    ):
        Registration(
            stack,
            "Brand",
            registration_type="US_TEN_DLC_BRAND_REGISTRATON",
            definitions=RegistrationDefinitions.from_sample(),
        )


def test_an_object_as_service_token_names_the_string_to_give(outdir: Path) -> None:
    stack = _stack(outdir, "TokenObject")
    provider = cdk_sms_registration.RegistrationAttachmentProvider.of(stack)
    with pytest.raises(
        AttachmentValidationError,
        match=r"TokenObject/Loa: service_token must be a string, the provider function's ARN "
        r"\(this one's is \.service_token\)",
    ):
        RegistrationAttachment(
            stack,
            "Loa",
            source=AttachmentSource.from_file(SAMPLE_PDF),
            service_token=provider,  # type: ignore[arg-type]
        )
    with pytest.raises(
        RegistrationValidationError,
        match=r"TokenObject/Brand: service_token must be a string.*\(this one's is "
        r"\.function_arn\).*not a Function",
    ):
        Registration(
            stack,
            "Brand",
            registration_type="US_TEN_DLC_BRAND_REGISTRATION",
            service_token=provider.function,  # type: ignore[arg-type]
        )


def test_a_file_path_or_s3_url_given_as_text_warns_at_synth_without_the_value(
    outdir: Path,
) -> None:
    stack = _stack(outdir, "PathAsText")
    Registration(
        stack,
        "TollFree",
        registration_type="US_TOLL_FREE_REGISTRATION",
        fields={
            "messagingUseCase.optInImage": "docs/opt-in.png",
            "companyInfo.letter": "s3://bkt/loa.pdf",
            "companyInfo.website": "https://example.com/terms.pdf",  # a URL is text
            "companyInfo.companyName": "Example Corp",
        },
    )
    warnings = Annotations.from_stack(stack).find_warning("/PathAsText/TollFree", Match.any_value())
    texts = [str(w.entry.data) for w in warnings]
    assert len(texts) == 2
    assert (
        'fields["messagingUseCase.optInImage"]: the text looks like a local file path' in texts[0]
    )
    assert 'fields["companyInfo.letter"]' in texts[1]
    assert not any("opt-in.png" in t or "bkt" in t for t in texts)


def test_an_aws_prefixed_key_from_tags_of_fails_validation_with_the_path(outdir: Path) -> None:
    stack = _stack(outdir, "AwsKey")
    RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    cdk.Tags.of(stack).add("aws:team", "sms")
    with pytest.raises(RuntimeError) as raised:
        stack.node.root.synth()  # type: ignore[attr-defined]
    assert (
        "[AwsKey/Loa] tag key 'aws:team' (from Tags.of()): keys starting with aws: are reserved"
    ) in str(raised.value)


def test_more_stack_tags_than_iam_allows_on_the_provider_role_fail_with_the_fix(
    outdir: Path,
) -> None:
    stack = _stack(outdir, "RoleTags")
    RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    for index in range(51):
        cdk.Tags.of(stack).add(f"cost-center-{index}", "x")
    with pytest.raises(RuntimeError) as raised:
        stack.node.root.synth()  # type: ignore[attr-defined]
    message = str(raised.value)
    assert "the provider's IAM role gets 51 tags from Tags.of(), over IAM's 50 per role" in message
    assert "exclude_resource_types=['AWS::IAM::Role']" in message


def test_fifty_stack_tags_are_fine_for_the_provider_role(outdir: Path) -> None:
    stack = _stack(outdir, "RoleTagsOk")
    RegistrationAttachment(stack, "Loa", source=AttachmentSource.from_file(SAMPLE_PDF))
    for index in range(50):
        cdk.Tags.of(stack).add(f"cost-center-{index}", "x")
    stack.node.root.synth()  # type: ignore[attr-defined]
