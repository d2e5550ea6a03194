from django.db.models import QuerySet

from jobs.models import ScoringJob
from jobs.permissions import can_read_all_jobs


def visible_jobs(user) -> QuerySet[ScoringJob]:
    """Jobs of the user's own submissions; staff who may view jobs in the console see every job."""
    jobs = ScoringJob.objects.all()
    if can_read_all_jobs(user):
        return jobs
    return jobs.filter(submission__owner=user)
