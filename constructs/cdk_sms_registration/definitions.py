"""``RegistrationDefinitions``: a saved snapshot of the service's registration definitions.

``python -m cdk_sms_registration definitions TYPE... --output FILE`` writes the snapshot (the
only step that needs AWS); ``scaffold`` and ``Registration(..., definitions=...)`` read it
offline. Standard library only: no CDK, no boto3.

Snapshot (JSON)::

    {"Format": "cdk-sms-registration/registration-definitions", "Version": 1,
     "TakenAt": "2026-11-02T10:00:00Z", "Region": "us-east-1",
     "RegistrationTypes": {"US_TOLL_FREE_REGISTRATION": {
         "TypeDefinition": {...}, "SectionDefinitions": [...], "FieldDefinitions": [...]}}}

Definitions are kept exactly as the service sent them (``ConditionalBehavior`` included).

Before one has credentials, ``RegistrationDefinitions.from_sample(TYPE...)`` (and ``scaffold
TYPE --sample``) reads the sample snapshot shipped in the package (``samples/``): the
definitions of the library's test service, modelled on the published ones. Samples are not
authoritative: the service's definitions change; run ``definitions`` against your account
before you submit.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from cdk_sms_registration_handler.registration_contract import (
    FieldValue,
    RegistrationValidationError,
)
from cdk_sms_registration_handler.registration_rules import Problem, check_fields

FORMAT = "cdk-sms-registration/registration-definitions"
VERSION = 1
#: The sample snapshot shipped in the package, and how errors and scaffold name it.
SAMPLE_FILE = Path(__file__).parent / "samples" / "registration-definitions.json"
SAMPLE_SOURCE = (
    "the SAMPLE definitions shipped with cdk-sms-registration (not authoritative: run "
    "`python -m cdk_sms_registration definitions TYPE --output FILE` against your account)"
)

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class TypeDefinitions:
    """One registration type's definitions, as the service returned them."""

    registration_type: str
    type_definition: Mapping[str, Any]
    sections: Sequence[Mapping[str, Any]]
    fields: Sequence[Mapping[str, Any]]

    def to_json(self) -> JsonDict:
        """The type's entry of the snapshot."""
        return {
            "TypeDefinition": dict(self.type_definition),
            "SectionDefinitions": [dict(s) for s in self.sections],
            "FieldDefinitions": [dict(f) for f in self.fields],
        }


