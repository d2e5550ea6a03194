"""Use-cases of the scoring pipeline: submit, dispatch, run, and staff actions.

The database is the truth and SQS messages are only hints: a message may be
lost (the relay sends it again), duplicated (the claim lets one through) or
late (the lease decides who may write). See jobs/relay.py for the sweeper.
"""

import logging
import math
import os
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from feedback_site.errors import DomainError
from feedback_site.request_id import current_request_id
from jobs import infrastructure
from jobs.leases import JobCancelled, LeaseLost, lease_keeper
from jobs.models import DEFAULT_CANCEL_REASON, JobAttempt, JobEvent, ScoringJob
from scoring import engine
from scoring.services import score_result_create, scoring_evaluate
from submissions.models import Submission
from submissions.services import submission_mark_submitted

logger = logging.getLogger(__name__)


class PoisonMessage(Exception):
    """The job failed on its last attempt: its message goes to the dead-letter queue."""


class JobConflict(DomainError):
    """The job is not in a state that allows the requested action."""

    code = "job_conflict"


class NotSubmitted(DomainError):
    """Only a submitted submission can be scored again."""

    code = "not_submitted"


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


# --- submit and create --------------------------------------------------------

def submission_submit(
    *, submission_id, user, requested_by: str = ScoringJob.RequestedBy.LEARNER, trace_id: str = ""
) -> ScoringJob:
    """Lock the learner's submission and create its scoring job, atomically.

    The SQS message is sent only after the transaction commits, so a worker
    never sees a job that might still roll back; if the process dies between
    commit and send, the relay sends it.
    """
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id, owner=user)
        return _submit_held(submission, user=user, requested_by=requested_by, trace_id=trace_id)


def _submit_held(submission: Submission, *, user, requested_by: str, trace_id: str) -> ScoringJob:
    """Submit a submission whose row the caller holds locked, and create its job."""
    submission_mark_submitted(submission=submission, user=user)
    return scoring_job_create(submission=submission, requested_by=requested_by, user=user, trace_id=trace_id)


def scoring_job_create(*, submission: Submission, requested_by: str, user=None, trace_id: str = "",
                       reason: str = "") -> ScoringJob:
    """Create a QUEUED job and dispatch it once the surrounding transaction commits."""
    job = ScoringJob(
        submission=submission,
        requested_by=requested_by,
        requested_by_user=user,
        max_attempts=settings.SCORING_MAX_ATTEMPTS,
        trace_id=trace_id or current_request_id() or uuid.uuid4().hex,  # the web request's id, if any
    )
    # The active-job constraint is enforced by the database. The submission
    # (locked by the caller) and the user are rows we hold: checking that they
    # exist would read each of them again, a query apiece on every submit.
    job.full_clean(exclude=["submission", "requested_by_user"], validate_constraints=False)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        raise JobConflict("This submission already has a queued or running scoring job.") from None
    JobEvent.objects.create(
        job=job, action=JobEvent.Action.CREATE, to_status=ScoringJob.Status.QUEUED,
        actor=user.get_username() if user else "system", reason=reason.strip(),
    )
    transaction.on_commit(partial(scoring_jobs_dispatch, job_ids=[job.pk], trace_ids={job.pk: job.trace_id}))
    return job


# --- dispatch -------------------------------------------------------------------

@dataclass
class DispatchOutcome:
    """What ``scoring_jobs_send`` did: the ids sent, and the failure that stopped it."""

    sent: list = field(default_factory=list)
    unsent: int = 0
    error: Exception | None = None


