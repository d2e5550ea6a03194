"""Scoring jobs, their append-only attempt records and event history.

Every status change is a conditional UPDATE (the WHERE clause names the state
it expects and, for a worker, the lease it holds), so at-least-once delivery,
dead workers and stale workers can never produce two results or overwrite a
newer attempt. Each change also appends a JobEvent row.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

ACTIVE_STATUSES = ("QUEUED", "RUNNING")
TERMINAL_STATUSES = ("DONE", "ERROR")

# Error codes whose stored message is written for the learner: what to change
# (input refused, a scoring limit overrun) or the reason staff gave for a
# cancel. Any other code's message is for staff (an exception's text, a
# worker's name) and learners read LEARNER_ERROR_FALLBACK instead.
LEARNER_ERROR_CODES = frozenset({
    "nothing_to_score", "too_many_files", "input_too_large",
    "scoring_timeout", "scoring_memory", "scoring_crashed", "cancelled",
})
LEARNER_ERROR_FALLBACK = ("We could not score this yet. Your submission is safe; staff can see what went wrong "
                          "and will rescore it.")
# The reason recorded when staff cancel without giving one.
DEFAULT_CANCEL_REASON = "Cancelled by staff."


class ScoringJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        ERROR = "ERROR", "Error"

    class RequestedBy(models.TextChoices):
        LEARNER = "LEARNER", "Learner submit"
        API = "API", "API"
        STAFF = "STAFF", "Staff rescore"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="scoring_jobs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    requested_by = models.CharField(max_length=8, choices=RequestedBy.choices)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trace_id = models.CharField(max_length=64, blank=True)
    # When the job may next be worked on (now, or after a retry's backoff),
    # and when a message for it was last handed to SQS (null: not yet).
    available_at = models.DateTimeField(default=timezone.now, editable=False)
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=160, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    error_code = models.CharField(max_length=64, blank=True, editable=False)
    error_message = models.TextField(blank=True, editable=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    cancel_reason = models.CharField(max_length=500, blank=True, editable=False)
    result = models.OneToOneField(
        "scoring.ScoreResult", null=True, blank=True, on_delete=models.PROTECT, related_name="job", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["submission", "-created_at"]),
            # The relay's two scans, each over a small slice of a big table.
            models.Index(fields=["available_at"], condition=Q(status="QUEUED"), name="job_queued_available_idx"),
            # Jobs never sent: stays tiny even when thousands wait in QUEUED.
            models.Index(
                fields=["available_at"], condition=Q(status="QUEUED", dispatched_at__isnull=True),
                name="job_unsent_idx",
            ),
            models.Index(
                fields=["lease_expires_at"], condition=Q(status="RUNNING"), name="job_running_lease_idx"
            ),
            # The staff console: the changelist's default order (-created_at, -pk)
            # and the dashboard's windows over ended jobs.
            models.Index(fields=["created_at", "id"], name="job_created_idx"),
            models.Index(fields=["finished_at"], name="job_finished_idx"),
        ]
        permissions = [
            ("operate_scoringjob", "Can retry, cancel and rescore scoring jobs and redrive or purge dead letters"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="DONE") | Q(result__isnull=False), name="scoring_job_done_has_result"
            ),
            models.CheckConstraint(condition=Q(attempts__lte=F("max_attempts")), name="scoring_job_attempts_bounded"),
            models.UniqueConstraint(
                fields=["submission"], condition=Q(status__in=ACTIVE_STATUSES), name="one_active_job_per_submission"
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def was_cancelled(self) -> bool:
        """Ended because staff cancelled it (queued, or stopped while running)."""
        return self.status == self.Status.ERROR and self.error_code == "cancelled"

    @property
    def learner_status_label(self) -> str:
        return "Cancelled" if self.was_cancelled else self.get_status_display()

    @property
    def learner_error_message(self) -> str:
        """Why the job ended in ERROR, as the learner may read it."""
        if self.error_code == "cancelled":
            # Staff write the reason knowing the learner reads it (the cancel
            # forms say so); without one, say who stopped it, not "an error".
            reason = (self.cancel_reason or self.error_message).strip()
            if reason and reason != DEFAULT_CANCEL_REASON:
                return f"Staff cancelled the scoring of this submission. Their reason: {reason}"
            return "Staff cancelled the scoring of this submission (no reason was given)."
        if self.error_code in LEARNER_ERROR_CODES and self.error_message:
            return self.error_message
        return LEARNER_ERROR_FALLBACK

    # --- transitions: each a conditional UPDATE plus an append-only event ---

    @classmethod
    def _transition(cls, job_id, condition: Q, *, action: str, from_status: str, actor: str, reason: str = "",
                    **changes) -> bool:
        now = timezone.now()
        changes.setdefault("status", from_status)
        with transaction.atomic():  # the change and its event row, or neither
            updated = cls.objects.filter(condition, pk=job_id).update(updated_at=now, **changes)
            if updated:
                JobEvent.objects.create(
                    job_id=job_id,
                    action=action,
                    from_status=from_status,
                    to_status=changes["status"],
                    actor=actor[:150],
                    reason=reason,
                )
        return bool(updated)

    @classmethod
    def claim(cls, *, job_id, lease_owner: str, lease_seconds: int) -> bool:
        """QUEUED (and due) → RUNNING under a new lease, attempt + 1.

        Zero rows means the job is finished, cancelled, leased by a live
        worker or not due yet: the delivery is a duplicate.
        """
        now = timezone.now()
        # SQS delays have a 1 s granularity; accept a message that is early by less.
        due = Q(status=cls.Status.QUEUED, available_at__lte=now + timedelta(seconds=1))
        return cls._transition(
            job_id,
            due & Q(attempts__lt=F("max_attempts"), cancel_requested_at__isnull=True),
            action=JobEvent.Action.CLAIM,
            from_status=cls.Status.QUEUED,
            actor=lease_owner,
            status=cls.Status.RUNNING,
            lease_owner=lease_owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=F("attempts") + 1,
            started_at=now,
        )

    @classmethod
    def finish(cls, *, job_id, lease_owner: str, result) -> bool:
        """RUNNING → DONE, only under our lease and if nobody asked to cancel."""
        return cls._transition(
            job_id,
            Q(status=cls.Status.RUNNING, lease_owner=lease_owner, cancel_requested_at__isnull=True),
            action=JobEvent.Action.FINISH,
            from_status=cls.Status.RUNNING,
            actor=lease_owner,
            status=cls.Status.DONE,
            result=result,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )

    @classmethod
    def fail(cls, *, job_id, lease_owner: str, code: str, message: str) -> bool:
        """RUNNING → ERROR, only under our lease."""
        return cls._transition(
            job_id,
            Q(status=cls.Status.RUNNING, lease_owner=lease_owner),
            action=JobEvent.Action.FAIL,
            from_status=cls.Status.RUNNING,
            actor=lease_owner,
            reason=f"{code}: {message}",
            status=cls.Status.ERROR,
            error_code=code,
            error_message=message[:2000],
            finished_at=timezone.now(),
            lease_expires_at=None,
        )

    @classmethod
    def release(cls, *, job_id, lease_owner: str, delay_seconds: float, reason: str) -> bool:
        """RUNNING → QUEUED after a transient failure, due again after the backoff.

        Refused when staff asked to cancel: the job must end, not wait in QUEUED."""
        return cls._transition(
            job_id,
            Q(status=cls.Status.RUNNING, lease_owner=lease_owner, cancel_requested_at__isnull=True),
            action=JobEvent.Action.RELEASE,
            from_status=cls.Status.RUNNING,
            actor=lease_owner,
            reason=reason,
            status=cls.Status.QUEUED,
            lease_owner="",
            lease_expires_at=None,
            available_at=timezone.now() + timedelta(seconds=delay_seconds),
            dispatched_at=None,
        )

    @classmethod
    def renew_leases(cls, *, lease_owners: list[str], lease_seconds: int) -> int:
        """Heartbeat: extend the leases we still hold. Not a status change."""
        now = timezone.now()
        return cls.objects.filter(status=cls.Status.RUNNING, lease_owner__in=lease_owners).update(
            lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now
        )

    @classmethod
    def expire_lease(cls, *, job_id, lease_owner: str, requeue: bool, reason: str,
                     error_code: str = "lease_expired") -> bool:
        """RUNNING with an expired lease → QUEUED (another try) or ERROR (none left, or cancelled)."""
        now = timezone.now()
        expired = Q(status=cls.Status.RUNNING, lease_owner=lease_owner, lease_expires_at__lt=now)
        common = {"action": JobEvent.Action.LEASE_EXPIRED, "from_status": cls.Status.RUNNING, "actor": "relay",
                  "reason": reason, "lease_expires_at": None}
        if requeue:
            return cls._transition(job_id, expired, **common, status=cls.Status.QUEUED, lease_owner="",
                                   available_at=now, dispatched_at=None)
        return cls._transition(job_id, expired, **common, status=cls.Status.ERROR, error_code=error_code,
                               error_message=reason, finished_at=now)

    @classmethod
    def cancel_queued(cls, *, job_id, actor: str, reason: str) -> bool:
        """QUEUED → ERROR/cancelled at once: no worker holds it."""
        now = timezone.now()
        return cls._transition(
            job_id, Q(status=cls.Status.QUEUED), action=JobEvent.Action.CANCEL, from_status=cls.Status.QUEUED,
            actor=actor, reason=reason, status=cls.Status.ERROR, error_code="cancelled",
            error_message=reason or DEFAULT_CANCEL_REASON, finished_at=now, cancel_requested_at=now,
            cancel_reason=reason,
        )

    @classmethod
    def request_cancel(cls, *, job_id, user, reason: str) -> bool:
        """RUNNING stays RUNNING; its worker sees the request and ends it as cancelled."""
        return cls._transition(
            job_id, Q(status=cls.Status.RUNNING, cancel_requested_at__isnull=True),
            action=JobEvent.Action.CANCEL_REQUESTED, from_status=cls.Status.RUNNING,
            actor=user.get_username(), reason=reason, cancel_requested_at=timezone.now(),
            cancel_requested_by=user, cancel_reason=reason,
        )

    @classmethod
    def retry(cls, *, job_id, user, reason: str, extra_attempts: int) -> bool:
        """ERROR → QUEUED on a staff retry, with a fresh budget of attempts."""
        now = timezone.now()
        return cls._transition(
            job_id, Q(status=cls.Status.ERROR), action=JobEvent.Action.RETRY, from_status=cls.Status.ERROR,
            actor=user.get_username(), reason=reason, status=cls.Status.QUEUED,
            max_attempts=F("attempts") + extra_attempts, error_code="", error_message="", finished_at=None,
            cancel_requested_at=None, cancel_requested_by=None, cancel_reason="", lease_owner="",
            available_at=now, dispatched_at=None,
        )

    @classmethod
    def mark_dispatched(cls, *, job_ids) -> None:
        # Not a status change: it records that a message was handed to SQS.
        now = timezone.now()
        cls.objects.filter(pk__in=job_ids).update(dispatched_at=now, updated_at=now)


class JobAttempt(models.Model):
    """One try at a job, written once when the try ends. Never changed or deleted."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed (transient, retried)"
        EXHAUSTED = "EXHAUSTED", "Failed (no attempts left)"
        REJECTED = "REJECTED", "Rejected (permanent)"
        CANCELLED = "CANCELLED", "Cancelled"
        LOST = "LOST", "Lost (worker died or stalled)"
        SUPERSEDED = "SUPERSEDED", "Superseded (lease lost)"

    job = models.ForeignKey(ScoringJob, on_delete=models.PROTECT, related_name="attempt_records")
    number = models.PositiveSmallIntegerField()
    worker_id = models.CharField(max_length=160)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_class = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="one_record_per_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.job_id}: {self.outcome}"

    @property
    def duration(self) -> timedelta:
        return self.finished_at - self.started_at

    @classmethod
    def record(cls, *, job: "ScoringJob", worker_id: str, outcome: str, error: BaseException | None = None,
               error_message: str = "", traceback: str = "") -> "JobAttempt":
        """Append the record of the attempt ``job`` (as read when it was
        claimed: its attempt number and start) that ends now."""
        return cls.objects.create(
            job_id=job.pk,
            number=job.attempts,
            worker_id=worker_id,
            started_at=job.started_at,
            finished_at=timezone.now(),
            outcome=outcome,
            error_class=f"{type(error).__module__}.{type(error).__qualname__}" if error else "",
            error_message=(str(error) if error else error_message)[:2000],
            traceback=traceback,
        )


