from django.db.models import QuerySet

from submissions.models import Submission, SubmissionFile


def submission_ready_files(*, submission: Submission) -> QuerySet[SubmissionFile]:
    """The files that passed verification, in upload order."""
    return submission.files.filter(status=SubmissionFile.Status.READY).order_by("created_at", "id")