def scoring_jobs_send(*, job_ids: Iterable, delay_seconds: float = 0, trace_ids: dict | None = None) -> DispatchOutcome:
    """Send one message per job to SQS; mark the sent jobs dispatched.

    ``trace_ids`` ({job id: trace id}) comes from a caller that has just
    created the jobs and saves reading them back (a message for a job
    cancelled in between is harmless: the claim refuses it). Without it,
    only the jobs still QUEUED are sent.

    Stops at the first error from SQS and returns it, logging nothing: when
    SQS is away every other send would fail the same way, each after its own
    retries. The caller reports it (the relay: one line per sweep). Any other
    error concerns one message: it is logged with its traceback and the rest
    are sent.
    """
    from jobs.actors import score_job  # the actor module imports this one

    if trace_ids is None:
        rows = ScoringJob.objects.filter(pk__in=list(job_ids), status=ScoringJob.Status.QUEUED)
        trace_ids = dict(rows.values_list("pk", "trace_id"))
    delay_ms = math.ceil(delay_seconds) * 1000 or None
    outcome = DispatchOutcome()
    for job_id, trace_id in trace_ids.items():
        try:
            score_job.send_with_options(args=(str(job_id),), kwargs={"trace_id": trace_id}, delay=delay_ms)
        except (BotoCoreError, ClientError) as exc:
            outcome.error, outcome.unsent = exc, len(trace_ids) - len(outcome.sent)
            break
        except Exception:
            # This one message, not SQS (a bug): the others still go.
            logger.exception("dispatch of job %s failed; the relay will send it again", job_id)
            continue
        outcome.sent.append(job_id)
    if outcome.sent:
        ScoringJob.mark_dispatched(job_ids=outcome.sent)
    return outcome


def scoring_jobs_dispatch(*, job_ids: Iterable, delay_seconds: float = 0, trace_ids: dict | None = None) -> list:
    """``scoring_jobs_send``, logging a failure; returns the ids that were sent.

    A failure is logged, not raised: the jobs are committed and the relay
    sends whatever was not marked dispatched.
    """
    outcome = scoring_jobs_send(job_ids=job_ids, delay_seconds=delay_seconds, trace_ids=trace_ids)
    if outcome.error is not None:
        error = outcome.error
        logger.warning("dispatch of %d job(s) failed (%s: %s); the relay will send them again",
                       outcome.unsent, type(error).__name__, error)
    return outcome.sent


# --- run --------------------------------------------------------------------------

def retry_delay_seconds(attempt: int) -> float:
    """Exponential backoff with jitter, never beyond SQS's 900 s delay limit."""
    ceiling = min(settings.SCORING_RETRY_MAX_SECONDS, 900, settings.SCORING_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not cryptography)


def scoring_job_run(*, job_id) -> str:
    """Claim the job, score its submission and record the outcome.

    Returns what happened: "duplicate" when the job was not claimable (already
    finished, cancelled, leased by a live worker, not due yet), else the
    attempt's outcome. Raises PoisonMessage after the last failed attempt.
    """
    lease_owner = f"{worker_identity()}/{uuid.uuid4().hex[:8]}"
    if not ScoringJob.claim(job_id=job_id, lease_owner=lease_owner, lease_seconds=settings.SCORING_LEASE_SECONDS):
        logger.info("job %s not claimable: duplicate, finished, cancelled or not due", job_id)
        return "duplicate"
    job = ScoringJob.objects.select_related("submission").get(pk=job_id)
    attempt = _Attempt(job=job, lease_owner=lease_owner)
    with lease_keeper.hold(job.pk, lease_owner) as lease:
        try:
            lease.checkpoint()
            outcome = scoring_evaluate(submission=job.submission, checkpoint=lease.checkpoint)
            lease.checkpoint()
        except LeaseLost:
            logger.warning("job %s: lease lost to a newer attempt; stopping", job_id)
            return JobAttempt.Outcome.SUPERSEDED
        except JobCancelled:
            return _with_db_retry(attempt.cancelled)
        except engine.ScoringRejected as exc:
            return _with_db_retry(partial(attempt.rejected, exc))
        except Exception as exc:
            if infrastructure.is_missing_resource(exc):
                # The bucket (or a queue) was wiped: put it back for the jobs to come;
                # this attempt fails as usual and is retried.
                infrastructure.aws_ensure_guarded(trigger=f"missing while scoring job {job_id}")
            return _with_db_retry(partial(attempt.failed, exc, traceback.format_exc()))
        return _with_db_retry(partial(attempt.succeeded, outcome))


