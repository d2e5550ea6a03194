from django.urls import reverse
from rest_framework.response import Response

from feedback_site.api.requests import absolute_url
from jobs.api.serializers import JobOutputSerializer
from jobs.models import ScoringJob


def job_response(request, job: ScoringJob, status_code: int) -> Response:
    """A job's full body, with Location pointing at the URL to poll (the
    scoring endpoints and the submit endpoint answer alike)."""
    job = ScoringJob.objects.select_related("result").get(pk=job.pk)
    response = Response(JobOutputSerializer(job, context={"request": request}).data, status=status_code)
    response["Location"] = absolute_url(request, reverse("api:scoring_job_detail", args=[job.pk]))
    return response
