import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from submissions import filetypes

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
# The whole submission, code and documentation included: what the scorer
# accepts (scoring.engine.MAX_TOTAL_BYTES; a test keeps the two equal, as this
# app may not import the engine). Beyond it an upload or a submit is refused.
MAX_TOTAL_BYTES = 16 * 1024 * 1024



class StatusTransitions:
    """One way to change a status: a compare-and-swap on the status this
    object holds (a stale object simply loses), and the change's event row in
    the same transaction, so the event's from_status is exact."""

    def _transition(self, from_statuses, to_status: str, *, actor, reason: str = "", guard: dict | None = None,
                    **fields) -> bool:
        """``guard``: more column values the row must still hold for the change to happen."""
        previous = self.status
        if previous not in from_statuses:
            return False
        now = timezone.now()
        with transaction.atomic():
            updated = type(self).objects.filter(pk=self.pk, status=previous, **(guard or {})).update(
                status=to_status, updated_at=now, **fields
            )
            if not updated:
                return False
            self._record_event(previous, to_status, actor=actor, reason=reason[:500])
        computed = [name for name, value in fields.items() if hasattr(value, "resolve_expression")]
        for name, value in fields.items():
            if name not in computed:
                setattr(self, name, value)
        self.status, self.updated_at = to_status, now
        if computed:
            self.refresh_from_db(fields=computed)
        return True

    def _record_event(self, from_status: str, to_status: str, *, actor, reason: str) -> None:
        raise NotImplementedError

class Assignment(models.Model):
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    accepted_file_types = models.JSONField(
        default=list,
        blank=True,
        help_text="Accepted MIME types, e.g. text/x-python, text/csv. Empty accepts any.",
    )
    max_file_size = models.PositiveIntegerField(default=DEFAULT_MAX_FILE_SIZE, help_text="Bytes per file.")
    max_files = models.PositiveSmallIntegerField(default=10)
    max_attempts = models.PositiveSmallIntegerField(default=3, help_text="Submissions a learner may make.")
    deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        self.accepted_file_types = _clean_accepted_file_types(self.accepted_file_types)

    def deadline_passed(self, now=None) -> bool:
        return self.deadline is not None and (now or timezone.now()) >= self.deadline

    @property
    def accepted_types(self) -> list[str]:
        """The accepted MIME types, as matching reads them (see filetypes)."""
        return filetypes.accepted_type_list(self.accepted_file_types)

    def accepts_content_type(self, sniffed: str) -> bool:
        return filetypes.is_accepted(sniffed, self.accepted_file_types)


def _clean_accepted_file_types(value) -> list[str]:
    """A list of ``type/subtype`` or ``type/*`` strings, lower-cased, once each."""
    if value is None:
        return []
    example = 'Give a list of MIME types, e.g. ["text/x-python", "text/csv", "image/*"], or [] for any.'
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError({"accepted_file_types": example})
    types = [item.strip().lower() for item in value]
    malformed = [t for t in types if not filetypes.is_accepted_type_pattern(t)]
    if malformed:
        raise ValidationError(
            {"accepted_file_types": f"Not a MIME type (type/subtype or type/*): {', '.join(map(repr, malformed))}. "
             + example}
        )
    return list(dict.fromkeys(types))


