"""Use-cases of learners' submissions and their files.

Every function is keyword-only and takes ids and the acting user, never a
request: the browser views and the REST API call the same code. Errors:

- ``django.core.exceptions.ValidationError`` with field errors: bad input
  (a file's size), answered 400.
- A ``DomainError`` (feedback_site/errors.py) with its code, answered 409: a
  rule refuses (``cannot_start``: attempt limit or deadline; ``not_ready``:
  files pending or rejected, nothing written, deadline passed;
  ``file_refused``: too many files; ``file_not_ready``), the submission is
  locked (``submission_locked``, or ``already_submitted`` on a second submit),
  or it changed since the caller read it (``version_conflict``).
- ``Submission.DoesNotExist`` / ``SubmissionFile.DoesNotExist``: no such
  object *for this user* (someone else's is indistinguishable from none).
"""

import hashlib
import logging
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from feedback_site.errors import DomainError
from submissions import filetypes, storage
from submissions.filenames import neutralise_file_name
from submissions.models import MAX_TOTAL_BYTES, Assignment, PendingObjectDeletion, Submission, SubmissionFile
from submissions.selectors import can_read_all_submissions

logger = logging.getLogger(__name__)

LOCKED_MESSAGE = "This submission has been submitted and can no longer be changed."
ALREADY_SUBMITTED_MESSAGE = "This submission has already been submitted."
UPLOAD_STARTS_PER_FILE = 10  # uploads a submission may start per file the assignment accepts
STALE_MESSAGE = "This submission was changed elsewhere (another tab or device); reload to see the latest version."
# A Content-Type we are willing to put into a POST policy: type/subtype, no
# parameters, nothing a header could be smuggled through.
# ``submission_start(copy_from=...)``: start from the learner's latest submitted attempt.
PREVIOUS_ATTEMPT = "previous"
_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")


class SubmissionLocked(DomainError):
    """The submission has been submitted: nothing about it can change."""

    code = "submission_locked"


class SubmissionStale(DomainError):
    """The submission changed since the caller read it (another tab or device)."""

    code = "version_conflict"


class CannotStart(DomainError):
    """No new attempt: the attempt limit is reached or the deadline passed."""

    code = "cannot_start"


class NotReady(DomainError):
    """The submission cannot be submitted yet: files pending or rejected, nothing written, or too late."""

    code = "not_ready"


class FileRefused(DomainError):
    """The submission takes no more files."""

    code = "file_refused"


class FileNotReady(DomainError):
    """The file has not passed verification (it cannot be downloaded)."""

    code = "file_not_ready"


class FileVerifying(DomainError):
    """Another request is verifying this upload right now."""

    code = "file_verifying"


# --- submissions -------------------------------------------------------------


@transaction.atomic
def submission_start(*, user, assignment: Assignment, copy_from=None) -> tuple[Submission, bool]:
    """Continue the learner's open submission for the assignment, or start one
    (a new attempt) if the attempt limit and the deadline allow it. Returns
    the submission and whether it was started by this call.

    ``copy_from`` pre-fills a new attempt from an earlier one: the id of one
    of the learner's submitted attempts of this assignment, or
    ``PREVIOUS_ATTEMPT`` for the latest. Its text is copied, and its verified
    files that the assignment's current rules still allow are copied in S3
    once the new attempt is committed. It is checked on every call (bad input
    is a ValidationError on ``copy_from``) but applies only when this call
    starts the attempt: an open attempt is returned as it is, so a repeated
    start (a double click) never copies twice."""
    # Starts for one assignment queue on its row: without it, two concurrent
    # starts (READ COMMITTED) both find no open attempt, both count, both
    # insert. NO KEY UPDATE, because other learners' uncommitted inserts hold
    # KEY SHARE on the row and must not make this wait. The row is re-read, so
    # the limits checked are the current ones.
    assignment = Assignment.objects.select_for_update(no_key=True).get(pk=assignment.pk)
    source = None if copy_from is None else _attempt_to_copy(user, assignment, copy_from)
    existing = _open_submission(user, assignment)
    if existing:
        return existing, False
    if assignment.deadline_passed():
        raise CannotStart("The deadline for this assignment has passed; no new attempt can be started.")
    attempts = Submission.objects.filter(owner=user, assignment=assignment).count()
    if attempts >= assignment.max_attempts:
        raise CannotStart(f"This assignment allows {assignment.max_attempts} attempt(s); all are used.")
    submission = Submission(owner=user, assignment=assignment)
    if source is not None:
        submission.source_code, submission.documentation = source.source_code, source.documentation
    submission.full_clean(validate_constraints=False)  # one open attempt: the database's partial unique index
    try:
        with transaction.atomic():
            submission.save()
    except IntegrityError:
        # An open attempt was inserted by a writer that did not take the lock
        # above: it is the one to continue.
        existing = _open_submission(user, assignment)
        if existing is None:
            raise
        return existing, False
    if source is not None:
        _copy_files(source=source, to=submission, user=user)
    return submission, True


