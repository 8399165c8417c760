"""``python -m cdk_sms_registration check FILE...``: the synth-time document rules, for CI.

Runs the same rules as ``AttachmentSource.from_file`` and the attachment's size check, so a
pipeline can reject a bad document before ``cdk deploy``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cdk_sms_registration_handler.document_rules import (
    DEFAULT_MAX_SIZE_BYTES,
    AttachmentValidationError,
    check_local_file,
)

from . import provider_template


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cdk_sms_registration",
        description="Check registration attachment documents before deploying them.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="check that files are PDF, JPEG or PNG by content and within the size limit"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--max-size",
        type=int,
        default=DEFAULT_MAX_SIZE_BYTES,
        metavar="BYTES",
        help=f"size limit in bytes (default {DEFAULT_MAX_SIZE_BYTES}, the service's limit)",
    )
    provider_template.add_parser(commands)
    return parser


def check_files(files: Sequence[str], max_size_bytes: int) -> int:
    """Print one line per file; return the number of files that break a rule."""
    failures = 0
    for path in files:
        try:
            document_type = check_local_file(path, max_size_bytes)
        except AttachmentValidationError as error:
            failures += 1
            print(f"FAIL {error}", file=sys.stderr)
        else:
            print(f"ok   {path}: {document_type.value}, {os.path.getsize(path)} bytes")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; exit code 0 when every file passes, 1 otherwise."""
    arguments = _parser().parse_args(argv)
    if arguments.command == provider_template.COMMAND:
        return provider_template.run(arguments)
    if arguments.max_size < 1:
        _parser().error("--max-size must be a positive number of bytes")
    return 1 if check_files(arguments.files, arguments.max_size) else 0