class Submission(StatusTransitions, models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        SUBMITTED = "SUBMITTED", "Submitted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS, editable=False)
    source_code = models.TextField(blank=True)
    documentation = models.TextField(blank=True)
    # Optimistic concurrency: every write bumps it; a write that names an
    # older version is a conflict, never a silent overwrite.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="IN_PROGRESS", submitted_at__isnull=True)
                | Q(status="SUBMITTED", submitted_at__isnull=False),
                name="submission_submitted_at_matches_status",
            ),
            # One open attempt per learner and assignment, whatever races.
            models.UniqueConstraint(
                fields=["owner", "assignment"],
                condition=Q(status="IN_PROGRESS"),
                name="submission_one_open_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} by {self.owner} ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    @property
    def text_size(self) -> int:
        """The code and documentation in bytes (UTF-8), as they count towards MAX_TOTAL_BYTES."""
        return sum(len(text.encode("utf-8", "surrogatepass")) for text in (self.source_code, self.documentation))

    def update_text(self, *, source_code: str, documentation: str, expected_version: int) -> bool:
        """Write the text fields if nobody else wrote since ``expected_version``.

        A conditional UPDATE, so two tabs racing cannot both win. Returns
        False on a conflict or when the submission is no longer editable.
        """
        now = timezone.now()
        updated = Submission.objects.filter(
            pk=self.pk, status=self.Status.IN_PROGRESS, version=expected_version
        ).update(source_code=source_code, documentation=documentation, version=F("version") + 1, updated_at=now)
        if updated:
            self.source_code, self.documentation = source_code, documentation
            self.version, self.updated_at = expected_version + 1, now
        return bool(updated)

    def mark_submitted(self, *, actor) -> bool:
        """IN_PROGRESS → SUBMITTED. Returns False if it was not IN_PROGRESS."""
        return self._transition({self.Status.IN_PROGRESS}, self.Status.SUBMITTED, actor=actor,
                                submitted_at=timezone.now(), version=F("version") + 1)

    def _record_event(self, from_status: str, to_status: str, *, actor, reason: str) -> None:
        SubmissionEvent.objects.create(submission_id=self.pk, from_status=from_status, to_status=to_status,
                                       actor=actor, reason=reason)


class StatusEvent(models.Model):
    """Append-only record of one status change: who, when, from, to, why.
    Subclasses add what changed and their status fields."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class SubmissionEvent(StatusEvent):
    """A submission's status changes."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, choices=Submission.Status.choices)
    to_status = models.CharField(max_length=16, choices=Submission.Status.choices)


class SubmissionFileQuerySet(models.QuerySet):
    def live(self):
        """The files a submission still has: every status but DELETED."""
        return self.filter(status__in=SubmissionFile.LIVE_STATUSES)


class SubmissionFile(StatusTransitions, models.Model):
    """A file attached to a submission, stored in S3 under a server-generated key.

    PENDING until the server has checked the stored object itself (size, type
    sniffed from content, sha256); then READY, or REJECTED with the reason (and
    the object deleted). DELETED when the learner removes it: the row stays as
    history, the object goes.

    The check reads S3 outside any transaction: whoever runs it first takes a
    lease on the PENDING row (``verification_token``, ``verifying_until``), and
    only the holder of the token settles it. A lease left by a crashed process
    runs out and the next completion takes it over.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending verification"
        READY = "READY", "Ready"
        REJECTED = "REJECTED", "Rejected"
        DELETED = "DELETED", "Deleted"

    # Every status but DELETED: the files a submission still has.
    LIVE_STATUSES = (Status.PENDING, Status.READY, Status.REJECTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    # Shown to people after neutralisation; never used to build a storage key.
    original_name = models.CharField(max_length=255)
    # Set when the name as sent was unacceptable (it named a path): the file is
    # rejected when the upload completes, with this reason.
    name_problem = models.CharField(max_length=200, blank=True, default="", editable=False)
    storage_key = models.CharField(max_length=512, unique=True, editable=False)
    content_type = models.CharField(max_length=127, blank=True, editable=False, help_text="Sniffed from content.")
    size = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, editable=False)
    rejection_reason = models.CharField(max_length=500, blank=True, editable=False)
    verification_token = models.UUIDField(null=True, blank=True, editable=False)
    verifying_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubmissionFileQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["submission", "status"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    # --- transitions: each a conditional UPDATE plus an append-only event ---

    def mark_ready(self, *, size: int, content_type: str, sha256: str, actor, token, reason: str = "") -> bool:
        """PENDING → READY with what the server measured on the stored object
        (or, for a copy, on the object it was copied from), by the holder of
        the verification lease ``token`` only (None: a copy nobody is verifying)."""
        return self._transition(
            {self.Status.PENDING}, self.Status.READY, actor=actor, reason=reason, guard={"verification_token": token},
            size=size, content_type=content_type, sha256=sha256, verifying_until=None,
        )

    def mark_rejected(self, *, reason: str, actor, token, size=None, content_type: str = "", sha256: str = "") -> bool:
        """PENDING → REJECTED, keeping the reason (and whatever was measured),
        by the holder of the verification lease ``token`` only."""
        return self._transition(
            {self.Status.PENDING}, self.Status.REJECTED, actor=actor, reason=reason,
            guard={"verification_token": token}, verifying_until=None,
            rejection_reason=reason[:500], size=size, content_type=content_type[:127], sha256=sha256,
        )

    def mark_deleted(self, *, actor) -> bool:
        """Any live status → DELETED (the learner removed the file)."""
        return self._transition(self.LIVE_STATUSES, self.Status.DELETED, actor=actor)

    def _record_event(self, from_status: str, to_status: str, *, actor, reason: str) -> None:
        SubmissionFileEvent.objects.create(file_id=self.pk, from_status=from_status, to_status=to_status,
                                           actor=actor, reason=reason)


class SubmissionFileEvent(StatusEvent):
    """A file's status changes."""

    file = models.ForeignKey(SubmissionFile, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=8, choices=SubmissionFile.Status.choices)
    to_status = models.CharField(max_length=8, choices=SubmissionFile.Status.choices)


class PendingObjectDeletion(models.Model):
    """An S3 object the database no longer needs, not yet confirmed deleted.

    Listed in the same transaction that lets go of the object (a file deleted
    or rejected, an upload promoted), so a deletion S3 refuses or never hears
    of is retried by ``manage.py purge_deleted_files`` rather than forgotten.
    The row goes once S3 has deleted the object; the file's own history is in
    SubmissionFileEvent.
    """

    key = models.CharField(max_length=512, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key
