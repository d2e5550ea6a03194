"""/api/scoring: ask for scoring, poll jobs, and the staff actions on them."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback_site.api.pagination import PageNumberPagination
from feedback_site.api.requests import trace_id_of
from feedback_site.api.schema import (
    PAGE_PARAMETERS,
    POST_PARAMETERS,
    RETRY_AFTER_HEADER,
    error_responses,
    location_header,
    paginated,
)
from feedback_site.api.serializers import (
    QueryFilterSerializer,
    StrictCharField,
    StrictInputSerializer,
    StrictUUIDField,
)
from idempotency.api import idempotent
from jobs.api.responses import job_response
from jobs.api.selectors import visible_jobs
from jobs.api.serializers import JobOutputSerializer, JobSummaryOutputSerializer
from jobs.models import ScoringJob
from jobs.permissions import can_operate_jobs
from jobs.services import (
    scoring_job_cancel,
    scoring_job_request,
    scoring_job_retry,
    submission_rescore,
)
from submissions.api.selectors import own_submission
from submissions.models import Submission

TAG = ["scoring"]
STAFF_TAG = ["scoring (staff)"]
JOB_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The scoring job's id.")
ACTIVE = (ScoringJob.Status.QUEUED, ScoringJob.Status.RUNNING)


def _accepted_or_ok(job: ScoringJob) -> int:
    # 202 while there is work in progress to poll; 200 once it has ended.
    return status.HTTP_202_ACCEPTED if job.status in ACTIVE else status.HTTP_200_OK


class ScoringJobListCreateApi(APIView):
    """POST: ask for a submission to be scored; GET: list visible jobs."""

    class ScoringRequestInputSerializer(StrictInputSerializer):
        submission = StrictUUIDField(help_text="The submission to score.")

    class FilterSerializer(QueryFilterSerializer):
        status = serializers.ChoiceField(choices=ScoringJob.Status.choices, required=False)
        submission = serializers.UUIDField(required=False)

    @property
    def throttle_scope(self):
        return "scoring_request" if self.request.method == "POST" else None

    @extend_schema(
        operation_id="scoring_create",
        tags=TAG,
        summary="Ask for a submission to be scored",
        description=(
            "A submission still IN_PROGRESS is submitted and its job queued (202). A submission has at most one "
            "queued or running job: while it has one, that job is returned (202) and nothing is created; once "
            "its latest job has ended, that job is returned (200). Poll Location until DONE or ERROR."
        ),
        parameters=[*POST_PARAMETERS, location_header(200, 202)],
        request=ScoringRequestInputSerializer,
        responses={
            202: OpenApiResponse(JobOutputSerializer, description="Queued or running; Location names the job."),
            200: OpenApiResponse(JobOutputSerializer, description="The submission's latest job, already ended."),
            **error_responses(404, 409, 413, 415, 422),
        },
        examples=[
            OpenApiExample("request", value={"submission": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
                           request_only=True)
        ],
    )
    @idempotent
    def post(self, request):
        serializer = self.ScoringRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = own_submission(request.user, serializer.validated_data["submission"],
                                    to="ask for it to be scored")
        job, _created = scoring_job_request(
            submission_id=submission.pk,
            user=request.user,
            requested_by=ScoringJob.RequestedBy.API,
            trace_id=trace_id_of(request),
        )
        return job_response(request, job, _accepted_or_ok(job))

    @extend_schema(
        operation_id="scoring_list",
        tags=TAG,
        summary="List scoring jobs",
        description="Jobs of your submissions (staff: all), newest first; `score` is set once DONE.",
        parameters=[FilterSerializer, *PAGE_PARAMETERS, RETRY_AFTER_HEADER],
        responses={200: paginated(JobSummaryOutputSerializer, "PaginatedScoringJobList"), **error_responses(404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        jobs = (
            visible_jobs(request.user)
            .select_related("result")
            .defer("result__criteria", "result__feedback", "result__summary")
            .order_by("-created_at", "-pk")
        )
        if "status" in filters.validated_data:
            jobs = jobs.filter(status=filters.validated_data["status"])
        if "submission" in filters.validated_data:
            jobs = jobs.filter(submission_id=filters.validated_data["submission"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        data = JobSummaryOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class ScoringJobDetailApi(APIView):
    @extend_schema(
        operation_id="scoring_retrieve",
        tags=TAG,
        summary="Poll a scoring job",
        description=(
            "Status (QUEUED → RUNNING → DONE | ERROR), attempts and timestamps; when DONE, `result` holds the "
            "score, the per-criterion breakdown, the feedback items and the summary; when ERROR, `error` says why."
        ),
        parameters=[JOB_ID, RETRY_AFTER_HEADER],
        responses={200: JobOutputSerializer, **error_responses(404)},
    )
    def get(self, request, pk):
        job = get_object_or_404(visible_jobs(request.user).select_related("result"), pk=pk)
        return Response(JobOutputSerializer(job, context={"request": request}).data)


# --- staff actions -------------------------------------------------------------


class StaffActionInputSerializer(StrictInputSerializer):
    reason = StrictCharField(
        required=False, allow_blank=True, max_length=500,
        help_text="Recorded in the history. A cancel's reason is also shown to the learner.",
    )


class CanOperateJobs(BasePermission):
    """The console's operators (and superusers): the same permission the admin's actions need."""

    message = "Retrying, cancelling and rescoring need the permission to operate scoring jobs."

    def has_permission(self, request, view) -> bool:
        return can_operate_jobs(request.user)


class _StaffActionApi(APIView):
    permission_classes = [IsAuthenticated, CanOperateJobs]
    throttle_scope = "staff_action"
    InputSerializer = StaffActionInputSerializer

    def reason(self, request) -> str:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("reason", "")


def _staff_schema(operation_id: str, summary: str, description: str, ok: dict, parameter):
    return extend_schema(
        operation_id=operation_id,
        tags=STAFF_TAG,
        summary=summary,
        description=description + " Job operators only (staff with the permission to operate scoring jobs; "
        "403 for others).",
        parameters=[parameter, *POST_PARAMETERS, location_header(*ok)],
        request=StaffActionInputSerializer,
        responses={**ok, **error_responses(404, 409, 413, 415, 422)},
    )


class ScoringJobRetryApi(_StaffActionApi):
    @_staff_schema(
        "scoring_retry", "Retry a failed job",
        "Sends a job in ERROR back to QUEUED with a fresh budget of attempts (409 otherwise, or while the "
        "submission has another active job).",
        {202: OpenApiResponse(JobOutputSerializer, description="Queued again.")}, JOB_ID,
    )
    @idempotent
    def post(self, request, pk):
        reason = self.reason(request)
        job = get_object_or_404(ScoringJob.objects.all(), pk=pk)
        job = scoring_job_retry(job_id=job.pk, user=request.user, reason=reason)
        return job_response(request, job, status.HTTP_202_ACCEPTED)


class ScoringJobCancelApi(_StaffActionApi):
    @_staff_schema(
        "scoring_cancel", "Cancel a job",
        "A QUEUED job ends at once; a RUNNING one is asked to stop and ends when its worker next checks "
        "(202 while it still runs). A job that has ended: 409.",
        {
            200: OpenApiResponse(JobOutputSerializer, description="Cancelled."),
            202: OpenApiResponse(JobOutputSerializer, description="Cancellation requested; the worker will stop."),
        },
        JOB_ID,
    )
    @idempotent
    def post(self, request, pk):
        reason = self.reason(request)
        job = get_object_or_404(ScoringJob.objects.all(), pk=pk)
        job = scoring_job_cancel(job_id=job.pk, user=request.user, reason=reason)
        return job_response(request, job, _accepted_or_ok(job))


class SubmissionRescoreApi(_StaffActionApi):
    @_staff_schema(
        "submissions_rescore", "Rescore a submission",
        "Queues a new job for a SUBMITTED submission; earlier jobs and results stay. 409 while the submission "
        "is in progress or already has a queued or running job.",
        {202: OpenApiResponse(JobOutputSerializer, description="The new job; Location names it.")},
        OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The submission's id."),
    )
    @idempotent
    def post(self, request, pk):
        reason = self.reason(request)
        submission = get_object_or_404(Submission.objects.all(), pk=pk)
        job = submission_rescore(submission_id=submission.pk, user=request.user, reason=reason)
        return job_response(request, job, status.HTTP_202_ACCEPTED)