def _attempt_to_copy(user, assignment: Assignment, copy_from) -> Submission:
    earlier = Submission.objects.filter(owner=user, assignment=assignment, status=Submission.Status.SUBMITTED)
    if copy_from == PREVIOUS_ATTEMPT:
        source = earlier.order_by("-created_at").first()
        if source is None:
            raise ValidationError({"copy_from": "You have no earlier attempt of this assignment to start from."})
        return source
    try:
        source = earlier.filter(pk=copy_from).first()
    except ValidationError:  # not a UUID
        source = None
    if source is None:
        raise ValidationError({"copy_from": (
            f'Give "{PREVIOUS_ATTEMPT}" or the id of one of your submitted attempts of this assignment.'
        )})
    return source


def _copy_files(*, source: Submission, to: Submission, user) -> None:
    """Register copies (PENDING) of the source's verified files that the
    assignment still allows, and copy their objects once this commits: an
    object is never written for a row that might roll back."""
    assignment = to.assignment
    room = MAX_TOTAL_BYTES - to.text_size
    copies = []
    for file in source.files.filter(status=SubmissionFile.Status.READY).order_by("created_at", "id"):
        size = file.size or 0
        allowed = size <= assignment.max_file_size and assignment.accepts_content_type(file.content_type)
        if not allowed or size > room or len(copies) >= assignment.max_files:
            continue  # the rules changed since: the learner uploads it again if it still fits
        room -= size
        copy = SubmissionFile(
            submission=to, original_name=file.original_name, storage_key=storage.new_object_key(to.pk)
        )
        copy.full_clean()
        copy.save()
        copies.append((copy, file))
    if copies:
        transaction.on_commit(partial(_copy_file_objects, copies=copies, user=user), robust=True)


def _copy_file_objects(*, copies: list[tuple[SubmissionFile, SubmissionFile]], user) -> None:
    for copy, file in copies:
        reason = f"Copied from the earlier attempt {file.submission_id}."
        try:
            storage.copy_object(source=file.storage_key, key=copy.storage_key)
        except (BotoCoreError, ClientError):
            logger.warning("could not copy %s into the new attempt", file.storage_key, exc_info=True)
            copy.mark_rejected(reason="This file could not be copied from your earlier attempt; remove it and "
                               "upload it again.", actor=user, token=None)
            continue
        # The bytes are the earlier attempt's, already verified: its measures hold.
        if not copy.mark_ready(size=file.size, content_type=file.content_type, sha256=file.sha256, actor=user,
                               token=None, reason=reason):
            # Removed by the learner meanwhile: the copied object has no file.
            with transaction.atomic():
                _delete_objects_after_commit([copy.storage_key])


