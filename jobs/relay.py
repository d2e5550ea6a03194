"""The relay: makes sure every QUEUED job has a message and no job hangs in RUNNING.

Run by `manage.py runrelay` every RELAY_INTERVAL_SECONDS. Each sweep claims its
rows with SELECT … FOR UPDATE SKIP LOCKED, so several relays can run at once
without sending twice for the same row in the same moment (and a message sent
twice would be harmless anyway: the claim lets one delivery through).

When SQS is away, a sweep stops sending at the first failure and logs one
line (how many jobs wait, and the error), not a traceback per job: the jobs
stay unsent in the database and the next sweep tries again.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import DEFAULT_CANCEL_REASON, JobAttempt, ScoringJob
from jobs.services import DispatchOutcome, scoring_jobs_send

logger = logging.getLogger(__name__)

# A job created this recently is being sent by its own transaction's on_commit.
DISPATCH_GRACE = timedelta(seconds=5)


@dataclass
class RelayReport:
    dispatched: int = 0
    redispatched: int = 0
    requeued: int = 0
    failed: int = 0
    send_error: Exception | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return any((self.dispatched, self.redispatched, self.requeued, self.failed))

    def sent(self, outcome: DispatchOutcome) -> int:
        if outcome.error is not None and self.send_error is None:
            self.send_error = outcome.error
        return len(outcome.sent)


def relay_sweep() -> RelayReport:
    """One pass: expired leases first (they add QUEUED jobs), then unsent and stale jobs."""
    report = RelayReport()
    report.requeued, report.failed = _expire_leases(report)
    # Once a send has failed, SQS is away: the rest waits for the next sweep.
    if report.send_error is None:
        report.dispatched = _dispatch(_never_sent(), report)
    if report.send_error is None:
        report.redispatched = _dispatch(_stale(), report)
    if report:
        logger.info("relay: %s", report)
    if report.send_error is not None:
        _log_send_failure(report.send_error)
    return report


def _log_send_failure(error: Exception) -> None:
    waiting = ScoringJob.objects.filter(status=ScoringJob.Status.QUEUED, dispatched_at__isnull=True).count()
    logger.warning("relay: cannot send to the scoring queue (%s: %s); %d job(s) waiting to be sent, "
                   "next try in %ss", type(error).__name__, error, waiting, settings.RELAY_INTERVAL_SECONDS)


def _never_sent() -> Q:
    return Q(dispatched_at__isnull=True, available_at__lte=timezone.now() - DISPATCH_GRACE)


def _stale() -> Q:
    # Sent, due long ago, and still not claimed: the message was lost (or sits
    # in the dead-letter queue). Send another.
    cutoff = timezone.now() - timedelta(seconds=settings.RELAY_REDISPATCH_AFTER_SECONDS)
    return Q(dispatched_at__lt=cutoff, available_at__lt=cutoff)


def _dispatch(condition: Q, report: RelayReport) -> int:
    # Take the rows and mark them in a short transaction, then send outside
    # it: a slow SQS must not hold row locks that workers' claims wait on.
    with transaction.atomic():
        job_ids = list(
            ScoringJob.objects.select_for_update(skip_locked=True)
            .filter(condition, status=ScoringJob.Status.QUEUED)
            .order_by("available_at")
            .values_list("pk", flat=True)[: settings.RELAY_BATCH_SIZE]
        )
        ScoringJob.mark_dispatched(job_ids=job_ids)
    if not job_ids:
        return 0
    outcome = scoring_jobs_send(job_ids=job_ids)
    unsent = set(job_ids) - set(outcome.sent)
    if unsent:  # marked but not sent: the next sweep takes them again
        ScoringJob.objects.filter(pk__in=unsent, status=ScoringJob.Status.QUEUED).update(dispatched_at=None)
    return report.sent(outcome)


def _expire_leases(report: RelayReport) -> tuple[int, int]:
    """RUNNING jobs whose worker stopped renewing: another try, or ERROR if none is left."""
    requeued, failed = [], 0
    with transaction.atomic():
        expired = list(
            ScoringJob.objects.select_for_update(skip_locked=True)
            .filter(status=ScoringJob.Status.RUNNING, lease_expires_at__lt=timezone.now())
            .order_by("lease_expires_at")[: settings.RELAY_BATCH_SIZE]
        )
        for job in expired:
            if _expire_one(job):
                requeued.append(job.pk)
            else:
                failed += 1
        if requeued:
            transaction.on_commit(lambda: report.sent(scoring_jobs_send(job_ids=requeued)))
    return len(requeued), failed


def _expire_one(job: ScoringJob) -> bool:
    """Close the lost attempt and move the job on. Returns True if it was requeued."""
    cancelled = job.cancel_requested_at is not None
    requeue = not cancelled and job.attempts < job.max_attempts
    if cancelled:
        reason, code = job.cancel_reason or DEFAULT_CANCEL_REASON, "cancelled"
    elif requeue:
        reason, code = f"worker {job.lease_owner} stopped renewing its lease; trying again", ""
    else:
        reason, code = f"worker {job.lease_owner} stopped renewing its lease on the last attempt", "lease_expired"
    moved = ScoringJob.expire_lease(
        job_id=job.pk, lease_owner=job.lease_owner, requeue=requeue, reason=reason, error_code=code or "lease_expired"
    )
    if moved:
        JobAttempt.record(job=job, worker_id=job.lease_owner, outcome=JobAttempt.Outcome.LOST, error_message=reason)
    return moved and requeue
