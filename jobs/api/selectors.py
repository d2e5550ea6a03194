from django.db.models import QuerySet

from jobs.models import ScoringJob


def visible_jobs(user) -> QuerySet[ScoringJob]:
    """Jobs of the user's own submissions; staff see every job."""
    jobs = ScoringJob.objects.all()
    if user.is_staff:
        return jobs
    return jobs.filter(submission__owner=user)
