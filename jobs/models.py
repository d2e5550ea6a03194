import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


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
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=128, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    error_code = models.CharField(max_length=64, blank=True, editable=False)
    error_message = models.TextField(blank=True, editable=False)
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
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="DONE") | Q(result__isnull=False), name="scoring_job_done_has_result"
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    # --- transitions: each a conditional UPDATE plus an append-only event ---

    @classmethod
    def claim(cls, *, job_id, worker_id: str, lease_seconds: int) -> bool:
        """QUEUED, or RUNNING with an expired lease → RUNNING under our lease.

        Zero rows means someone else holds it or it already finished: the
        caller treats the delivery as a duplicate.
        """
        now = timezone.now()
        claimable = Q(status=cls.Status.QUEUED) | Q(status=cls.Status.RUNNING, lease_expires_at__lt=now)
        previous = cls.objects.filter(pk=job_id).values_list("status", flat=True).first()
        updated = (
            cls.objects.filter(claimable, pk=job_id, attempts__lt=F("max_attempts"))
            .update(
                status=cls.Status.RUNNING,
                lease_owner=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=F("attempts") + 1,
                started_at=now,
                updated_at=now,
            )
        )
        if updated:
            JobEvent.record(job_id, previous or cls.Status.QUEUED, cls.Status.RUNNING, actor=worker_id)
        return bool(updated)

    @classmethod
    def finish(cls, *, job_id, worker_id: str, result) -> bool:
        """RUNNING → DONE, only for the worker that still holds the lease."""
        now = timezone.now()
        updated = cls.objects.filter(pk=job_id, status=cls.Status.RUNNING, lease_owner=worker_id).update(
            status=cls.Status.DONE, result=result, finished_at=now, lease_expires_at=None, updated_at=now
        )
        if updated:
            JobEvent.record(job_id, cls.Status.RUNNING, cls.Status.DONE, actor=worker_id)
        return bool(updated)

    @classmethod
    def fail(cls, *, job_id, worker_id: str, code: str, message: str) -> bool:
        """RUNNING → ERROR, only for the worker that still holds the lease."""
        now = timezone.now()
        updated = cls.objects.filter(pk=job_id, status=cls.Status.RUNNING, lease_owner=worker_id).update(
            status=cls.Status.ERROR,
            error_code=code,
            error_message=message[:2000],
            finished_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
        if updated:
            JobEvent.record(job_id, cls.Status.RUNNING, cls.Status.ERROR, actor=worker_id, reason=f"{code}: {message}")
        return bool(updated)

    @classmethod
    def release(cls, *, job_id, worker_id: str, reason: str) -> bool:
        """RUNNING → QUEUED after a transient failure, to be tried again."""
        now = timezone.now()
        updated = cls.objects.filter(pk=job_id, status=cls.Status.RUNNING, lease_owner=worker_id).update(
            status=cls.Status.QUEUED, lease_owner="", lease_expires_at=None, updated_at=now
        )
        if updated:
            JobEvent.record(job_id, cls.Status.RUNNING, cls.Status.QUEUED, actor=worker_id, reason=reason)
        return bool(updated)

    @classmethod
    def mark_dispatched(cls, *, job_id) -> None:
        # Not a status change: it records that a message was handed to SQS.
        now = timezone.now()
        cls.objects.filter(pk=job_id).update(dispatched_at=now, updated_at=now)


class JobEvent(models.Model):
    """Append-only history of a job's status changes: who, when, from, to, why."""

    job = models.ForeignKey(ScoringJob, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=8, choices=ScoringJob.Status.choices, blank=True)
    to_status = models.CharField(max_length=8, choices=ScoringJob.Status.choices)
    actor = models.CharField(max_length=150, help_text="A worker id or a username.")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} by {self.actor}"

    @classmethod
    def record(cls, job_id, from_status: str, to_status: str, *, actor: str, reason: str = "") -> "JobEvent":
        return cls.objects.create(
            job_id=job_id, from_status=from_status, to_status=to_status, actor=actor[:150], reason=reason
        )
