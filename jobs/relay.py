"""The relay: makes sure every QUEUED job has a message and no job hangs in RUNNING.

Run by `manage.py runrelay` every RELAY_INTERVAL_SECONDS. Each sweep claims its
rows with SELECT … FOR UPDATE SKIP LOCKED, so several relays can run at once
without sending twice for the same row in the same moment (and a message sent
twice would be harmless anyway: the claim lets one delivery through).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import DEFAULT_CANCEL_REASON, JobAttempt, ScoringJob
from jobs.services import scoring_jobs_dispatch

logger = logging.getLogger(__name__)

# A job created this recently is being sent by its own transaction's on_commit.
DISPATCH_GRACE = timedelta(seconds=5)


@dataclass
class RelayReport:
    dispatched: int = 0
    redispatched: int = 0
    requeued: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return any((self.dispatched, self.redispatched, self.requeued, self.failed))


def relay_sweep() -> RelayReport:
    """One pass: expired leases first (they add QUEUED jobs), then unsent and stale jobs."""
    report = RelayReport()
    report.requeued, report.failed = _expire_leases()
    report.dispatched = _dispatch(_never_sent())
    report.redispatched = _dispatch(_stale())
    if report:
        logger.info("relay: %s", report)
    return report


def _never_sent() -> Q:
    return Q(dispatched_at__isnull=True, available_at__lte=timezone.now() - DISPATCH_GRACE)


def _stale() -> Q:
    # Sent, due long ago, and still not claimed: the message was lost (or sits
    # in the dead-letter queue). Send another.
    cutoff = timezone.now() - timedelta(seconds=settings.RELAY_REDISPATCH_AFTER_SECONDS)
    return Q(dispatched_at__lt=cutoff, available_at__lt=cutoff)


def _dispatch(condition: Q) -> int:
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
    sent = scoring_jobs_dispatch(job_ids=job_ids)
    unsent = set(job_ids) - set(sent)
    if unsent:  # marked but not sent: the next sweep takes them again
        ScoringJob.objects.filter(pk__in=unsent, status=ScoringJob.Status.QUEUED).update(dispatched_at=None)
    return len(sent)


def _expire_leases() -> tuple[int, int]:
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
            transaction.on_commit(lambda: scoring_jobs_dispatch(job_ids=requeued))
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
