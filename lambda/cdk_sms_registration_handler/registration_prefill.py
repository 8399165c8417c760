"""A registration's draft made by the service from a brand profile (``BrandProfileId``).

``CreateRegistrationsFromBrandProfile`` (``endusermessaging``) starts a job that creates a DRAFT
registration of the declared type, its fields prefilled from the profile's attributes (with
``smartMatch``, the service's own mapping; without, its exact one). The handler waits for the job
within the request's deadline, then marks the draft as this resource's (the owner tag and the
user's tags: the service's job cannot be asked to tag it) and hands it to the normal Create path,
which writes the declared fields over it, checks the draft against the live definitions before
associating and submitting, and deletes it if anything fails.

A job that fails after making a registration leaves it to us: it is marked and deleted here,
because CloudFormation never sends a Delete for a resource whose Create failed with no ID.
The job's error message is the service's text and may quote a profile value: the reason gives
the job ID and its error code, and says where to read the message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from . import registrations
from .attachments import error_text
from .registration_contract import RegistrationSpec
from .retries import Deadline, call_with_retries, room_to_wait

logger = logging.getLogger(__name__)

PROCESSING = "PROCESSING"
SUCCESS = "SUCCESS"
FAILED = "FAILED"
#: GetJob every this many seconds at first, growing by half up to the most.
FIRST_POLL_SECONDS = 0.5
MOST_POLL_SECONDS = 5.0


class PrefillFailed(Exception):
    """The job did not make a draft; the message is a FAILED reason (no values)."""


def create_draft(
    eum: Any,
    sms: Any,
    spec: RegistrationSpec,
    token: str,
    owner: str,
    deadline: Deadline,
) -> dict[str, Any]:
    """The prefilled DRAFT as DescribeRegistrations shows it, marked as this resource's."""
    assert spec.brand_profile_id is not None
    started: dict[str, Any] = call_with_retries(
        lambda: eum.create_registrations_from_brand_profile(
            brandProfileId=spec.brand_profile_id,
            registrationTypes=[spec.registration_type],
            smartMatch=spec.smart_match,
            clientToken=token,
        ),
        deadline,
        what="CreateRegistrationsFromBrandProfile",
    )
    [result] = started["results"]
    job_id = str(result["jobId"])
    logger.info("brand profile job %s started (%s)", job_id, spec.registration_type)
    job = _wait(eum, job_id, deadline)
    made = [
        str(resource["resourceId"])
        for resource in job.get("resources") or []
        if resource.get("resourceType") == "REGISTRATION"
    ]
    status = str(job.get("status"))
    if status != SUCCESS or len(made) != 1:
        left = _remove(sms, made, spec, owner, deadline)
        if status == PROCESSING:
            head = f"brand profile job {job_id} is still PROCESSING at the request's deadline"
        elif status == FAILED:
            head = f"brand profile job {job_id} FAILED ({job.get('errorCode', 'no error code')})"
        else:
            head = f"brand profile job {job_id} ended {status} with {len(made)} registrations"
        raise PrefillFailed(
            f"{head}; its message: `python -m cdk_sms_registration status "
            f"{spec.brand_profile_id}`{left}"
        )
    registration_id = made[0]
    _mark(sms, registration_id, spec, owner, deadline)
    described = registrations.describe(sms, registration_id, deadline)
    if described is None:
        raise PrefillFailed(
            f"brand profile job {job_id} made registration {registration_id}, which is gone"
        )
    logger.info("brand profile job %s made registration %s", job_id, registration_id)
    return described


def _wait(eum: Any, job_id: str, deadline: Deadline) -> Mapping[str, Any]:
    """GetJob until the job ends, or the deadline leaves no room for another look."""
    pause = FIRST_POLL_SECONDS
    while True:
        job: dict[str, Any] = call_with_retries(
            lambda: eum.get_job(jobId=job_id), deadline, what="GetJob"
        )
        if job.get("status") != PROCESSING or not room_to_wait(pause, deadline):
            return job
        time.sleep(pause)
        pause = min(MOST_POLL_SECONDS, pause * 1.5)


def _mark(
    sms: Any, registration_id: str, spec: RegistrationSpec, owner: str, deadline: Deadline
) -> None:
    """The owner mark and the user's tags, as CreateRegistration would have set them."""
    arn = registrations.describe(sms, registration_id, deadline)
    if arn is None:
        return
    tags = [{"Key": k, "Value": v} for k, v in spec.service_tags(owner).items()]
    call_with_retries(
        lambda: sms.tag_resource(ResourceArn=str(arn["RegistrationArn"]), Tags=tags),
        deadline,
        what="TagResource",
    )


def _remove(
    sms: Any, made: list[str], spec: RegistrationSpec, owner: str, deadline: Deadline
) -> str:
    """Delete what a failed job made (marked first: the role deletes only its own)."""
    if not made:
        return ""
    kept = []
    for registration_id in made:
        try:
            _mark(sms, registration_id, spec, owner, deadline)
            registrations.delete(sms, registration_id, deadline)
        except Exception as error:
            logger.error(
                "could not delete registration %s made by the failed job: %s",
                registration_id,
                error_text(error),
            )
            kept.append(registration_id)
    if kept:
        return f"; it made {', '.join(kept)}, which could not be deleted: delete it by hand"
    return f"; the {len(made)} registration(s) it made were deleted"
