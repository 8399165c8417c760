"""Random whole histories of a brand profile stack, and the invariants checked after each step.

``ProfileHistoryMachine`` plays ``stacks.PROFILE_HISTORY_STACK`` (a profile, a DRAFT 10DLC brand
registration whose company name is the profile's legalName, a sibling attachment) through the
harness's CloudFormation, the handler in-process, every AWS call over HTTP to the fakes with
IAM evaluated. Rules:

- ``deploy``: one of ``DECLARATIONS`` for the profile (a changed value, which the registration
  follows; a renamed attribute; a dropped document; the logo turned into a PDF DOCUMENT;
  deletion protection on; an IMAGE that is a PDF, which the handler refuses before any write);
- ``deploy_then_fail``: the same, then another resource fails: the real update rollback;
- ``deploy_sibling_fails``: the same, while the sibling fails at once: CloudFormation cancels
  the profile's request (it may run on) and rolls back;
- ``redeploy_same``: an Update with the recorded properties: no write;
- ``redeliver``: a request of the history delivered again (a duplicate or late delivery).

Invariants after every step: (a) no orphan profile or registration; (b) no ``*_FAILED`` stack;
(c) after success the profile holds the declaration (names, kinds, texts, documents by digest,
deletion protection) and the registration the declared company name; after a rollback the
profile holds what it held before; (d) a rollback creates no profile; (e) no profile write when
it already holds the declaration; (f) no value in a reason, Data or log line; (g) no harness
problem and no fake violation (IAM denials included).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from ..conftest import SAMPLE_PDF, SAMPLE_PNG
from .cloudformation import CloudAssembly, DeployResult, Sent, StackArtifact, StackDeployment
from .fake_brand_profiles import FakeBrandProfiles
from .fake_cloudformation import FakeCloudFormation
from .fake_sms import FakeSmsService
from .histories import ROLLBACK_PHASES, VIOLATIONS, Tally
from .inprocess import InProcessRuntime
from .servers import ResponseReceiver
from .stacks import (
    PRIVATE_NAME,
    PROFILE,
    PROFILE_HISTORY_REGISTRATION,
    PROFILE_HISTORY_STACK,
    PROFILE_SECRET_NAME,
    SIBLING,
)

DECLARATIONS = ("base", "changed", "renamed", "dropped", "logo_pdf", "protected", "bad")
CHANGED_NAME = "Secret Changed Name Ltd"
SECRETS = (PROFILE_SECRET_NAME, CHANGED_NAME, PRIVATE_NAME)
COMPANY_PATH = "companyInfo.companyName"
DIGESTS = {
    "png": hashlib.sha256(SAMPLE_PNG.read_bytes()).hexdigest(),
    "pdf": hashlib.sha256(SAMPLE_PDF.read_bytes()).hexdigest(),
}


@dataclasses.dataclass
class ProfileHistoryEnv:
    assembly: CloudAssembly
    runtime: InProcessRuntime
    receiver: ResponseReceiver
    sms: FakeSmsService
    profiles: FakeBrandProfiles
    cloudformation: FakeCloudFormation
    s3: Any
    tally: Tally = dataclasses.field(default_factory=Tally)


def _held(profiles: FakeBrandProfiles, profile_id: str) -> dict[str, Any] | None:
    snapshot = profiles.profile(profile_id)
    if snapshot is None or snapshot["Deleted"]:
        return None
    return {
        "Name": snapshot["Name"],
        "DeletionProtection": snapshot["DeletionProtection"],
        "Attributes": {
            name: (a["Type"], a["Text"], a["Digest"]) for name, a in snapshot["Attributes"].items()
        },
    }


class ProfileHistoryMachine(RuleBasedStateMachine):
    """One profile stack's random history; ``ENV`` is set by the test before the run."""

    ENV: ProfileHistoryEnv | None = None

    def __init__(self) -> None:
        super().__init__()
        env = self.ENV
        assert env is not None, "set ProfileHistoryMachine.ENV before running it"
        self.env = env
        self.started = time.monotonic()
        self.base = env.assembly.stack(PROFILE_HISTORY_STACK)
        self.profile_lid = self.base.logical_id(f"{PROFILE}/Resource")
        self.reg_lid = self.base.logical_id(f"{PROFILE_HISTORY_REGISTRATION}/Resource")
        self.sibling_lid = self.base.logical_id(f"{SIBLING}/Resource")
        self.steps: list[str] = []
        self.deployment: StackDeployment | None = None
        self.deleted_ids: set[str] = set()
        self.checked_problems = 0

    # ----------------------------------------------------------------- templates

    def artifact(self, declaration: str, *, sibling_ok: bool = True) -> StackArtifact:
        artifact = copy.copy(self.base)
        artifact.template = copy.deepcopy(self.base.template)
        resources = artifact.template["Resources"]
        profile = resources[self.profile_lid]["Properties"]
        attributes = {entry["Name"]: entry for entry in profile["Attributes"]}
        loa_url = attributes["loa"]["AttachmentUrl"]
        fields = resources[self.reg_lid]["Properties"]["Fields"]
        if declaration == "changed":
            attributes["legalName"] = {"Name": "legalName", "Text": CHANGED_NAME}
            for entry in fields:
                if entry["Path"] == COMPANY_PATH:
                    entry["Text"] = CHANGED_NAME
        elif declaration == "renamed":
            attributes["homepage"] = {**attributes.pop("website"), "Name": "homepage"}
        elif declaration == "dropped":
            del attributes["loa"]
        elif declaration == "logo_pdf":
            attributes["logo"] = {"Name": "logo", "Type": "DOCUMENT", "AttachmentUrl": loa_url}
        elif declaration == "protected":
            profile["DeletionProtection"] = True
        elif declaration == "bad":
            attributes["logo"] = {"Name": "logo", "Type": "IMAGE", "AttachmentUrl": loa_url}
        elif declaration != "base":
            raise ValueError(f"unknown declaration {declaration!r}")
        profile["Attributes"] = list(attributes.values())
        if not sibling_ok:
            url = resources[self.sibling_lid]["Properties"]["AttachmentUrl"]
            bucket = url.removeprefix("s3://").partition("/")[0]
            resources[self.sibling_lid]["Properties"]["AttachmentUrl"] = (
                f"s3://{bucket}/missing/sibling-{len(self.steps)}.pdf"
            )
        return artifact

    def declared(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        """What the service must hold for these (resolved) profile properties."""
        attributes = {}
        for entry in properties.get("Attributes", []):
            if "Text" in entry:
                attributes[entry["Name"]] = ("TEXT", entry["Text"], None)
            else:
                kind = "pdf" if str(entry["AttachmentUrl"]).endswith(".pdf") else "png"
                attributes[entry["Name"]] = (entry["Type"], None, DIGESTS[kind])
        protection = str(properties.get("DeletionProtection", "false")).lower() == "true"
        return {
            "Name": properties["BrandProfileName"],
            "DeletionProtection": protection,
            "Attributes": attributes,
        }

    # ----------------------------------------------------------------- set-up

    @initialize()
    def create(self) -> None:
        env = self.env
        env.sms.reset()
        env.profiles.reset()
        env.sms.upload_seconds = 0.02
        env.sms.visibility_seconds = 0.02
        env.cloudformation.reset()
        deployment = StackDeployment(
            self.artifact("base"),
            runtime=env.runtime,  # type: ignore[arg-type]
            receiver=env.receiver,
            s3=env.s3,
            cloudformation=env.cloudformation,
            parallelism=4,
            retry_delay=0.05,
        )
        self.deployment = deployment
        env.runtime.phase_of = lambda _event: deployment.current_stack_status()
        env.tally.histories += 1
        self.run_step("create()", deployment.create_all, expect_success=True)

    def teardown(self) -> None:
        deployment = self.deployment
        if deployment is not None:
            deployment.settle()
            deployment._deliveries.shutdown(wait=True)
        self.env.tally.seconds += time.monotonic() - self.started

    # ----------------------------------------------------------------- rules

    @rule(declaration=st.sampled_from(DECLARATIONS))
    def deploy(self, declaration: str) -> None:
        deployment = self.live()
        artifact = self.artifact(declaration)
        self.run_step(f"deploy({declaration!r})", lambda: deployment.deploy(artifact))

    @rule(declaration=st.sampled_from(DECLARATIONS))
    def deploy_then_fail(self, declaration: str) -> None:
        deployment = self.live()
        artifact = self.artifact(declaration)
        self.run_step(
            f"deploy_then_fail({declaration!r})",
            lambda: deployment.deploy(artifact, fail_after_resources=True),
            expect_rollback=True,
        )

    @rule(declaration=st.sampled_from(DECLARATIONS))
    def deploy_sibling_fails(self, declaration: str) -> None:
        deployment = self.live()
        artifact = self.artifact(declaration, sibling_ok=False)
        self.run_step(
            f"deploy_sibling_fails({declaration!r})",
            lambda: deployment.deploy(artifact),
            expect_rollback=True,
        )

    @rule()
    def redeploy_same(self) -> None:
        deployment = self.live()
        same = deployment.resources[self.profile_lid].properties
        self.run_step(
            "redeploy_same()",
            lambda: deployment.update(self.profile_lid, same),
            no_write=True,
        )

    @rule(index=st.integers(min_value=0, max_value=30))
    def redeliver(self, index: int) -> None:
        deployment = self.live()
        history = [s for s in deployment.history if s.request_type in ("Create", "Update")]
        if not history:
            return
        original = history[index % len(history)]

        def run() -> DeployResult:
            sent = deployment.send(copy.deepcopy(original.event))
            return DeployResult(deployment.current_stack_status(), [sent])

        self.run_step(f"redeliver({index})", run, redelivery=True)

    def redeliver_the_profile_create(self) -> None:
        """Not a rule (a regression test): the profile's first Create, delivered again."""
        deployment = self.live()
        (original,) = [
            s
            for s in deployment.history
            if s.logical_id == self.profile_lid and s.request_type == "Create"
        ][:1]

        def run() -> DeployResult:
            sent = deployment.send(copy.deepcopy(original.event))
            return DeployResult(deployment.current_stack_status(), [sent])

        self.run_step("redeliver_the_profile_create()", run, redelivery=True)

    # ----------------------------------------------------------------- checks

    def live(self) -> StackDeployment:
        assert self.deployment is not None
        return self.deployment

    def run_step(
        self,
        label: str,
        operation: Callable[[], DeployResult],
        *,
        expect_success: bool = False,
        expect_rollback: bool = False,
        no_write: bool = False,
        redelivery: bool = False,
    ) -> None:
        deployment, env = self.live(), self.env
        self.steps.append(label)
        env.tally.steps += 1
        before_id = (
            deployment.resources[self.profile_lid].physical_id
            if self.profile_lid in deployment.resources
            else None
        )
        before = _held(env.profiles, before_id) if before_id else None
        writes_before = len(env.profiles.writes)
        history_before = len(deployment.history)
        result = operation()
        deployment.settle()
        requests = [*result.requests, *result.late, *deployment.history[history_before:]]
        requests = list({id(sent): sent for sent in requests}.values())
        for sent in requests:
            if sent.request_type == "Delete" and sent.event.get("PhysicalResourceId"):
                self.deleted_ids.add(str(sent.event["PhysicalResourceId"]))
        env.tally.invocations += sum(len(sent.deliveries) for sent in requests)
        env.tally.cancelled += sum(1 for sent in requests if sent.status == "CANCELLED")
        rolled_back = "ROLLBACK" in result.status
        env.tally.rollbacks += int(rolled_back)
        self.check("b", not result.status.endswith("_FAILED"), f"stack {result.status}", result)
        if expect_success:
            self.check(
                "b",
                result.status.endswith("_COMPLETE") and not rolled_back,
                f"the create ended {result.status}",
                result,
            )
        if expect_rollback and not redelivery:
            self.check("b", rolled_back, f"expected a rollback, got {result.status}", result)
        self.check_rollback_creates(requests, result)
        after_id = deployment.resources[self.profile_lid].physical_id
        after = _held(env.profiles, after_id)
        if redelivery:
            self.check(
                "c",
                after_id == before_id and after == before,
                f"a duplicate or late delivery changed the profile: {before} -> {after}",
                result,
            )
        elif rolled_back:
            self.check(
                "c",
                after_id == before_id and after == before,
                f"after the rollback the profile does not hold what it held: {before} -> {after}",
                result,
            )
        else:
            declared = self.declared(deployment.resources[self.profile_lid].properties)
            self.check("c", after == declared, f"profile {after} is not {declared}", result)
            fields = deployment.resources[self.reg_lid].properties["Fields"]
            wanted = next(f["Text"] for f in fields if f["Path"] == COMPANY_PATH)
            registration_id = deployment.resources[self.reg_lid].physical_id
            values = env.sms.registrations.field_values(registration_id)
            self.check(
                "c",
                values.get(COMPANY_PATH) == {"TextValue": wanted},
                "the registration does not hold the profile's declared legal name",
                result,
            )
        if no_write and before == self.declared(deployment.resources[self.profile_lid].properties):
            new = env.profiles.writes[writes_before:]
            self.check("e", not new, f"{len(new)} profile writes: {new}", result)
        self.check_environment(requests, result)

    def check(self, invariant: str, holds: bool, message: str, result: DeployResult | None) -> None:
        if holds:
            self.env.tally.checks += 1
            return
        detail = ""
        if result is not None:
            detail = "\n".join(
                f"  {s.request_type} {s.logical_id}: {s.status} {s.reason[:200]}"
                for s in [*result.requests, *result.late]
            )
        raise VIOLATIONS[invariant](
            f"({invariant}) {message}\nhistory: {' -> '.join(self.steps)}\nrequests:\n{detail}"
        )

    def check_rollback_creates(self, requests: Sequence[Sent], result: DeployResult) -> None:
        """(d) no profile made while the stack rolls back."""
        for sent in requests:
            for invocation in sent.deliveries:
                made = [
                    call.operation
                    for call in self.env.runtime.calls_of(invocation)
                    if call.error_code is None
                    and call.operation == "CreateBrandProfile"
                    and call.phase in ROLLBACK_PHASES
                ]
                self.check(
                    "d", not made, f"{sent.request_type} {sent.logical_id} called {made}", result
                )

    def check_environment(self, requests: Sequence[Sent], result: DeployResult) -> None:
        deployment, env = self.live(), self.env
        current = {resource.physical_id for resource in deployment.resources.values()}
        allowed = current | set(deployment.retained.values()) | self.deleted_ids
        for profile in env.profiles.live_profiles():
            self.check("a", profile["Id"] in allowed, f"orphan profile {profile['Id']}", result)
        for registration in env.sms.registrations.live_registrations():
            registration_id = str(registration["RegistrationId"])
            self.check(
                "a", registration_id in allowed, f"orphan registration {registration_id}", result
            )
        for sent in requests:
            shown = [sent.reason, repr(sent.data)]
            shown += [invocation.log_tail(size=10_000_000) for invocation in sent.deliveries]
            leaked = sorted({secret for secret in SECRETS for text in shown if secret in text})
            self.check("f", not leaked, f"{sent.logical_id} showed {leaked}", result)
        problems = deployment.problems[self.checked_problems :]
        self.checked_problems = len(deployment.problems)
        self.check("g", not problems, f"harness problems: {problems}", result)
        for source, violations in (
            ("sms", env.sms.take_violations()),
            ("profiles", env.profiles.take_violations()),
            ("cloudformation", env.cloudformation.take_violations()),
            ("receiver", list(env.receiver.problems)),
        ):
            self.check("g", not violations, f"{source} violations: {violations}", result)
