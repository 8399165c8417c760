"""``python -m cdk_sms_registration provider-template``: the shared provider without the CDK.

Synthesizes ``SharedProviderStack`` in-process with a synthesizer that needs no bootstrapped
account, strips what only the CDK reads, and points the function at a zip in the deployer's own
bucket. Teams that deploy with plain CloudFormation (``aws cloudformation deploy``, StackSets,
Service Catalog) get a template and the handler zip it names, with the same parameters and
export as ``cdk deploy SmsRegistrationAttachmentProvider``.

The CDK (and so Node.js) is imported only when a template is written: the CLI's ``check`` must
not start Node.js.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._version import __version__

COMMAND = "provider-template"
#: The stack name the printed ``aws cloudformation deploy`` uses; the CDK app uses the same.
STACK_NAME = "SmsRegistrationAttachmentProvider"
TEMPLATE_FILE = "sms-registration-provider.template.json"
ZIP_STEM = "sms-registration-provider"
DEFAULT_OUTPUT = "sms-registration-provider"

#: CloudFormation pseudo parameters a bucket name may hold (one bucket per region for StackSets:
#: Lambda reads code only from a bucket in the function's own region), and the shell variables
#: the printed upload command uses for them.
BUCKET_VARIABLES = {"${AWS::Region}": "${AWS_REGION}", "${AWS::AccountId}": "${AWS_ACCOUNT_ID}"}
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
_POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}")
_POLICY_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:policy/[\w+=,.@/-]{1,512}")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # a regular file Lambda's runtime user can read

#: What the CDK writes for itself and a plain CloudFormation deploy does without.
_CDK_PARAMETERS = ("BootstrapVersion",)
_CDK_RULES = ("CheckBootstrapVersion",)
_CDK_CONDITIONS = ("CDKMetadataAvailable",)
_CDK_RESOURCES = ("CDKMetadata",)
_CDK_METADATA_PREFIXES = ("aws:cdk:", "aws:asset:")


@dataclass(frozen=True)
class ProviderTemplate:
    """What ``write_provider_template`` wrote, and where the zip must be uploaded."""

    template_path: Path
    zip_path: Path
    #: The bucket as the template names it (may hold ``${AWS::Region}``/``${AWS::AccountId}``).
    bucket: str
    key: str

    def next_steps(self) -> str:
        """The upload and deploy commands to run next, for people to copy."""
        bucket = self.bucket
        for variable, shell in BUCKET_VARIABLES.items():
            bucket = bucket.replace(variable, shell)
        destination = f"s3://{bucket}/{self.key}"
        upload_target = f'"{destination}"' if "$" in destination else shlex.quote(destination)
        lines = [
            f"Wrote {self.template_path} and {self.zip_path}.",
            "Next, with credentials for the target account and region:",
            "",
            f"  aws s3 cp {shlex.quote(str(self.zip_path))} {upload_target}",
            f"  aws cloudformation deploy --stack-name {STACK_NAME} \\",
            f"    --template-file {shlex.quote(str(self.template_path))} \\",
            "    --capabilities CAPABILITY_IAM \\",
            "    --parameter-overrides 'ReadableObjectArns=arn:aws:s3:::DOCUMENT-BUCKET/PREFIX/*'",
            "",
            "Add DecryptKeyArns=<key ARN,...> for SSE-KMS document buckets. The stack exports "
            "the ServiceToken as SmsRegistrationAttachmentServiceToken.",
        ]
        if bucket != self.bucket:
            lines.append(
                "The bucket name holds variables: upload the zip to the bucket of every region "
                "(and account) you deploy to, with AWS_REGION/AWS_ACCOUNT_ID set for each."
            )
        return "\n".join(lines)


def bucket_argument(value: str) -> str:
    """An S3 bucket name, optionally with ``${AWS::Region}`` or ``${AWS::AccountId}``."""
    plain = value
    for variable in BUCKET_VARIABLES:
        plain = plain.replace(variable, "x")
    if "$" in plain or "{" in plain:
        raise argparse.ArgumentTypeError(
            f"{value!r}: only ${{AWS::Region}} and ${{AWS::AccountId}} may appear in a bucket name"
        )
    if not _BUCKET_NAME.fullmatch(plain):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an S3 bucket name: 3-63 characters, lowercase letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit (no s3:// prefix)"
        )
    return value


def prefix_argument(value: str) -> str:
    """A key prefix such as ``lambda/sms``: letters, digits, ``._-`` and ``/`` between parts."""
    prefix = value.strip("/")
    if prefix and (not _PREFIX.fullmatch(prefix) or ".." in prefix.split("/")):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a key prefix: parts of letters, digits, '.', '_' and '-' "
            "separated by '/' (for example lambda/sms-registration)"
        )
    return prefix


def boundary_argument(value: str) -> str:
    """A managed policy name (in the deploying account) or ARN for the role's boundary."""
    if not (_POLICY_NAME.fullmatch(value) or _POLICY_ARN.fullmatch(value)):
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither an IAM policy name (letters, digits and +=,.@_-) nor a "
            "policy ARN (arn:aws:iam::111122223333:policy/NAME)"
        )
    return value