def submission_update_text(
    *, submission: Submission, source_code: str, documentation: str, expected_version: int
) -> Submission:
    """Save the text fields, refusing a stale version or a locked submission."""
    if not submission.is_editable:
        raise SubmissionLocked(LOCKED_MESSAGE)
    if not submission.update_text(
        source_code=source_code, documentation=documentation, expected_version=expected_version
    ):
        # Tell the two reasons apart: a lost race against submit, or another tab.
        current = Submission.objects.filter(pk=submission.pk).values_list("status", flat=True).first()
        if current == Submission.Status.SUBMITTED:
            raise SubmissionLocked(LOCKED_MESSAGE)
        raise SubmissionStale(STALE_MESSAGE)
    return submission


def submission_mark_submitted(*, submission: Submission, user) -> None:
    """Check the submission can be submitted and move it to SUBMITTED.

    Runs inside the caller's transaction with the submission row locked (the
    file services take the same lock), so no file can change between this
    check and the status change. The caller (jobs.services.submission_submit)
    creates the scoring job alongside.
    """
    if not submission.is_editable:
        raise SubmissionLocked(ALREADY_SUBMITTED_MESSAGE, code="already_submitted")
    problems = submission_submit_problems(submission=submission)
    if problems:
        raise NotReady(" ".join(problems))
    if not submission.mark_submitted(actor=user):
        raise SubmissionLocked(ALREADY_SUBMITTED_MESSAGE, code="already_submitted")


def submission_submit_problems(*, submission: Submission) -> list[str]:
    """Why the submission cannot be submitted as it is now, for the learner
    (empty: it can). The confirmation page shows them instead of its submit
    button; ``submission_mark_submitted`` refuses with them."""
    problems = []
    if submission.assignment.deadline_passed():
        problems.append("The deadline for this assignment has passed; it can no longer be submitted.")
    files = list(submission.files.live().values_list("status", "original_name", "size"))
    pending = [name for status, name, _ in files if status == SubmissionFile.Status.PENDING]
    rejected = [name for status, name, _ in files if status == SubmissionFile.Status.REJECTED]
    if pending:
        problems.append(f"Wait until every file is checked, or remove it: still pending: {', '.join(pending)}.")
    if rejected:
        problems.append(f"Remove the rejected file(s) before submitting: {', '.join(rejected)}.")
    has_text = bool(submission.source_code.strip() or submission.documentation.strip())
    if not (has_text or files):
        problems.append("Write some code or documentation, or attach a file, before submitting.")
    total = submission.text_size + sum(size or 0 for status, _, size in files if status == SubmissionFile.Status.READY)
    if total > MAX_TOTAL_BYTES:
        problems.append(
            f"Your code, documentation and files come to {filesizeformat(total)}; a submission may be at most "
            f"{filesizeformat(MAX_TOTAL_BYTES)} in total. Remove or shrink a file."
        )
    return problems


def submission_used_bytes(*, submission: Submission) -> int:
    """What counts towards MAX_TOTAL_BYTES now: the text and the verified files."""
    ready = submission.files.filter(status=SubmissionFile.Status.READY).aggregate(total=Sum("size"))["total"]
    return submission.text_size + (ready or 0)


# --- files -------------------------------------------------------------------


@dataclass(frozen=True)
class FileUploadTicket:
    """What a client needs to upload one file straight to S3."""

    file: SubmissionFile
    url: str
    fields: dict[str, str]
    max_size: int
    expires_in: int


@dataclass(frozen=True)
class _Verdict:
    size: int | None = None
    content_type: str = ""
    sha256: str = ""
    reason: str = ""


