"""What each CloudFormation request does to a ``Custom::SmsBrandProfile``.

Runs under ``lifecycle_guard`` (placeholders, the checks before and after answering, rollbacks);
the service calls are in ``brand_profiles``, the decision in ``brand_profile_plan``, the
contract in ``brand_profile_contract``.

- Create: check every document in S3 first (nothing is created for a bad one), then
  CreateBrandProfile (ClientToken per request, the owner mark as a tag, deletion protection
  off), then the attributes as an Update would write them, then deletion protection if
  declared. Any failure after the create deletes the profile: brand profiles default to RETAIN,
  so CloudFormation's rollback sends no Delete for a failed Create.
- Update: read what the service holds (the profile, its tags, its attributes and their values),
  ``brand_profile_plan.decide``, write only the difference. A renamed profile is renamed in
  place; a profile that is gone is made again (a new physical ID), except during a rollback.
  A rollback restores the previous declaration the same way: no profile is ever made by one.
- Delete: only a profile whose owner mark names this resource; gone already is success;
  deletion protection on, or a refusal, raises ``Refused`` (a FAILED answer naming the fix,
  or during a rollback SUCCESS, the profile left and logged).

Documents travel from S3 through the function: each is read whole into memory (at most 5 MB,
the service's limit), and one CreateBrandProfileAttributes call carries at most 6 MB of them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import brand_profiles
from .attachments import error_code
from .brand_profile_contract import (
    BRAND_PROFILE_ID_PATTERN,
    BRAND_PROFILE_NAME,
    MAX_MEDIA_BYTES,
    MEDIA_CONTENT,
    OWNER_TAG_KEY,
    AttributeSpec,
    BrandProfileSpec,
    BrandProfileValidationError,
    parse_properties,
)
from .brand_profile_plan import AttributePlan, decide
from .brand_profiles import HeldAttribute
from .document_rules import AttachmentValidationError, sniff_type
from .lifecycle_guard import (
    CHECKPOINT_EVERY_SECONDS,
    Answer,
    Refused,
    Request,
    RequestFailed,
    discarded_text,
)
from .retries import Deadline, RetriesExhausted
from .s3_source import check_source, read_document

logger = logging.getLogger(__name__)

#: Time kept back from the deadline to delete a half-made profile after a failure.
CLEANUP_RESERVE_SECONDS = 15.0


class BrandProfileFailed(RequestFailed):
    """A failure whose message is the reason CloudFormation shows (names, never values)."""


class _Attempt:
    """One request's work on one profile: observe, plan, write, counting the writes."""

    def __init__(self, request: Request, spec: BrandProfileSpec, profile: Mapping[str, Any]):
        self.request = request
        self.spec = spec
        self.profile_id = str(profile["brandProfileId"])
        self.profile = dict(profile)
        self.eum = _eum(request)
        self.s3 = request.clients("s3")
        self.deadline = request.deadline.sooner(
            request.deadline.remaining() - CLEANUP_RESERVE_SECONDS
        )
        self.written = 0
        #: A forward Update asks CloudFormation again while writing; Create and rollbacks don't
        #: (the guard asks after a Create; a rollback must finish).
        self.in_place_checks = request.request_type == "Update" and not request.rolling_back
        # Never asked yet: the first attribute write asks first (a late delivery of a forward
        # Update, its rollback long done, must not write its declaration).
        self._checked_at = float("-inf")
        self.sizes: dict[str, int] = {}
        self._bodies: dict[str, bytes] = {}

    # Observe ---------------------------------------------------------------------------

    def check_documents(self) -> None:
        """Every declared document exists, is readable and fits its type, before any write."""
        for spec in self.spec.attributes:
            if spec.source is None:
                continue
            try:
                facts = check_source(self.s3, spec.source, self.deadline)
            except AttachmentValidationError as error:
                raise BrandProfileFailed(f"attribute {spec.name}: {error}") from None
            found = _document_type(facts.head)
            if found not in MEDIA_CONTENT[spec.attribute_type]:
                raise BrandProfileFailed(
                    f"attribute {spec.name}: {spec.source.display_name} is "
                    f"{found or 'not a PDF, PNG or JPEG'}, "
                    f"but an {spec.attribute_type} attribute takes "
                    f"{' or '.join(MEDIA_CONTENT[spec.attribute_type])}"
                )
            self.sizes[spec.name] = facts.size_bytes

    def observe(
        self, old: BrandProfileSpec | None
    ) -> tuple[dict[str, HeldAttribute], dict[str, bool]]:
        """The held attributes; for each declared one of the held type, whether values agree."""
        held = brand_profiles.list_attributes(self.eum, self.profile_id, self.deadline)
        same: dict[str, bool] = {}
        for spec in self.spec.attributes:
            current = held.get(spec.name)
            if current is None or current.attribute_type != spec.attribute_type:
                continue
            current = brand_profiles.read_attribute(
                self.eum, self.profile_id, current, self.deadline
            )
            held[spec.name] = current
            same[spec.name] = self._same_value(spec, current, old)
        return held, same

    def _same_value(
        self, spec: AttributeSpec, current: HeldAttribute, old: BrandProfileSpec | None
    ) -> bool:
        if not spec.is_media:
            return current.text == spec.text
        if current.media_size != self.sizes.get(spec.name):
            return False
        before = old.by_name.get(spec.name) if old is not None else None
        if (
            before is not None
            and before.attribute_type == spec.attribute_type
            and before.same_source(spec)
        ):
            # The previous properties declared this very object and the sizes agree: a tie
            # broken without downloading both documents.
            return True
        held_digest = (
            brand_profiles.media_digest(current.download_url, self.deadline)
            if current.download_url
            else None
        )
        return (
            held_digest is not None and held_digest == hashlib.sha256(self._body(spec)).hexdigest()
        )

    def _body(self, spec: AttributeSpec) -> bytes:
        if spec.name not in self._bodies:
            assert spec.source is not None
            try:
                self._bodies[spec.name] = read_document(
                    self.s3, spec.source, self.deadline, MAX_MEDIA_BYTES
                )
            except AttachmentValidationError as error:
                raise BrandProfileFailed(f"attribute {spec.name}: {error}") from None
        return self._bodies[spec.name]

    # Apply -----------------------------------------------------------------------------

    def apply(self, plan: AttributePlan) -> None:
        """The profile's own members, tags, then the attribute writes; protection last."""
        declared = self.spec.by_name
        changes: dict[str, Any] = {}
        if self.profile.get("brandProfileName") != self.spec.name:
            changes["brandProfileName"] = self.spec.name
        protected = bool(self.profile.get("deletionProtectionEnabled"))
        if protected and not self.spec.deletion_protection:
            changes["deletionProtectionEnabled"] = False
        if changes:
            self.profile.update(self._update_profile(changes))
        self._tags()
        for name in plan.replace:
            self._write(f"delete {name} (replaced)", self._deleter(name))
        specs = [declared[name] for name in plan.to_create]
        for batch in brand_profiles.batches(specs, self.sizes):
            bodies = {spec.name: self._body(spec) for spec in batch if spec.is_media}
            self._write(
                f"create {', '.join(spec.name for spec in batch)}",
                functools.partial(
                    brand_profiles.create_attributes,
                    self.eum,
                    self.profile_id,
                    batch,
                    bodies,
                    self.request.token,
                    self.deadline,
                ),
                count=len(batch),
            )
            for spec in batch:  # a call's bodies leave memory after it
                self._bodies.pop(spec.name, None)
        for name in (*plan.update_value, *plan.update_details):
            spec = declared[name]
            with_value = name in plan.update_value
            body = self._body(spec) if with_value and spec.is_media else None
            self._write(
                f"update {name}",
                functools.partial(
                    brand_profiles.update_attribute,
                    self.eum,
                    self.profile_id,
                    spec,
                    body,
                    self.deadline,
                    value=with_value,
                ),
            )
            self._bodies.pop(name, None)
        for name in plan.delete:
            self._write(f"delete {name}", self._deleter(name))
        for name in plan.foreign:
            logger.warning(
                "brand profile %s: attribute %s is not declared and was not declared before "
                "(made outside this stack?): left as it is",
                self.profile_id,
                name,
            )
        if self.spec.deletion_protection and not self.profile.get("deletionProtectionEnabled"):
            self.profile.update(self._update_profile({"deletionProtectionEnabled": True}))

    def _deleter(self, name: str) -> Callable[[], object]:
        return lambda: brand_profiles.delete_attribute(
            self.eum, self.profile_id, name, self.deadline
        )

    def _update_profile(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        try:
            updated = brand_profiles.update(self.eum, self.profile_id, self.deadline, **changes)
        except ClientError as error:
            if "brandProfileName" in changes and error_code(error) == "ConflictException":
                raise BrandProfileFailed(_name_taken()) from None
            raise
        self.written += 1
        logger.info("brand profile %s: updated %s", self.profile_id, ", ".join(sorted(changes)))
        return updated

    def _tags(self) -> None:
        arn = str(self.profile["brandProfileArn"])
        current = brand_profiles.read_tags(self.eum, arn, self.deadline)
        desired = self.spec.service_tags(self.request.owner)
        changed, removed = brand_profiles.reconcile_tags(
            self.eum, arn, current, desired, self.deadline
        )
        if changed or removed:
            logger.info("tags of %s: set %s, removed %s", self.profile_id, changed, removed)

    def bind(self, profile: Mapping[str, Any]) -> None:
        """The profile just created: the documents' checks carry over."""
        self.profile_id = str(profile["brandProfileId"])
        self.profile = dict(profile)

    def _write(self, what: str, call: Callable[[], object], count: int = 1) -> None:
        if self.in_place_checks and time.monotonic() - self._checked_at >= CHECKPOINT_EVERY_SECONDS:
            # Cancelled: its rollback Update is restoring the profile meanwhile; stop writing.
            self.request.checkpoint(self.profile_id, in_place=True)
            self._checked_at = time.monotonic()
        call()
        self.written += count
        logger.info("brand profile %s: %s", self.profile_id, what)

    def explain(self, error: BaseException) -> str:
        """The failure as a reason: what failed and how many writes were made."""
        count = f"{self.written} writes made"
        if isinstance(error, RequestFailed):
            return f"{error}; {count}"
        if isinstance(error, RetriesExhausted):
            return f"out of time: {count}"
        return f"{brand_profiles.safe_error_text(error)}; {count}"


def _document_type(head: bytes) -> str | None:
    found = sniff_type(head)
    return found.value if found is not None else None


def _name_taken() -> str:
    return (
        f"{BRAND_PROFILE_NAME} is taken by another brand profile of this account and region "
        "(ConflictException): choose another name, or use that profile with "
        "BrandProfile.from_brand_profile_id"
    )


def _parse(properties: Mapping[str, Any]) -> BrandProfileSpec:
    try:
        return parse_properties(properties)
    except BrandProfileValidationError as error:
        raise BrandProfileFailed(str(error)) from None


def _parse_or_none(properties: Mapping[str, Any] | None) -> BrandProfileSpec | None:
    try:
        return parse_properties(properties or {})
    except BrandProfileValidationError:
        return None


def _eum(request: Request) -> Any:
    return request.clients("endusermessaging")


class BrandProfileLifecycle:
    """``Custom::SmsBrandProfile`` for ``lifecycle_guard``."""

    kind = "brand profile"
    owner_tag = OWNER_TAG_KEY

    def could_be_id(self, physical_id: str) -> bool:
        """The service's brand profile ID syntax."""
        return BRAND_PROFILE_ID_PATTERN.fullmatch(physical_id) is not None

    def create(self, request: Request) -> Answer:
        """Check the documents, create the profile, write its attributes."""
        spec = _parse(request.properties)
        return self._make(request, spec, replacing=None)

    def update(self, request: Request) -> Answer:
        """Reconcile with what the service holds (gone: made again, except in a rollback)."""
        spec = _parse(request.properties)
        eum = _eum(request)
        profile = brand_profiles.get(eum, request.physical_id, request.deadline)
        if profile is None:
            if request.rolling_back:
                raise BrandProfileFailed(
                    f"brand profile {request.physical_id} is gone; a rollback makes nothing"
                )
            # A new physical ID: CloudFormation then deletes the old one (already gone).
            return self._make(request, spec, replacing=request.physical_id)
        tags = brand_profiles.read_tags(eum, str(profile["brandProfileArn"]), request.deadline)
        if tags.get(OWNER_TAG_KEY) != request.owner:
            raise BrandProfileFailed(
                f"brand profile {request.physical_id} was not made by this resource (its "
                f"{OWNER_TAG_KEY} tag differs): not changed"
            )
        attempt = _Attempt(request, spec, profile)
        attempt.check_documents()
        held, same = attempt.observe(_parse_or_none(request.old_properties))
        plan = decide(spec, held, same, _parse_or_none(request.old_properties))
        try:
            attempt.apply(plan)
        except Exception as error:
            raise BrandProfileFailed(
                f"brand profile {attempt.profile_id}: {attempt.explain(error)}"
            ) from error
        if attempt.written == 0:
            logger.info(
                "brand profile %s holds the declaration: nothing written", attempt.profile_id
            )
        return Answer(attempt.profile_id, brand_profiles.attributes(attempt.profile))

    def delete(self, request: Request) -> str:
        """Delete the profile this resource made; gone already counts as deleted."""
        profile_id = request.physical_id
        eum = _eum(request)
        try:
            profile = brand_profiles.get(eum, profile_id, request.deadline)
            if profile is None:
                return "not on the service; nothing to delete"
            tags = brand_profiles.read_tags(eum, str(profile["brandProfileArn"]), request.deadline)
        except Exception as error:
            # Without the owner mark nothing proves this resource made it: never delete blind.
            raise Refused(
                f"brand profile {profile_id}: its owner cannot be read: "
                f"{brand_profiles.safe_error_text(error)}; not deleted"
            ) from None
        if tags.get(OWNER_TAG_KEY) != request.owner:
            logger.warning("brand profile %s was not made by this resource", profile_id)
            return "not made by this resource; left alone"
        if profile.get("deletionProtectionEnabled"):
            raise Refused(
                f"brand profile {profile_id} has deletion protection on: deploy it with "
                "deletion_protection=False (DeletionProtection: false) first, or keep it with "
                "removal_policy=RETAIN"
            )
        try:
            return brand_profiles.delete(eum, profile_id, request.deadline)
        except brand_profiles.ProfileInUse:
            raise Refused(
                f"brand profile {profile_id}: the service refuses to delete it "
                "(ConflictException); check its deletion protection and what uses it, or keep "
                "it with removal_policy=RETAIN"
            ) from None

    def discard(self, request: Request, made_id: str, *, left_for_rollback: bool) -> str:
        """Delete a profile this request made (deletion protection turned off first)."""
        return _discard(request, made_id, left_for_rollback=left_for_rollback)

    def _make(self, request: Request, spec: BrandProfileSpec, *, replacing: str | None) -> Answer:
        eum = _eum(request)
        # Every document is checked before anything exists that would need cleaning up.
        attempt = _Attempt(request, spec, {"brandProfileId": "", "brandProfileArn": ""})
        attempt.check_documents()
        try:
            created = brand_profiles.create(
                eum, spec, request.token, request.owner, request.deadline
            )
        except ClientError as error:
            if error_code(error) == "ConflictException":
                raise BrandProfileFailed(f"{_name_taken()}; nothing created") from None
            raise BrandProfileFailed(
                f"{brand_profiles.safe_error_text(error)}; nothing created"
            ) from None
        profile_id = str(created["brandProfileId"])
        logger.info("created brand profile %s", profile_id)
        if replacing is None:
            # A FAILED answer from here on (crhelper's timeout answer included) names it.
            request.name(profile_id)
        attempt.bind(created)
        try:
            # A delivery of this request may have written some already (same ClientToken).
            held, same = attempt.observe(None)
            if held and replacing is None and request.already_taken(profile_id):
                # A late delivery of a Create answered long ago: the profile is the stack's,
                # and the Updates since own what it holds; this older declaration must not
                # be written over it.
                logger.info(
                    "brand profile %s: made by an earlier delivery; nothing written", profile_id
                )
                return Answer(profile_id, brand_profiles.attributes(created), made=True)
            attempt.apply(decide(spec, held, same, None))
        except Exception as error:
            what = attempt.explain(error)
            outcome = _discard(request, profile_id, left_for_rollback=False)
            raise BrandProfileFailed(f"{what}; brand profile {profile_id} {outcome}") from error
        return Answer(profile_id, brand_profiles.attributes(attempt.profile), made=True)


def _discard(request: Request, profile_id: str, *, left_for_rollback: bool) -> str:
    """Delete a profile this request made; say what happened, for the FAILED reason."""
    eum = _eum(request)
    deadline: Deadline = request.deadline
    try:
        profile = brand_profiles.get(eum, profile_id, deadline)
        if profile is None:
            return "already gone"
        if profile.get("deletionProtectionEnabled"):
            brand_profiles.update(eum, profile_id, deadline, deletionProtectionEnabled=False)
        outcome = brand_profiles.delete(eum, profile_id, deadline)
    except Exception as error:
        logger.error(
            "could not delete half-made brand profile %s: %s",
            profile_id,
            brand_profiles.safe_error_text(error),
        )
        return discarded_text("brand profile", left_for_rollback, OWNER_TAG_KEY)
    return outcome if outcome == "already gone" else "deleted"