class _Attempt:
    """Records the end of one attempt: the job's transition and its attempt row, atomically."""

    def __init__(self, *, job: ScoringJob, lease_owner: str):
        self.job, self.lease_owner = job, lease_owner

    def _record(self, outcome: str, *, error: BaseException | None = None, tb: str = "") -> None:
        JobAttempt.record(job=self.job, worker_id=self.lease_owner, outcome=outcome, error=error, traceback=tb)

    def _superseded(self) -> str:
        logger.warning("job %s: lease lost before the outcome was recorded; a newer attempt owns it", self.job.pk)
        return JobAttempt.Outcome.SUPERSEDED

    def succeeded(self, outcome: engine.Outcome) -> str:
        with transaction.atomic():
            result = score_result_create(submission=self.job.submission, outcome=outcome)
            if ScoringJob.finish(job_id=self.job.pk, lease_owner=self.lease_owner, result=result):
                self._record(JobAttempt.Outcome.SUCCEEDED)
                return JobAttempt.Outcome.SUCCEEDED
            transaction.set_rollback(True)  # the result must not outlive a lost race
        still_ours = ScoringJob.objects.filter(
            pk=self.job.pk, status=ScoringJob.Status.RUNNING, lease_owner=self.lease_owner
        ).exists()
        # finish() refuses a job that staff asked to cancel while it ran.
        return self.cancelled() if still_ours else self._superseded()

    @transaction.atomic
    def cancelled(self) -> str:
        reason = ScoringJob.objects.filter(pk=self.job.pk).values_list("cancel_reason", flat=True).first() or ""
        if not ScoringJob.fail(job_id=self.job.pk, lease_owner=self.lease_owner, code="cancelled",
                               message=reason or DEFAULT_CANCEL_REASON):
            return self._superseded()
        self._record(JobAttempt.Outcome.CANCELLED)
        return JobAttempt.Outcome.CANCELLED

    @transaction.atomic
    def rejected(self, exc: engine.ScoringRejected) -> str:
        if not ScoringJob.fail(job_id=self.job.pk, lease_owner=self.lease_owner, code=exc.code, message=str(exc)):
            return self._superseded()
        self._record(JobAttempt.Outcome.REJECTED, error=exc)
        return JobAttempt.Outcome.REJECTED

    def _cancel_requested(self) -> bool:
        return ScoringJob.objects.filter(
            pk=self.job.pk, status=ScoringJob.Status.RUNNING, lease_owner=self.lease_owner,
            cancel_requested_at__isnull=False,
        ).exists()

    def failed(self, exc: Exception, tb: str) -> str:
        message = f"{type(exc).__name__}: {exc}"
        if self._cancel_requested():
            return self.cancelled()  # a cancelled job ends, whatever else went wrong
        if self.job.attempts >= self.job.max_attempts:
            with transaction.atomic():
                if not ScoringJob.fail(job_id=self.job.pk, lease_owner=self.lease_owner,
                                       code="attempts_exhausted", message=message):
                    return self._superseded()
                self._record(JobAttempt.Outcome.EXHAUSTED, error=exc, tb=tb)
            raise PoisonMessage(f"job {self.job.pk} failed on its last attempt: {message}") from exc
        delay = retry_delay_seconds(self.job.attempts)
        with transaction.atomic():
            if not ScoringJob.release(job_id=self.job.pk, lease_owner=self.lease_owner, delay_seconds=delay,
                                      reason=f"{message} (retry in {delay:.1f}s)"):
                # Lost the lease, or a cancel request arrived since the check above.
                return self.cancelled() if self._cancel_requested() else self._superseded()
            self._record(JobAttempt.Outcome.FAILED, error=exc, tb=tb)
            transaction.on_commit(partial(scoring_jobs_dispatch, job_ids=[self.job.pk], delay_seconds=delay))
        return JobAttempt.Outcome.FAILED


