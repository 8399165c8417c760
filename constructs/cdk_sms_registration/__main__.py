"""Entry point of ``python -m cdk_sms_registration``."""

import sys

from .cli import main

sys.exit(main())
