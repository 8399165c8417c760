"""Declarative AWS End User Messaging SMS registration attachments for the AWS CDK."""

from cdk_sms_registration_handler.document_rules import (
    DEFAULT_MAX_SIZE_BYTES,
    AttachmentValidationError,
)
from cdk_sms_registration_handler.registration_contract import RegistrationValidationError
from cdk_sms_registration_handler.resource_contract import RESOURCE_TYPE

from ._version import __version__
from .attachment import IRegistrationAttachment, RegistrationAttachment
from .provider import RegistrationAttachmentProvider
from .registration import IRegistration, Registration
from .shared_provider import SERVICE_TOKEN_EXPORT_NAME, SharedProviderStack, import_service_token
from .source import AttachmentSource

__all__ = [
    "DEFAULT_MAX_SIZE_BYTES",
    "RESOURCE_TYPE",
    "SERVICE_TOKEN_EXPORT_NAME",
    "AttachmentSource",
    "AttachmentValidationError",
    "IRegistration",
    "IRegistrationAttachment",
    "Registration",
    "RegistrationAttachment",
    "RegistrationAttachmentProvider",
    "RegistrationValidationError",
    "SharedProviderStack",
    "__version__",
    "import_service_token",
]