def write_zip(source_dir: Path, destination: Path) -> None:
    """Zip a directory reproducibly: sorted entries, fixed dates, readable modes, no bytecode."""
    files = sorted(
        path
        for path in source_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    with zipfile.ZipFile(destination, "w") as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source_dir).as_posix(), date_time=_ZIP_DATE)
            info.external_attr = _FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def strip_cdk_metadata(template: dict[str, Any]) -> dict[str, Any]:
    """The template without bootstrap checks, CDKMetadata and construct-path metadata."""
    for section, names in (
        ("Parameters", _CDK_PARAMETERS),
        ("Rules", _CDK_RULES),
        ("Conditions", _CDK_CONDITIONS),
        ("Resources", _CDK_RESOURCES),
    ):
        entries = template.get(section, {})
        for name in names:
            entries.pop(name, None)
        if section in template and not entries:
            del template[section]
    for resource in template.get("Resources", {}).values():
        metadata = resource.get("Metadata", {})
        for key in [k for k in metadata if k.startswith(_CDK_METADATA_PREFIXES)]:
            del metadata[key]
        if "Metadata" in resource and not metadata:
            del resource["Metadata"]
    return template


def _synthesize(
    workdir: Path, permissions_boundary: str | None
) -> tuple[dict[str, Any], str, Path]:
    """The SharedProviderStack template, its handler asset's hash and staged directory."""
    import aws_cdk as cdk  # here, not at module level: the CLI's check must not start Node.js

    from .shared_provider import SharedProviderStack

    boundary = None
    if permissions_boundary is not None:
        boundary = (
            cdk.PermissionsBoundary.from_arn(permissions_boundary)
            if permissions_boundary.startswith("arn:")
            else cdk.PermissionsBoundary.from_name(permissions_boundary)
        )
    app = cdk.App(outdir=str(workdir), analytics_reporting=False)
    SharedProviderStack(
        app,
        STACK_NAME,
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        permissions_boundary=boundary,
        description=f"Custom::SmsRegistrationAttachment provider (cdk-sms-registration "
        f"{__version__}, written by python -m cdk_sms_registration {COMMAND})",
    )
    app.synth()
    template = json.loads((workdir / f"{STACK_NAME}.template.json").read_text())
    assets = json.loads((workdir / f"{STACK_NAME}.assets.json").read_text())["files"]
    zipped = [(h, a) for h, a in assets.items() if a["source"].get("packaging") == "zip"]
    if len(zipped) != 1:
        raise RuntimeError(f"expected one zipped asset (the handler), found {len(zipped)}")
    asset_hash, asset = zipped[0]
    return template, asset_hash, workdir / asset["source"]["path"]


def write_provider_template(
    output_dir: Path | str,
    bucket: str,
    prefix: str = "",
    *,
    permissions_boundary: str | None = None,
) -> ProviderTemplate:
    """Write the standalone provider template and the handler zip it names into ``output_dir``.

    The zip is named after the handler asset's hash, so a release with a changed handler never
    overwrites the zip an existing stack was deployed from. ``permissions_boundary`` (a managed
    policy name or ARN) becomes the provider role's ``PermissionsBoundary``.
    """
    bucket = bucket_argument(bucket)
    prefix = prefix_argument(prefix)
    if permissions_boundary is not None:
        permissions_boundary = boundary_argument(permissions_boundary)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sms-provider-synth-") as workdir:
        template, asset_hash, staged = _synthesize(Path(workdir), permissions_boundary)
        zip_name = f"{ZIP_STEM}-{asset_hash}.zip"
        key = f"{prefix}/{zip_name}" if prefix else zip_name
        functions = [
            resource
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Lambda::Function"
            and resource["Properties"]["Code"].get("S3Key") == f"{asset_hash}.zip"
        ]
        if len(functions) != 1:
            raise RuntimeError(f"expected one function with the handler asset, found {functions}")
        functions[0]["Properties"]["Code"] = {
            "S3Bucket": {"Fn::Sub": bucket} if "${" in bucket else bucket,
            "S3Key": key,
        }
        write_zip(staged, output / zip_name)
    template_path = output / TEMPLATE_FILE
    template_path.write_text(json.dumps(strip_cdk_metadata(template), indent=2) + "\n")
    return ProviderTemplate(template_path, output / zip_name, bucket, key)


def add_parser(commands: Any) -> None:
    """Add the ``provider-template`` subcommand to the CLI's subparsers."""
    parser = commands.add_parser(
        COMMAND,
        help="write the shared provider as a plain CloudFormation template and handler zip",
        description="Write the shared provider (SharedProviderStack) as a CloudFormation "
        "template that needs no CDK bootstrap, and the handler zip it loads from your bucket.",
    )
    parser.add_argument(
        "--bucket",
        required=True,
        type=bucket_argument,
        help="bucket the zip is uploaded to, in the region of the stack; may hold "
        "${AWS::Region} and ${AWS::AccountId} (one bucket per region for StackSets)",
    )
    parser.add_argument(
        "--prefix", default="", type=prefix_argument, help="key prefix for the zip, e.g. lambda"
    )
    parser.add_argument(
        "--permissions-boundary",
        type=boundary_argument,
        metavar="POLICY",
        help="managed policy name or ARN to set as the provider role's permissions boundary",
    )
    parser.add_argument(
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help=f"directory for the template and the zip (default ./{DEFAULT_OUTPUT})",
    )


def run(arguments: argparse.Namespace) -> int:
    """Write the template and zip, print the next commands; exit code 0 (2: cannot write)."""
    output = Path(arguments.output)
    if output.exists() and not output.is_dir():
        print(
            f"error: --output {output}: is a file; give a folder (it is created if missing)",
            file=sys.stderr,
        )
        return 2
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(
            f"error: --output {output}: cannot create the folder ({error.strerror})",
            file=sys.stderr,
        )
        return 2
    written = write_provider_template(
        arguments.output,
        arguments.bucket,
        arguments.prefix,
        permissions_boundary=arguments.permissions_boundary,
    )
    print(written.next_steps())
    return 0
