from jobs.models import ScoringJob
from jobs.services import submission_submit
from submissions.tests.factories import SubmissionFactory


def queued_job(**submission_fields) -> ScoringJob:
    """A submitted submission's QUEUED job (its dispatch runs only if the test commits)."""
    submission = SubmissionFactory(**submission_fields)
    return submission_submit(submission_id=submission.pk, user=submission.owner)
