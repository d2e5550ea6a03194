from django.db.models import Count, Q, QuerySet

from submissions.models import Assignment, Submission, SubmissionFile


def submission_ready_files(*, submission: Submission) -> QuerySet[SubmissionFile]:
    """The files that passed verification, in upload order."""
    return submission.files.filter(status=SubmissionFile.Status.READY).order_by("created_at", "id")


def submission_visible_files(*, submission: Submission) -> QuerySet[SubmissionFile]:
    """The files a learner sees on the submission: everything but deleted ones."""
    return submission.files.exclude(status=SubmissionFile.Status.DELETED).order_by("created_at", "id")


def submission_own(*, user, submission_id) -> Submission:
    """The learner's own submission with its assignment; DoesNotExist for
    anyone else's, so callers answer 404 and never confirm it exists."""
    return Submission.objects.select_related("assignment").get(pk=submission_id, owner=user)


def assignments_with_attempts(*, user) -> QuerySet[Assignment]:
    """Every assignment, annotated with the learner's attempts and open ones."""
    mine = Q(submissions__owner=user)
    return Assignment.objects.annotate(
        my_attempts=Count("submissions", filter=mine),
        my_open=Count("submissions", filter=mine & Q(submissions__status=Submission.Status.IN_PROGRESS)),
    )


def assignment_attempts(*, user, assignment: Assignment) -> QuerySet[Submission]:
    """The learner's attempts at an assignment, oldest first (attempt 1, 2, ...)."""
    return Submission.objects.filter(owner=user, assignment=assignment).order_by("created_at", "id")


def can_read_all_submissions(user) -> bool:
    """Staff who may view submissions in the console (the "Job viewers" and
    "Job operators" groups, superusers) may read anyone's, in the API too; a
    staff account without that permission sees only its own."""
    return bool(user.is_staff and user.has_perm("submissions.view_submission"))
