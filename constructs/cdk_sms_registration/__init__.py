"""AWS End User Messaging SMS registrations, attachments and brand profiles for the AWS CDK.

The CDK parts are imported on first use (PEP 562), so ``python -m cdk_sms_registration check``
and ``from cdk_sms_registration import AttachmentValidationError`` start neither the CDK nor
Node.js. ``from cdk_sms_registration import RegistrationAttachment`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cdk_sms_registration_handler.brand_profile_contract import BrandProfileValidationError
from cdk_sms_registration_handler.document_rules import (
    DEFAULT_MAX_SIZE_BYTES,
    AttachmentValidationError,
)
from cdk_sms_registration_handler.registration_contract import RegistrationValidationError
from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE

from ._version import __version__

if TYPE_CHECKING:
    from .attachment import IRegistrationAttachment, RegistrationAttachment
    from .brand_profile import BrandAttribute, BrandAttributeValue, BrandProfile, IBrandProfile
    from .definitions import RegistrationDefinitions
    from .provider import RegistrationAttachmentProvider
    from .registration import IRegistration, Registration
    from .shared_provider import (
        SERVICE_TOKEN_EXPORT_NAME,
        SharedProviderStack,
        import_service_token,
    )
    from .source import AttachmentSource

# The class lives with the rules the handler shares; this is its public home, and tracebacks
# and docs show it as cdk_sms_registration.AttachmentValidationError.
AttachmentValidationError.__module__ = __name__
RegistrationValidationError.__module__ = __name__
BrandProfileValidationError.__module__ = __name__

#: Public name -> the submodule that defines it (imported on first access).
_LAZY = {
    "AttachmentSource": ".source",
    "BrandAttribute": ".brand_profile",
    "BrandAttributeValue": ".brand_profile",
    "BrandProfile": ".brand_profile",
    "IBrandProfile": ".brand_profile",
    "IRegistrationAttachment": ".attachment",
    "RegistrationAttachment": ".attachment",
    "RegistrationAttachmentProvider": ".provider",
    "IRegistration": ".registration",
    "Registration": ".registration",
    "RegistrationDefinitions": ".definitions",
    "SERVICE_TOKEN_EXPORT_NAME": ".shared_provider",
    "SharedProviderStack": ".shared_provider",
    "import_service_token": ".shared_provider",
}

__all__ = [
    "DEFAULT_MAX_SIZE_BYTES",
    "RESOURCE_TYPE",
    "SERVICE_TOKEN_EXPORT_NAME",
    "AttachmentSource",
    "AttachmentValidationError",
    "BrandAttribute",
    "BrandAttributeValue",
    "BrandProfile",
    "BrandProfileValidationError",
    "IBrandProfile",
    "IRegistration",
    "IRegistrationAttachment",
    "Registration",
    "RegistrationAttachment",
    "RegistrationAttachmentProvider",
    "RegistrationDefinitions",
    "RegistrationValidationError",
    "SharedProviderStack",
    "__version__",
    "import_service_token",
]


def __getattr__(name: str) -> Any:
    """Import a CDK part on first access and keep it as a module attribute."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