class JobEvent(models.Model):
    """Append-only history of a job: who or what, when, from, to, why."""

    class Action(models.TextChoices):
        CREATE = "CREATE", "Created"
        CLAIM = "CLAIM", "Claimed by a worker"
        FINISH = "FINISH", "Finished"
        FAIL = "FAIL", "Failed"
        RELEASE = "RELEASE", "Released for a retry"
        LEASE_EXPIRED = "LEASE_EXPIRED", "Lease expired"
        CANCEL = "CANCEL", "Cancelled"
        CANCEL_REQUESTED = "CANCEL_REQ", "Cancel requested"
        RETRY = "RETRY", "Retried by staff"
        RESCORED = "RESCORED", "Rescored as a new job"

    job = models.ForeignKey(ScoringJob, on_delete=models.PROTECT, related_name="events")
    # RESCORED: the job that scores the submission again.
    related_job = models.ForeignKey(ScoringJob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=8, choices=ScoringJob.Status.choices, blank=True)
    to_status = models.CharField(max_length=8, choices=ScoringJob.Status.choices)
    actor = models.CharField(max_length=150, help_text="A worker's lease, 'relay', or a username.")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.from_status or '∅'} → {self.to_status} by {self.actor}"


class InfrastructureRepair(models.Model):
    """Append-only record of a process putting S3 or SQS back as they must be
    (jobs/infrastructure.py): a queue or the bucket re-created, a setting put
    right. The dashboard and /health/ready show the recent ones."""

    process = models.CharField(max_length=50, help_text="What made the repair: relay, worker, setup_aws, web.")
    trigger = models.CharField(max_length=200, help_text="Why it looked: at start, a periodic check, a missing queue.")
    changes = models.JSONField(default=list, help_text="One line per change made.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="jobs_infra_repair_recent")]

    def __str__(self) -> str:
        return f"{self.process} ({self.trigger}): {'; '.join(self.changes)}"
