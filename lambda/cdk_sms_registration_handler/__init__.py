"""Lambda custom-resource handler for ``Custom::SmsRegistrationAttachment``.

This package is the Lambda asset (crhelper is added next to it at synth). Its modules
``document_rules`` and ``resource_contract`` use only the standard library, so the CDK
construct imports them too: the rules and the property names exist once.
"""

#: The crhelper release bundled into the Lambda asset at synth time.
CRHELPER_REQUIREMENT = "crhelper==2.0.12"
