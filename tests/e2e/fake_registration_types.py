"""Registration type, section and field definitions served by the fake SMS service.

Data only, in the wire shapes of ``DescribeRegistrationTypeDefinitions`` /
``DescribeRegistrationSectionDefinitions`` / ``DescribeRegistrationFieldDefinitions``. Modelled
on the real definitions (the live service wins; these exist so the handler can be tested
against definitions it never compiled in):

- ``US_TOLL_FREE_REGISTRATION``: 27 fields over 4 sections (three pages at the fake's default
  page size of 10): TEXT fields with lengths and patterns, a one-choice SELECT
  (``messagingUseCase.monthlyMessageVolume``), a multi-choice SELECT
  (``messagingUseCase.useCaseCategory``, 1-3 choices), a REQUIRED and an OPTIONAL ATTACHMENT,
  REQUIRED and OPTIONAL fields; a ``TOLL_FREE`` number (US) is associated before submit.
- ``US_TEN_DLC_BRAND_REGISTRATION``: CONDITIONAL fields whose ``ConditionalBehavior`` is
  DISALLOWED unless ``companyInfo.businessType`` EQUALS ``PUBLIC_PROFIT``
  (``companyInfo.stockSymbol`` / ``companyInfo.stockExchange``: then OPTIONAL;
  ``contactInfo.businessContactEmail``: then REQUIRED).
- ``US_TEN_DLC_BRAND_VETTING``: no sections and no fields; a brand registration is associated
  before submit.
- ``IN_SENDER_ID_REGISTRATION``: an India sender ID (3-6 letters) for transactional or
  promotional messages, the company's DLT entity ID, a REQUIRED letter of authorization and an
  OPTIONAL proof of the sender ID's connection to the brand (ATTACHMENTs); the sender ID is
  associated by the service on approval.

``text_field``/``select_field``/``attachment_field``/``conditional`` build definitions;
``bulk_text_type`` builds a type of N plain text fields (e.g. 100 for throttling tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

JsonDict = dict[str, Any]

TOLL_FREE = "US_TOLL_FREE_REGISTRATION"
TEN_DLC_BRAND = "US_TEN_DLC_BRAND_REGISTRATION"
TEN_DLC_BRAND_VETTING = "US_TEN_DLC_BRAND_VETTING"
INDIA_SENDER_ID = "IN_SENDER_ID_REGISTRATION"

ANY_TEXT = r"^(?=\s*\S)[\s\S]+$"
URL = r"^https?://[^\s]+$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
E164 = r"^\+[1-9][0-9]{1,14}$"
ISO_COUNTRY = r"^[A-Z]{2}$"
ZIP_CODE = r"^[0-9]{5}(-[0-9]{4})?$"

MONTHLY_VOLUMES = (
    "10",
    "100",
    "1,000",
    "10,000",
    "100,000",
    "250,000",
    "500,000",
    "750,000",
    "1,000,000",
    "5,000,000",
    "10,000,000+",
)
USE_CASE_CATEGORIES = (
    "TWO_FACTOR_AUTHENTICATION",
    "ACCOUNT_NOTIFICATIONS",
    "CUSTOMER_CARE",
    "DELIVERY_NOTIFICATIONS",
    "FRAUD_ALERT_MESSAGING",
    "MARKETING",
    "POLLING_AND_VOTING",
    "PUBLIC_SERVICE_ANNOUNCEMENT",
    "SECURITY_ALERT",
)
BUSINESS_TYPES = ("PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "GOVERNMENT")
STOCK_EXCHANGES = ("NASDAQ", "NYSE", "AMEX", "TSX", "LSE", "OTHER")


def _title(path: str) -> str:
    name = path.rsplit(".", 1)[-1]
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).capitalize()


def _field(path: str, field_type: str, requirement: str, **members: Any) -> JsonDict:
    section = path.split(".", 1)[0]
    return {
        "SectionPath": section,
        "FieldPath": path,
        "FieldType": field_type,
        "FieldRequirement": requirement,
        **members,
        "DisplayHints": {"Title": _title(path), "ShortDescription": f"The {_title(path).lower()}."},
    }


def text_field(
    path: str,
    requirement: str = "OPTIONAL",
    *,
    min_length: int = 1,
    max_length: int = 2048,
    pattern: str = ANY_TEXT,
) -> JsonDict:
    """A TEXT field definition."""
    return _field(
        path,
        "TEXT",
        requirement,
        TextValidation={"MinLength": min_length, "MaxLength": max_length, "Pattern": pattern},
    )


def select_field(
    path: str,
    options: Sequence[str],
    requirement: str = "OPTIONAL",
    *,
    min_choices: int = 1,
    max_choices: int = 1,
) -> JsonDict:
    """A SELECT field definition (``max_choices`` 1 is a single choice)."""
    field = _field(
        path,
        "SELECT",
        requirement,
        SelectValidation={
            "MinChoices": min_choices,
            "MaxChoices": max_choices,
            "Options": list(options),
        },
    )
    field["DisplayHints"]["SelectOptionDescriptions"] = [
        {"Option": option, "Title": option} for option in options
    ]
    return field


def attachment_field(path: str, requirement: str = "OPTIONAL") -> JsonDict:
    """An ATTACHMENT field definition (its value is a registration attachment ID)."""
    return _field(path, "ATTACHMENT", requirement)


def conditional(
    field: JsonDict,
    depends_on: str,
    operator: str,
    values: Sequence[str],
    rule_behavior: str,
    default_behavior: str,
) -> JsonDict:
    """``field`` made CONDITIONAL with one rule (first matching rule wins, else the default)."""
    condition: JsonDict = {"DependsOnFieldPath": depends_on, "Operator": operator}
    if values:
        condition["Values"] = list(values)
    return {
        **field,
        "FieldRequirement": "CONDITIONAL",
        "ConditionalBehavior": {
            "Rules": [{"Conditions": [condition], "RuleBehavior": rule_behavior}],
            "DefaultBehavior": default_behavior,
        },
    }


def _section(path: str, title: str) -> JsonDict:
    return {"SectionPath": path, "DisplayHints": {"Title": title, "ShortDescription": title}}


def registration_type(
    name: str,
    title: str,
    *,
    sections: Sequence[JsonDict] = (),
    fields: Sequence[JsonDict] = (),
    associations: Sequence[JsonDict] = (),
) -> JsonDict:
    """A type as ``FakeRegistrations.add_registration_type`` takes it."""
    return {
        "RegistrationType": name,
        "DisplayHints": {"Title": title},
        "SupportedAssociations": list(associations),
        "Sections": list(sections),
        "Fields": list(fields),
    }


def bulk_text_type(name: str, count: int, *, requirement: str = "REQUIRED") -> JsonDict:
    """A type with ``count`` TEXT fields ``bulk.field001`` ... in one section."""
    return registration_type(
        name,
        f"{count} text fields",
        sections=[_section("bulk", "Bulk")],
        fields=[text_field(f"bulk.field{i:03d}", requirement) for i in range(1, count + 1)],
    )


def _toll_free() -> JsonDict:
    fields = [
        text_field("companyInfo.companyName", "REQUIRED", max_length=100),
        text_field("companyInfo.website", "REQUIRED", max_length=500, pattern=URL),
        text_field("companyInfo.address1", "REQUIRED", max_length=100),
        text_field("companyInfo.address2", max_length=100),
        text_field("companyInfo.city", "REQUIRED", max_length=100),
        text_field("companyInfo.state", "REQUIRED", max_length=100),
        text_field("companyInfo.zipCode", "REQUIRED", max_length=10, pattern=ZIP_CODE),
        text_field(
            "companyInfo.isoCountryCode",
            "REQUIRED",
            min_length=2,
            max_length=2,
            pattern=ISO_COUNTRY,
        ),
        select_field("companyInfo.businessType", BUSINESS_TYPES, "REQUIRED"),
        text_field(
            "companyInfo.businessRegistrationNumber", max_length=50, pattern=r"^[A-Za-z0-9-]+$"
        ),
        text_field("contactInfo.firstName", "REQUIRED", max_length=50),
        text_field("contactInfo.lastName", "REQUIRED", max_length=50),
        text_field(
            "contactInfo.supportEmail", "REQUIRED", min_length=5, max_length=100, pattern=EMAIL
        ),
        text_field(
            "contactInfo.supportPhoneNumber", "REQUIRED", min_length=2, max_length=16, pattern=E164
        ),
        select_field("messagingUseCase.monthlyMessageVolume", MONTHLY_VOLUMES, "REQUIRED"),
        select_field(
            "messagingUseCase.useCaseCategory", USE_CASE_CATEGORIES, "REQUIRED", max_choices=3
        ),
        text_field("messagingUseCase.useCaseDetails", "REQUIRED", max_length=500),
        text_field("messagingUseCase.optInDescription", "REQUIRED", max_length=500),
        attachment_field("messagingUseCase.optInImage", "REQUIRED"),
        text_field("messagingUseCase.optInKeyword", max_length=20, pattern=r"^[A-Za-z0-9]+$"),
        text_field("messagingUseCase.privacyPolicyUrl", max_length=500, pattern=URL),
        text_field("messagingUseCase.termsAndConditionsUrl", max_length=500, pattern=URL),
        select_field("messagingUseCase.ageGatedContent", ("Yes", "No")),
        attachment_field("messagingUseCase.supportingDocument"),
        text_field("messageSamples.messageSample1", "REQUIRED", min_length=20, max_length=1024),
        text_field("messageSamples.messageSample2", min_length=20, max_length=1024),
        text_field("messageSamples.messageSample3", min_length=20, max_length=1024),
    ]
    return registration_type(
        TOLL_FREE,
        "US toll-free number registration",
        sections=[
            _section("companyInfo", "Company information"),
            _section("contactInfo", "Contact information"),
            _section("messagingUseCase", "Messaging use case"),
            _section("messageSamples", "Message samples"),
        ],
        fields=fields,
        associations=[
            {
                "ResourceType": "TOLL_FREE",
                "IsoCountryCode": "US",
                "AssociationBehavior": "ASSOCIATE_BEFORE_SUBMIT",
                "DisassociationBehavior": "DISASSOCIATE_ALL_CLOSES_REGISTRATION",
            }
        ],
    )


def _ten_dlc_brand() -> JsonDict:
    public = ("companyInfo.businessType", "EQUALS", ["PUBLIC_PROFIT"])
    fields = [
        text_field("companyInfo.companyName", "REQUIRED", max_length=100),
        select_field("companyInfo.businessType", BUSINESS_TYPES, "REQUIRED"),
        text_field(
            "companyInfo.taxIdIssuingCountry",
            "REQUIRED",
            min_length=2,
            max_length=2,
            pattern=ISO_COUNTRY,
        ),
        text_field("companyInfo.taxId", "REQUIRED", max_length=21, pattern=r"^[A-Za-z0-9-]+$"),
        text_field("companyInfo.website", max_length=500, pattern=URL),
        conditional(
            text_field("companyInfo.stockSymbol", max_length=10, pattern=r"^[A-Z.]+$"),
            *public,
            "OPTIONAL",
            "DISALLOWED",
        ),
        conditional(
            select_field("companyInfo.stockExchange", STOCK_EXCHANGES),
            *public,
            "OPTIONAL",
            "DISALLOWED",
        ),
        text_field("contactInfo.firstName", "REQUIRED", max_length=50),
        text_field("contactInfo.lastName", "REQUIRED", max_length=50),
        text_field("contactInfo.email", "REQUIRED", min_length=5, max_length=100, pattern=EMAIL),
        conditional(
            text_field("contactInfo.businessContactEmail", max_length=100, pattern=EMAIL),
            *public,
            "REQUIRED",
            "DISALLOWED",
        ),
        text_field("contactInfo.phoneNumber", "REQUIRED", max_length=16, pattern=E164),
    ]
    return registration_type(
        TEN_DLC_BRAND,
        "US 10DLC brand registration",
        sections=[
            _section("companyInfo", "Company information"),
            _section("contactInfo", "Contact information"),
        ],
        fields=fields,
    )


def _ten_dlc_brand_vetting() -> JsonDict:
    return registration_type(
        TEN_DLC_BRAND_VETTING,
        "US 10DLC brand vetting",
        associations=[
            {
                "ResourceType": TEN_DLC_BRAND,
                "IsoCountryCode": "US",
                "AssociationBehavior": "ASSOCIATE_BEFORE_SUBMIT",
                "DisassociationBehavior": "DELETE_REGISTRATION_DISASSOCIATES",
            }
        ],
    )


def _india_sender_id() -> JsonDict:
    fields = [
        text_field("companyInfo.companyName", "REQUIRED", max_length=100),
        text_field("companyInfo.website", "REQUIRED", max_length=500, pattern=URL),
        text_field("companyInfo.address1", "REQUIRED", max_length=100),
        text_field("companyInfo.city", "REQUIRED", max_length=100),
        text_field(
            "companyInfo.isoCountryCode",
            "REQUIRED",
            min_length=2,
            max_length=2,
            pattern=ISO_COUNTRY,
        ),
        text_field(
            "companyInfo.principalEntityId",
            "REQUIRED",
            min_length=19,
            max_length=19,
            pattern=r"^[0-9]{19}$",
        ),
        text_field("contactInfo.firstName", "REQUIRED", max_length=50),
        text_field("contactInfo.lastName", "REQUIRED", max_length=50),
        text_field("contactInfo.email", "REQUIRED", min_length=5, max_length=100, pattern=EMAIL),
        text_field("contactInfo.phoneNumber", max_length=16, pattern=E164),
        text_field(
            "senderIdInfo.senderId", "REQUIRED", min_length=3, max_length=6, pattern=r"^[A-Z]+$"
        ),
        select_field("senderIdInfo.messageType", ("TRANSACTIONAL", "PROMOTIONAL"), "REQUIRED"),
        attachment_field("senderIdInfo.letterOfAuthorization", "REQUIRED"),
        attachment_field("senderIdInfo.senderIdConnectionProof"),
    ]
    return registration_type(
        INDIA_SENDER_ID,
        "India sender ID registration",
        sections=[
            _section("companyInfo", "Company information"),
            _section("contactInfo", "Contact information"),
            _section("senderIdInfo", "Sender ID information"),
        ],
        fields=fields,
        associations=[
            {
                "ResourceType": "SENDER_ID",
                "IsoCountryCode": "IN",
                "AssociationBehavior": "ASSOCIATE_ON_APPROVAL",
                "DisassociationBehavior": "DELETE_REGISTRATION_DISASSOCIATES",
            }
        ],
    )


def builtin_types() -> list[JsonDict]:
    """Fresh copies of the fake's built-in registration types."""
    return [_toll_free(), _ten_dlc_brand(), _ten_dlc_brand_vetting(), _india_sender_id()]
