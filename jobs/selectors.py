from jobs.models import ScoringJob


def latest_job_for_submission(*, submission_id) -> ScoringJob | None:
    return (
        ScoringJob.objects.filter(submission_id=submission_id)
        .select_related("result")
        .order_by("-created_at")
        .first()
    )