def _with_db_retry(record: Callable[[], str], *, seconds: float | None = None) -> str:
    """Record an attempt's end, riding out a short database outage.

    Giving up is safe too: the lease lapses and the relay hands the job on.
    """
    deadline = time.monotonic() + (seconds if seconds is not None else settings.SCORING_LEASE_SECONDS)
    delay = 0.5
    while True:
        try:
            result = record()
        except (OperationalError, InterfaceError):
            if time.monotonic() + delay > deadline:
                raise
            logger.warning("database unavailable while recording an attempt; retrying in %.1fs", delay)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        return result


# --- staff actions ------------------------------------------------------------------

@transaction.atomic
def scoring_job_cancel(*, job_id, user, reason: str) -> ScoringJob:
    """Cancel a QUEUED job at once, or ask its worker to stop a RUNNING one."""
    reason = reason.strip() or DEFAULT_CANCEL_REASON
    # Locked, so a worker's release or the relay's requeue cannot move the job
    # between reading its status and choosing the transition.
    status = ScoringJob.objects.select_for_update().values_list("status", flat=True).get(pk=job_id)
    if status == ScoringJob.Status.QUEUED:
        cancelled = ScoringJob.cancel_queued(job_id=job_id, actor=user.get_username(), reason=reason)
    elif status == ScoringJob.Status.RUNNING:
        cancelled = ScoringJob.request_cancel(job_id=job_id, user=user, reason=reason)
    else:
        cancelled = False
    if not cancelled:
        raise JobConflict("Only a queued or running job can be cancelled (or its cancel was already requested).")
    return ScoringJob.objects.get(pk=job_id)


@transaction.atomic
def scoring_job_retry(*, job_id, user, reason: str) -> ScoringJob:
    """Send a job that ended in ERROR back to QUEUED, with a fresh budget of attempts."""
    try:
        with transaction.atomic():
            retried = ScoringJob.retry(job_id=job_id, user=user, reason=reason.strip(),
                                       extra_attempts=settings.SCORING_MAX_ATTEMPTS)
    except IntegrityError:
        raise JobConflict("The submission already has a queued or running job.") from None
    if not retried:
        raise JobConflict("Only a job in ERROR can be retried.")
    transaction.on_commit(partial(scoring_jobs_dispatch, job_ids=[job_id]))
    return ScoringJob.objects.get(pk=job_id)


@transaction.atomic
def submission_rescore(*, submission_id, user, reason: str = "") -> ScoringJob:
    """A new job for a submitted submission; earlier jobs and results stay as
    they are, and the latest of them records that it was rescored, and as which job."""
    submission = Submission.objects.select_for_update().get(pk=submission_id)
    if submission.status != Submission.Status.SUBMITTED:
        raise NotSubmitted("Only a submitted submission can be rescored.")
    previous = ScoringJob.objects.filter(submission=submission).order_by("-created_at").first()
    job = scoring_job_create(submission=submission, requested_by=ScoringJob.RequestedBy.STAFF, user=user,
                             reason=reason)
    if previous is not None:
        JobEvent.objects.create(
            job=previous, action=JobEvent.Action.RESCORED, from_status=previous.status, to_status=previous.status,
            actor=user.get_username() if user else "system", reason=reason.strip(), related_job=job,
        )
    return job


@transaction.atomic
def scoring_job_request(*, submission_id, user, requested_by: str = ScoringJob.RequestedBy.API,
                        trace_id: str = "") -> tuple[ScoringJob, bool]:
    """Ask for a submission to be scored; safe to repeat.

    An in-progress submission is submitted (creating its job); otherwise the
    active job is returned, or the latest one if none is active. Returns the
    job and whether it was created by this call.
    """
    submission = Submission.objects.select_for_update().get(pk=submission_id, owner=user)
    if submission.status == Submission.Status.IN_PROGRESS:
        return _submit_held(submission, user=user, requested_by=requested_by, trace_id=trace_id), True
    job = ScoringJob.objects.filter(submission=submission).order_by("-created_at").first()
    if job is None:  # submitted but never given a job (cannot happen through submit; be safe)
        return scoring_job_create(submission=submission, requested_by=requested_by, user=user,
                                  trace_id=trace_id), True
    return job, False

