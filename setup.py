"""The package index's copy of README.md, with its links into the repository made absolute.

README.md links to the repository's files relatively, so each link opens the file in a clone,
an editor or on GitHub. The package index shows the README without the repository, so the
wheel's and the sdist's description get the same links pointing at the release's tag on
GitHub (``readme`` is dynamic in pyproject.toml for this; everything else is declared there).
"""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import setup

REPOSITORY = "https://github.com/cdk-sms-registration/cdk-sms-registration"
HERE = Path(__file__).parent
#: The release's tag (docs/releasing.md): its description links to the docs of that release.
VERSION = re.search(
    r'__version__ = "([^"]+)"',
    (HERE / "constructs" / "cdk_sms_registration" / "_version.py").read_text("utf-8"),
)
TAG = f"v{VERSION.group(1)}" if VERSION else "main"
#: A Markdown link whose target is neither a URL nor an e-mail address.
RELATIVE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:)([^)\s]+)\)")


def absolute_links(markdown: str) -> str:
    """The links of a README at the repository's top, pointing at GitHub."""

    def absolute(match: re.Match[str]) -> str:
        target = match.group(1)
        if target.startswith("#"):
            return f"]({REPOSITORY}{target})"
        return f"]({REPOSITORY}/blob/{TAG}/{target.removeprefix('./')})"

    return RELATIVE_LINK.sub(absolute, markdown)


setup(
    long_description=absolute_links((HERE / "README.md").read_text("utf-8")),
    long_description_content_type="text/markdown",
)