@transaction.atomic
def submission_file_upload_start(
    *, submission_id, user, file_name: str, size: int, content_type: str = ""
) -> FileUploadTicket:
    """Register a file the learner is about to upload and presign its POST.

    ``size`` and ``content_type`` are what the client declares: the size is
    checked now for an early, clear refusal, the POST policy makes S3 refuse
    a body over the assignment's limit, and both are verified on the stored
    object by ``submission_file_upload_complete``. The name is neutralised
    for display and never used in the storage key.
    """
    submission = _own_submission_for_update(submission_id, user)
    _require_editable(submission)
    assignment = submission.assignment
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationError({"size": "Give the file's size as a whole number of bytes."})
    if size < 1:
        raise ValidationError({"size": "The file is empty."})
    if size > assignment.max_file_size:
        raise ValidationError(
            {"size": f"The file is {filesizeformat(size)}; the limit is {filesizeformat(assignment.max_file_size)}."}
        )
    room = MAX_TOTAL_BYTES - submission_used_bytes(submission=submission)
    if size > room:
        raise ValidationError({"size": (
            f"The file is {filesizeformat(size)}, but only {filesizeformat(max(room, 0))} of the "
            f"{filesizeformat(MAX_TOTAL_BYTES)} a submission may hold in total (code, documentation and files) "
            "is left. Remove or shrink a file first."
        )})
    active = submission.files.filter(
        status__in=(SubmissionFile.Status.PENDING, SubmissionFile.Status.READY)
    ).count()
    if active >= assignment.max_files:
        raise FileRefused(f"This assignment accepts at most {assignment.max_files} file(s).")
    # Deleted and rejected files stay as history: without a bound, start → delete → start
    # loops could add rows (and presigned URLs) without end.
    if submission.files.count() >= assignment.max_files * UPLOAD_STARTS_PER_FILE:
        raise FileRefused("Too many uploads were started for this submission; start a new attempt to upload more.")
    name = neutralise_file_name(file_name)
    problem = "The file name contained a folder path; rename the file and upload it again." if name.had_path else ""
    file = SubmissionFile(
        submission=submission,
        original_name=name.name,
        name_problem=problem,
        storage_key=storage.new_object_key(submission.pk),
    )
    file.full_clean()
    file.save()
    expires_in = settings.S3_PRESIGNED_EXPIRY_SECONDS
    post = storage.presigned_upload(
        key=file.storage_key,
        content_type=_policy_content_type(content_type),
        max_size=min(assignment.max_file_size, room),  # S3 refuses a body beyond what is left
        expires_in=expires_in,
    )
    return FileUploadTicket(
        file=file, url=post.url, fields=post.fields, max_size=min(assignment.max_file_size, room),
        expires_in=expires_in,
    )


def submission_file_upload_complete(*, submission_id, file_id, user) -> SubmissionFile:
    """Verify an uploaded file on the stored object itself and settle it.

    Reads the object back from S3: its real size, its type sniffed from the
    bytes (libmagic), its sha256, against the assignment's rules. Returns the
    file READY, or REJECTED with ``rejection_reason`` and the object deleted.
    Calling it again returns the file as it is (safe to retry); while another
    call is verifying it, FileVerifying (409, ask again shortly).

    No database lock or transaction is held while S3 is read: one short
    transaction takes the verification lease, the other settles the file if
    the lease is still ours (so a slow S3 never blocks other writers).
    """
    file, token = _verification_claim(submission_id, file_id, user)
    if token is None:
        return file
    try:
        verdict = _verify_upload(file)
    except BaseException:
        # Storage failed us (or we are stopping): the next completion may try at once.
        SubmissionFile.objects.filter(pk=file.pk, verification_token=token).update(verifying_until=None)
        raise
    with transaction.atomic():
        if verdict.reason:
            settled = file.mark_rejected(
                reason=verdict.reason, actor=user, token=token,
                size=verdict.size, content_type=verdict.content_type, sha256=verdict.sha256,
            )
            if settled:
                _delete_objects_after_commit(storage.file_object_keys(file.storage_key))
        else:
            settled = file.mark_ready(size=verdict.size, content_type=verdict.content_type, sha256=verdict.sha256,
                                      actor=user, token=token)
            if settled:
                # Only now: until the file is settled, a retry may need to copy it again.
                _delete_objects_after_commit([storage.incoming_key_for(file.storage_key)])
        if not settled:
            file.refresh_from_db()
            if file.status == SubmissionFile.Status.DELETED:
                # Removed while we read it: our copy may have put the object back.
                _delete_objects_after_commit(storage.file_object_keys(file.storage_key))
    return file


