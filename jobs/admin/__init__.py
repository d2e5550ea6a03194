"""The staff console for scoring jobs (Django admin), one module per part:

- ``scoring_job``: the jobs list and the job page (ScoringJobAdmin);
- ``actions``: retry, cancel and rescore, on a selection or one job;
- ``dashboard``: states, throughput, run times, queue depths;
- ``dead_letters``: the dead-letter queue (inspect, redrive, purge);
- ``paginator`` and ``formatting``: helpers of the pages above.
"""

from django.contrib import admin
from django_dramatiq.models import Task

from jobs.admin.scoring_job import ScoringJobAdmin

# django-dramatiq's task table is not used (its admin middleware is off).
if admin.site.is_registered(Task):
    admin.site.unregister(Task)

__all__ = ["ScoringJobAdmin"]
