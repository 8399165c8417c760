"""``python -m cdk_sms_registration COMMAND``: checks and registration tools without the CDK.

``check PATH...`` runs the same rules as ``AttachmentSource.from_file`` and the attachment's
size check, so a pipeline can reject a bad document before ``cdk deploy`` (a folder is searched
for documents). ``definitions``, ``scaffold`` and ``status`` answer a registration's questions
in the terminal (see their modules). No command imports the CDK or starts Node.js except
``provider-template``; boto3 is imported only by the commands that call AWS.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

from cdk_sms_registration_handler.document_rules import (
    ALLOWED_EXTENSIONS_TEXT,
    DEFAULT_MAX_SIZE_BYTES,
    EXTENSION_TYPES,
    AttachmentValidationError,
    check_local_file,
)

from . import cli_definitions, cli_status, provider_template, scaffold
from ._version import __version__
from .cli_aws import run_command

CFN_LINT_RULES = "cfn-lint-rules"
#: The cfn-lint rules, shipped as package data (they import cfn-lint, not this package).
RULES_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cfn_lint_rules")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cdk_sms_registration",
        description=(
            "Check registration attachment documents before deploying them; save registration "
            "definitions, scaffold and check registration fields, and follow their review."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"cdk-sms-registration {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="check that files are PDF, JPEG or PNG by content and within the size limit",
        description=(
            "Check documents. A FILE is checked whatever its name; a folder is searched, "
            f"recursively, for {ALLOWED_EXTENSIONS_TEXT} files (hidden ones skipped)."
        ),
    )
    check.add_argument("paths", nargs="+", metavar="FILE_OR_FOLDER")
    check.add_argument(
        "--max-size",
        type=int,
        default=DEFAULT_MAX_SIZE_BYTES,
        metavar="BYTES",
        help=f"size limit in bytes (default {DEFAULT_MAX_SIZE_BYTES}, the service's limit)",
    )
    commands.add_parser(
        CFN_LINT_RULES,
        help="print the folder of the shipped cfn-lint rules (for cfn-lint --append-rules)",
        description=(
            "Print the folder that holds the cfn-lint rules E9101-E9103 shipped in the package: "
            'cfn-lint --append-rules "$(python -m cdk_sms_registration cfn-lint-rules)" '
            "template.yaml"
        ),
    )
    provider_template.add_parser(commands)
    cli_definitions.add_parser(commands)
    scaffold.add_parser(commands)
    cli_status.add_parser(commands)
    return parser


def _files_in(folder: str) -> Iterator[tuple[str, bool]]:
    """Each file under ``folder`` (hidden ones left out) and whether it has a document extension."""
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                document = os.path.splitext(name)[1].lower() in EXTENSION_TYPES
                yield os.path.join(root, name), document


def _expand(paths: Sequence[str]) -> Iterator[tuple[str, str | None, bool]]:
    """(path, problem, skipped) for each file to check or to list as skipped.

    A file given by name is checked whatever its name; a folder's files without a document
    extension are listed, not checked; a folder with no documents is a problem.
    """
    for path in paths:
        if not os.path.isdir(path):
            yield path, None, False
            continue
        found = False
        for file, document in _files_in(path):
            found = found or document
            yield file, None, not document
        if not found:
            yield path, f"{path}: folder holds no {ALLOWED_EXTENSIONS_TEXT} files", False


def check_files(paths: Sequence[str], max_size_bytes: int) -> int:
    """Print one line per document; return the number of documents (or folders) that fail.

    A file in a folder without a document extension is listed as skipped (not a failure).
    """
    failures = 0
    for path, problem, skipped in _expand(paths):
        if skipped:
            print(f"skip {path}: not {ALLOWED_EXTENSIONS_TEXT} (name it to check it)")
            continue
        try:
            if problem is not None:
                raise AttachmentValidationError(problem)
            document_type = check_local_file(path, max_size_bytes)
        except AttachmentValidationError as error:
            failures += 1
            print(f"FAIL {error}", file=sys.stderr)
        else:
            print(f"ok   {path}: {document_type.value}, {os.path.getsize(path)} bytes")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; exit code 0 when every document passes, 1 otherwise."""
    arguments = _parser().parse_args(argv)
    if arguments.command == CFN_LINT_RULES:
        print(RULES_FOLDER)
        return 0
    if arguments.command == provider_template.COMMAND:
        return provider_template.run(arguments)
    registration_commands = {
        cli_definitions.COMMAND: cli_definitions.run,
        scaffold.COMMAND: scaffold.run,
        cli_status.COMMAND: cli_status.run,
    }
    if arguments.command in registration_commands:
        command = registration_commands[arguments.command]
        return run_command(arguments.command, lambda: command(arguments))
    if arguments.max_size < 1:
        _parser().error("--max-size must be a positive number of bytes")
    return 1 if check_files(arguments.paths, arguments.max_size) else 0