class RegistrationDefinitions:
    """Saved field definitions of registration types, to check ``Registration`` at synth.

    Written by ``python -m cdk_sms_registration definitions TYPE... --output FILE``.

    Example::

        definitions = RegistrationDefinitions.from_file("registration-definitions.json")
        Registration(self, "TollFree", registration_type="US_TOLL_FREE_REGISTRATION",
                     fields={...}, definitions=definitions)
    """

    def __init__(
        self,
        types: Mapping[str, TypeDefinitions],
        *,
        taken_at: str,
        region: str,
        source: str = "the definitions snapshot",
    ) -> None:
        """Definitions by registration type; ``source`` names them in errors."""
        self._types = dict(types)
        self.taken_at = taken_at
        self.region = region
        self.source = source

    @staticmethod
    def from_file(path: str | Path) -> RegistrationDefinitions:
        """Read a snapshot file; a file that is not one raises RegistrationValidationError."""
        try:
            snapshot = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RegistrationValidationError(
                f"{path}: no such definitions snapshot; write one with "
                "`python -m cdk_sms_registration definitions TYPE --output FILE`"
            ) from None
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise RegistrationValidationError(
                f"{path}: not a definitions snapshot ({type(error).__name__})"
            ) from None
        return RegistrationDefinitions.from_snapshot(snapshot, source=str(path))

    @staticmethod
    def from_sample(*registration_types: str) -> RegistrationDefinitions:
        """The shipped sample definitions of ``registration_types`` (all samples when none).

        For a first synth or ``scaffold`` without AWS credentials. Checked against samples, a
        registration can still be denied: take a snapshot of your account's definitions with
        the ``definitions`` command before you submit.
        """
        samples = RegistrationDefinitions.from_snapshot(
            json.loads(SAMPLE_FILE.read_text(encoding="utf-8")), source=SAMPLE_SOURCE
        )
        unknown = [name for name in registration_types if name not in samples._types]
        if unknown:
            raise RegistrationValidationError(
                f"no sample definitions of {', '.join(unknown)}; samples exist for "
                f"{', '.join(samples.registration_types)}. For any other type write a snapshot "
                f"with `python -m cdk_sms_registration definitions {' '.join(unknown)} "
                "--output FILE`"
            )
        if registration_types:
            samples._types = {name: samples._types[name] for name in registration_types}
        return samples

    @property
    def is_sample(self) -> bool:
        """Whether these are the shipped samples (not a snapshot of an account)."""
        return self.source == SAMPLE_SOURCE

    @staticmethod
    def from_snapshot(
        snapshot: Mapping[str, Any], *, source: str = "the definitions snapshot"
    ) -> RegistrationDefinitions:
        """Definitions from a parsed snapshot (see the module's notes for its shape)."""
        if not isinstance(snapshot, Mapping) or snapshot.get("Format") != FORMAT:
            raise RegistrationValidationError(
                f"{source}: not a definitions snapshot (Format is not {FORMAT!r})"
            )
        if snapshot.get("Version") != VERSION:
            raise RegistrationValidationError(
                f"{source}: snapshot Version {snapshot.get('Version')!r} is not {VERSION}; "
                "write it again with this release's `definitions` command"
            )
        entries = snapshot.get("RegistrationTypes")
        if not isinstance(entries, Mapping):
            raise RegistrationValidationError(f"{source}: RegistrationTypes is not an object")
        types: dict[str, TypeDefinitions] = {}
        for name, entry in entries.items():
            entry = entry if isinstance(entry, Mapping) else {}
            type_definition = entry.get("TypeDefinition")
            sections, fields = entry.get("SectionDefinitions"), entry.get("FieldDefinitions")
            if not (
                isinstance(type_definition, Mapping) and _records(sections) and _records(fields)
            ):
                raise RegistrationValidationError(
                    f"{source}: {name} needs {', '.join(_PARTS)} (an object and two lists)"
                )
            types[str(name)] = TypeDefinitions(str(name), type_definition, sections, fields)
        return RegistrationDefinitions(
            types,
            taken_at=str(snapshot.get("TakenAt", "")),
            region=str(snapshot.get("Region", "")),
            source=source,
        )

    def to_snapshot(self) -> JsonDict:
        """The snapshot as JSON data (what ``from_snapshot`` reads)."""
        return {
            "Format": FORMAT,
            "Version": VERSION,
            "TakenAt": self.taken_at,
            "Region": self.region,
            "RegistrationTypes": {name: t.to_json() for name, t in self._types.items()},
        }

    @property
    def registration_types(self) -> list[str]:
        """The registration types the snapshot holds, in its order."""
        return list(self._types)

    def of(self, registration_type: str) -> TypeDefinitions:
        """One type's definitions; a type the snapshot lacks raises and says so."""
        found = self._types.get(registration_type)
        if found is None:
            held = ", ".join(self._types) or "no types"
            close = difflib.get_close_matches(
                registration_type, list(self._types), n=1, cutoff=0.85
            )
            hint = f"did you mean {close[0]}? " if close else ""
            raise RegistrationValidationError(
                f"{self.source} has no definitions of {registration_type} (it holds {held}); "
                f"{hint}"
                f"add them: python -m cdk_sms_registration definitions {registration_type} "
                f"{' '.join(self._types)} --output {self.source}".rstrip()
            )
        return found

    def check(
        self,
        registration_type: str,
        values: Mapping[str, FieldValue],
        *,
        submit: bool,
        unknown: Collection[str] = (),
    ) -> list[Problem]:
        """The handler's rules (``registration_rules.check_fields``) on the snapshot."""
        return check_fields(
            list(self.of(registration_type).fields),
            values,
            submit=submit,
            registration_type=registration_type,
            unknown=unknown,
        )

    def __repr__(self) -> str:
        return (
            f"RegistrationDefinitions({self.source!r}, types={self.registration_types}, "
            f"region={self.region!r}, taken_at={self.taken_at!r})"
        )


_PARTS = ("TypeDefinition", "SectionDefinitions", "FieldDefinitions")


def _records(value: object) -> TypeGuard[list[Mapping[str, Any]]]:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)
