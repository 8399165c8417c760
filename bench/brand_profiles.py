"""A brand profile and registrations drawn from it, under a quota of the brand profile service.

The example app (examples/brand_profile_app.py: three registrations of US toll-free, US 10DLC
brand and India sender ID) with six more facts, so that its profile holds 20 attributes (18
TEXT, a PNG logo, a PDF letter), deployed through the CloudFormation harness with the shipped
handler asset (a fresh interpreter per invocation, only boto3 beside it) against the fakes of
endusermessaging, pinpoint-sms-voice-v2 and S3. The brand profile fake answers every operation
under one bucket of ``quota_per_second`` requests (burst 1), so the profile's Create is paced by
its calls: its wall time is compared with (calls - 1) / quota, the least the quota allows for
the calls it made, and its writes with the least the declaration needs (one CreateBrandProfile,
one CreateBrandProfileAttributes per 10 attributes). Then one fact changes: the writes made are
counted per resource against one per resource that uses the fact.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from examples import brand_profile_app
from tests.e2e.cloudformation import CloudAssembly, LambdaRuntime, StackDeployment
from tests.e2e.fake_brand_profiles import WRITES as PROFILE_WRITES
from tests.e2e.fake_brand_profiles import FakeBrandProfiles
from tests.e2e.fake_cloudformation import FakeCloudFormation
from tests.pythons import make_venv, newest_python

from .deploy import _boto3_requirement, _endpoints

#: Six facts more than the example's twelve: 18 TEXT attributes and two documents.
EXTRA_FACTS = {f"extraFact{index}": f"value {index}" for index in range(1, 7)}
#: The fact the benchmark changes: the legal name, which every registration uses.
CHANGED_FACT = "legalName"
REGISTRATION_WRITES = frozenset(
    {
        "CreateRegistration",
        "PutRegistrationFieldValue",
        "DeleteRegistrationFieldValue",
        "CreateRegistrationVersion",
        "DiscardRegistrationVersion",
        "SubmitRegistrationVersion",
        "CreateRegistrationAssociation",
    }
)


def _assembly(outdir: Path) -> CloudAssembly:
    facts = {**brand_profile_app.FACTS, **EXTRA_FACTS}
    changed = {**facts, CHANGED_FACT: str(facts[CHANGED_FACT]) + " Inc"}
    for name, these in (("V1", facts), ("V2", changed)):
        app = cdk.App(
            outdir=str(outdir / name),
            context={
                brand_profile_app.REMOVAL_POLICY_CONTEXT: "destroy",
                "aws:cdk:enable-path-metadata": True,  # the harness finds resources by path
            },
        )
        brand_profile_app.build(app, facts=these)
        app.synth()
    return CloudAssembly(outdir / "V1")


def _writes(sms: Any) -> Counter[str]:
    """Successful registration writes, by registration ID."""
    return Counter(
        {
            str(r["RegistrationId"]): sum(
                1
                for entry in r["WriteLog"]
                if entry["Error"] is None and entry["Operation"] in REGISTRATION_WRITES
            )
            for r in sms.registrations.live_registrations()
        }
    )


def measure(workdir: Path, *, quota_per_second: float, parallelism: int) -> dict[str, Any]:
    """Create under the quota, then one changed fact, then destroy."""
    v1 = _assembly(workdir / "cdk.out")
    v2 = CloudAssembly(workdir / "cdk.out" / "V2")
    (stack_name,) = v1.stack_names()
    python = make_venv(newest_python().path, workdir / "lambda-venv", _boto3_requirement())
    with (
        _endpoints(workdir) as (s3_server, sms, receiver),
        FakeCloudFormation() as cfn,
        FakeBrandProfiles() as profiles,
    ):
        profiles.sms = sms
        sms.upload_seconds = 0.05
        runtime = LambdaRuntime(
            python,
            {**sms.env(), **s3_server.env(), **receiver.env(), **cfn.env(), **profiles.env()},
            workdir / "runs",
        )
        deployment = StackDeployment(
            v1.stack(stack_name),
            runtime=runtime,
            receiver=receiver,
            s3=s3_server.client(),
            parallelism=parallelism,
            cloudformation=cfn,
        )
        deployment.provision()
        profile_lid = deployment.stack.logical_id("Brand/Resource")
        profiles.set_rate_limits({"*": quota_per_second})
        started = time.perf_counter()
        created = deployment.create_all()
        create_seconds = time.perf_counter() - started
        assert created.status == "CREATE_COMPLETE", created.statuses
        sent = created.one("Create", profile_lid)
        profile_seconds = sum(i.duration for i in sent.deliveries)
        calls = sum(profiles.calls.values())
        answered = sum(profiles.successes.values())
        throttled = calls - answered
        # The handler's pacing alone: from the first answered call to the last one.
        paced_seconds = profiles.answered_at[-1] - profiles.answered_at[0]
        (profile,) = profiles.live_profiles()
        attributes = len(profile["Attributes"])
        writes = [w for w in profiles.writes if w[0] in PROFILE_WRITES]
        least_writes = 1 + math.ceil(attributes / 10)

        profiles.set_rate_limits({})
        profile_writes_before = len(profiles.writes)
        registration_writes_before = _writes(sms)
        old_value = str({**brand_profile_app.FACTS, **EXTRA_FACTS}[CHANGED_FACT])
        users = sum(
            1
            for resource in deployment.resources.values()
            if any(f.get("Text") == old_value for f in resource.properties.get("Fields", []))
        )
        updated = deployment.deploy(v2.stack(stack_name))
        assert updated.status == "UPDATE_COMPLETE", updated.statuses
        change_profile_writes = profiles.writes[profile_writes_before:]
        change_registration_writes = _writes(sms) - registration_writes_before

        deleted = deployment.delete_all()
        assert deleted.status == "DELETE_COMPLETE", deleted.statuses
        left = len(profiles.live_profiles()) + len(sms.registrations.live_registrations())
    # The least time the quota allows for the calls that were answered: the first is free.
    ideal = (answered - 1) / quota_per_second
    return {
        "quota_per_second": quota_per_second,
        "attributes": attributes,
        "registrations": len(registration_writes_before),
        "stack_create_seconds": create_seconds,
        "profile_create_seconds": profile_seconds,
        "profile_calls": calls,
        "profile_throttled_calls": throttled,
        "profile_ideal_seconds": ideal,
        "profile_paced_seconds": paced_seconds,
        "profile_vs_ideal": paced_seconds / ideal if ideal > 0 else 0.0,
        "profile_writes": len(writes),
        "profile_least_writes": least_writes,
        "change_profile_writes": [w[0] for w in change_profile_writes],
        "change_registration_writes": sorted(change_registration_writes.values()),
        "change_registrations_using_the_fact": users,
        "left_after_destroy": left,
    }
