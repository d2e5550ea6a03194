from django.core.exceptions import ValidationError
from django.db import transaction

from submissions.models import Assignment, Submission


class SubmissionConflict(Exception):
    """The submission changed since the caller read it, or is locked."""


@transaction.atomic
def submission_start(*, user, assignment: Assignment) -> Submission:
    """Continue the learner's open submission for the assignment, or start one."""
    existing = (
        Submission.objects.select_for_update()
        .filter(owner=user, assignment=assignment, status=Submission.Status.IN_PROGRESS)
        .first()
    )
    if existing:
        return existing
    attempts = Submission.objects.filter(owner=user, assignment=assignment).count()
    if attempts >= assignment.max_attempts:
        raise ValidationError(f"This assignment allows {assignment.max_attempts} attempt(s); all are used.")
    submission = Submission(owner=user, assignment=assignment)
    submission.full_clean()
    submission.save()
    return submission


def submission_update_text(
    *, submission: Submission, source_code: str, documentation: str, expected_version: int
) -> Submission:
    """Save the text fields, refusing a stale version or a locked submission."""
    if not submission.is_editable:
        raise SubmissionConflict("This submission has been submitted and can no longer be changed.")
    if not submission.update_text(
        source_code=source_code, documentation=documentation, expected_version=expected_version
    ):
        raise SubmissionConflict("This submission was changed elsewhere; reload to see the latest version.")
    return submission


def submission_lock(*, submission: Submission, user) -> None:
    """Check the submission can be submitted and move it to SUBMITTED.

    Runs inside the caller's transaction with the row locked; the caller
    (jobs.services.submission_submit) creates the scoring job alongside.
    """
    if not submission.is_editable:
        raise SubmissionConflict("This submission has already been submitted.")
    if not (submission.source_code.strip() or submission.documentation.strip()):
        raise ValidationError("Write some code or documentation before submitting.")
    if not submission.mark_submitted(actor=user):
        raise SubmissionConflict("This submission has already been submitted.")