def _verification_claim(submission_id, file_id, user) -> tuple[SubmissionFile, uuid.UUID | None]:
    """The file, and a fresh verification token if it is ours to verify
    (None when it is settled already)."""
    with transaction.atomic():
        file = (
            SubmissionFile.objects.select_for_update(of=("self",))
            .select_related("submission__assignment")
            .live()
            .get(pk=file_id, submission_id=submission_id, submission__owner=user)
        )
        if file.status != SubmissionFile.Status.PENDING:
            return file, None
        _require_editable(file.submission)
        now = timezone.now()
        if file.verifying_until is not None and file.verifying_until > now:
            raise FileVerifying("This file is being verified just now; ask again in a few seconds.")
        token = uuid.uuid4()
        until = now + timedelta(seconds=settings.UPLOAD_VERIFY_LEASE_SECONDS)
        SubmissionFile.objects.filter(pk=file.pk).update(verification_token=token, verifying_until=until)
        file.verification_token, file.verifying_until = token, until
    return file, token


def submission_file_delete(*, submission_id, file_id, user) -> SubmissionFile:
    """Remove a file from a submission that is still in progress.

    The row stays (DELETED) as history; the stored object is deleted.
    """
    with transaction.atomic():
        submission = _own_submission_for_update(submission_id, user)
        _require_editable(submission)
        file = SubmissionFile.objects.select_for_update().live().get(pk=file_id, submission=submission)
        file.mark_deleted(actor=user)
        _delete_objects_after_commit(storage.file_object_keys(file.storage_key))
    return file


def submission_file_download_url(*, submission_id, file_id, user) -> str:
    """A short-lived presigned GET for one of the learner's verified files,
    served as an attachment under its neutralised name."""
    file = SubmissionFile.objects.live().get(pk=file_id, submission_id=submission_id, submission__owner=user)
    return _download_url(file)


def submission_file_staff_download_url(*, file_id, user) -> str:
    """The same short-lived download for staff (the admin console)."""
    if not can_read_all_submissions(user):
        raise SubmissionFile.DoesNotExist("no such file")
    return _download_url(SubmissionFile.objects.live().get(pk=file_id))


# --- stored objects no longer needed ------------------------------------------


@dataclass(frozen=True)
class PurgeOutcome:
    deleted: int
    failed: int


def pending_object_deletions_purge(*, keys: Collection[str] | None = None, batch_size: int = 200) -> PurgeOutcome:
    """Delete the objects listed in PendingObjectDeletion (or only ``keys``)
    from S3, and their rows once S3 has confirmed.

    A refusal for one key is recorded on its row and the sweep goes on; S3
    being unreachable ends the sweep (the rest waits for the next run). Rows
    are taken FOR UPDATE SKIP LOCKED, batch by batch, so several sweeps and
    the after-commit attempts never work on the same key at once.
    """
    deleted = failed = 0
    after = 0
    while True:
        with transaction.atomic():
            rows = PendingObjectDeletion.objects.select_for_update(skip_locked=True).filter(pk__gt=after)
            if keys is not None:
                rows = rows.filter(key__in=list(keys))
            batch = list(rows.order_by("pk")[:batch_size])
            if not batch:
                break
            after = batch[-1].pk
            done, failures, reachable = _delete_stored_objects(batch)
            PendingObjectDeletion.objects.filter(pk__in=done).delete()
            for row, error in failures:
                PendingObjectDeletion.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_attempt_at=timezone.now(), last_error=error[:500]
                )
        deleted, failed = deleted + len(done), failed + len(failures)
        if not reachable or len(batch) < batch_size:
            break
    return PurgeOutcome(deleted=deleted, failed=failed)


