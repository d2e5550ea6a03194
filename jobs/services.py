"""Use-cases of the scoring pipeline: submit, dispatch, run."""

import logging
import os
import socket
import threading
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction

from jobs.models import JobEvent, ScoringJob
from scoring import engine
from scoring.services import score_result_create, scoring_evaluate
from submissions.models import Submission
from submissions.services import submission_lock

logger = logging.getLogger(__name__)


class StaleLease(Exception):
    """Our lease on the job was taken over; our result must not be recorded."""


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def submission_submit(
    *, submission_id, user, requested_by: str = ScoringJob.RequestedBy.LEARNER, trace_id: str = ""
) -> ScoringJob:
    """Lock the learner's submission and create its scoring job, atomically.

    The SQS message is sent only after the transaction commits, so a worker
    never sees a job that might still roll back.
    """
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id, owner=user)
        submission_lock(submission=submission, user=user)
        job = scoring_job_create(submission=submission, requested_by=requested_by, user=user, trace_id=trace_id)
    return job


def scoring_job_create(*, submission: Submission, requested_by: str, user=None, trace_id: str = "") -> ScoringJob:
    """Create a QUEUED job and dispatch it once the surrounding transaction commits."""
    job = ScoringJob(
        submission=submission,
        requested_by=requested_by,
        requested_by_user=user,
        max_attempts=settings.SCORING_MAX_ATTEMPTS,
        trace_id=trace_id or uuid.uuid4().hex,
    )
    job.full_clean()
    job.save()
    JobEvent.record(job.pk, "", ScoringJob.Status.QUEUED, actor=user.get_username() if user else "system")
    transaction.on_commit(partial(scoring_job_dispatch, job_id=job.pk))
    return job


def scoring_job_dispatch(*, job_id) -> bool:
    """Send the job's message to SQS. A failure is logged, not raised: the
    job row is already committed and the relay sends undispatched jobs again."""
    from jobs.actors import score_job  # the actor module imports this one

    job = ScoringJob.objects.filter(pk=job_id).values("trace_id").first()
    if job is None:
        return False
    try:
        score_job.send(str(job_id), trace_id=job["trace_id"])
    except Exception:
        logger.exception("dispatch of job %s failed; the relay will send it again", job_id)
        return False
    ScoringJob.mark_dispatched(job_id=job_id)
    return True


def scoring_job_run(*, job_id, worker_id: str) -> None:
    """Claim the job, score its submission and record the outcome.

    A delivery of a job that is not claimable (finished, or leased by a live
    worker) is a duplicate and does nothing. Transient failures put the job
    back to QUEUED and re-raise, so the broker retries with backoff.
    """
    if not ScoringJob.claim(job_id=job_id, worker_id=worker_id, lease_seconds=settings.SQS_VISIBILITY_TIMEOUT):
        logger.info("job %s not claimable: duplicate delivery or already finished", job_id)
        return
    job = ScoringJob.objects.select_related("submission").get(pk=job_id)
    try:
        outcome = scoring_evaluate(submission=job.submission)
    except engine.ScoringRejected as exc:
        ScoringJob.fail(job_id=job_id, worker_id=worker_id, code=exc.code, message=str(exc))
        return
    except Exception as exc:
        if _after_transient_failure(job, worker_id, exc):
            raise
        return
    try:
        _record_result(job, worker_id, outcome)
    except StaleLease:
        logger.warning("job %s: lease lost to a newer attempt; result discarded", job_id)


def _record_result(job: ScoringJob, worker_id: str, outcome: engine.Outcome) -> None:
    with transaction.atomic():
        result = score_result_create(submission=job.submission, outcome=outcome)
        if not ScoringJob.finish(job_id=job.pk, worker_id=worker_id, result=result):
            # Rolls the result back: a newer attempt owns the job now.
            raise StaleLease(f"lease on job {job.pk} lost before its result was recorded")


def _after_transient_failure(job: ScoringJob, worker_id: str, exc: Exception) -> bool:
    """Release the job for another try, or fail it after the last attempt.
    Returns True when another try should follow."""
    message = f"{type(exc).__name__}: {exc}"
    if job.attempts >= job.max_attempts:
        ScoringJob.fail(job_id=job.pk, worker_id=worker_id, code="attempts_exhausted", message=message)
        return False
    return ScoringJob.release(job_id=job.pk, worker_id=worker_id, reason=message)