def _delete_stored_objects(rows: list[PendingObjectDeletion]) -> tuple[list[int], list[tuple], bool]:
    """(ids deleted, [(row, error)], whether S3 answered at all)."""
    done, failures = [], []
    for row in rows:
        try:
            storage.delete_objects(row.key)
        except ClientError as exc:
            logger.warning("storage refused to delete %s; it stays listed", row.key, exc_info=True)
            failures.append((row, f"{type(exc).__name__}: {exc}"))
        except BotoCoreError as exc:
            logger.warning("storage unreachable deleting %s; it stays listed", row.key, exc_info=True)
            failures.append((row, f"{type(exc).__name__}: {exc}"))
            return done, failures, False
        else:
            done.append(row.pk)
    return done, failures, True


def _delete_objects_after_commit(keys: Collection[str]) -> None:
    """List the objects for deletion in the caller's transaction and try to
    delete them once it commits; what fails then stays listed for the sweep."""
    keys = list(keys)
    PendingObjectDeletion.objects.bulk_create(
        [PendingObjectDeletion(key=key) for key in keys], ignore_conflicts=True
    )
    transaction.on_commit(partial(pending_object_deletions_purge, keys=keys), robust=True)


# --- helpers -----------------------------------------------------------------


def _open_submission(user, assignment: Assignment) -> Submission | None:
    return (
        Submission.objects.select_for_update()
        .filter(owner=user, assignment=assignment, status=Submission.Status.IN_PROGRESS)
        .first()
    )


def _own_submission_for_update(submission_id, user) -> Submission:
    return Submission.objects.select_for_update(of=("self",)).select_related("assignment").get(
        pk=submission_id, owner=user
    )


def _require_editable(submission: Submission) -> None:
    if not submission.is_editable:
        raise SubmissionLocked(LOCKED_MESSAGE)


def _policy_content_type(declared: str) -> str:
    declared = (declared or "").strip().lower()
    return declared if _CONTENT_TYPE_RE.match(declared) else "application/octet-stream"


def _download_url(file: SubmissionFile) -> str:
    if file.status != SubmissionFile.Status.READY:
        raise FileNotReady("Only files that passed verification can be downloaded.")
    return storage.presigned_download_url(
        key=file.storage_key,
        filename=file.original_name,
        content_type=file.content_type,
        expires_in=settings.S3_PRESIGNED_EXPIRY_SECONDS,
    )


def _verify_upload(file: SubmissionFile) -> _Verdict:
    assignment = file.submission.assignment
    limit = assignment.max_file_size
    if file.name_problem:
        return _Verdict(reason=file.name_problem)
    if not storage.promote_upload(key=file.storage_key):
        return _Verdict(reason="The upload did not arrive in storage; upload the file again.")
    size = storage.object_size(file.storage_key)
    if size is None:
        return _Verdict(reason="The upload did not arrive in storage; upload the file again.")
    if size == 0:
        return _Verdict(size=0, reason="The file is empty.")
    if size > limit:
        return _Verdict(size=size, reason=f"The file is {filesizeformat(size)}; the limit is {filesizeformat(limit)}.")
    digest, head, read = hashlib.sha256(), bytearray(), 0
    for chunk in storage.iter_object(file.storage_key):
        read += len(chunk)
        if read > limit:
            return _Verdict(size=read, reason=f"The file is over the {filesizeformat(limit)} limit.")
        digest.update(chunk)
        if len(head) < filetypes.SNIFF_BYTES:
            head += chunk[: filetypes.SNIFF_BYTES - len(head)]
    content_type = filetypes.sniff_content_type(bytes(head))
    verdict = _Verdict(size=read, content_type=content_type, sha256=digest.hexdigest())
    if not assignment.accepts_content_type(content_type):
        accepted = ", ".join(assignment.accepted_types) or "nothing, until staff correct the assignment's file types"
        reason = (
            f"The file's content is {content_type}, which this assignment does not accept "
            f"(accepted: {accepted}). The type is read from the content, not the name."
        )
        return _Verdict(size=read, content_type=content_type, sha256=verdict.sha256, reason=reason)
    return verdict

