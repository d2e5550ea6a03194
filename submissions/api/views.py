"""/api/submissions: start, list, read, edit and submit submissions.

Views translate HTTP to the services in submissions.services and
jobs.services and back; the rules live in the services.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback_site.api.errors import PreconditionFailed, PreconditionRequired
from feedback_site.api.pagination import PageNumberPagination
from feedback_site.api.requests import absolute_url, trace_id_of
from feedback_site.api.schema import (
    ETAG_HEADER,
    PAGE_PARAMETERS,
    POST_PARAMETERS,
    RETRY_AFTER_HEADER,
    error_responses,
    location_header,
    paginated,
)
from feedback_site.api.serializers import (
    MAX_BIGINT,
    QueryFilterSerializer,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from idempotency.api import idempotent
from jobs.api.responses import job_response
from jobs.api.serializers import JobOutputSerializer
from jobs.models import ScoringJob
from jobs.services import submission_submit
from submissions.api.selectors import own_submission, visible_submission, visible_submissions
from submissions.api.serializers import SubmissionOutputSerializer, etag_of
from submissions.models import Assignment, Submission
from submissions.services import PREVIOUS_ATTEMPT, SubmissionStale, submission_start, submission_update_text

TAG = ["submissions"]
SUBMISSION_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The submission's id.")


def _detail_response(request, submission: Submission, status_code: int = status.HTTP_200_OK) -> Response:
    response = Response(SubmissionOutputSerializer(submission).data, status=status_code)
    response["ETag"] = etag_of(submission)
    if status_code == status.HTTP_201_CREATED:
        response["Location"] = absolute_url(request, reverse("api:submission_detail", args=[submission.pk]))
    return response


class SubmissionListCreateApi(APIView):
    """POST: start (or continue) a submission; GET: list the visible ones."""

    class SubmissionCreateInputSerializer(StrictInputSerializer):
        assignment = StrictIntegerField(min_value=1, max_value=MAX_BIGINT, help_text="The assignment's id.")
        copy_from = StrictCharField(
            required=False, max_length=64,
            help_text=(
                f'Pre-fill a new attempt from an earlier one: "{PREVIOUS_ATTEMPT}" (your latest submitted attempt '
                "of this assignment) or the id of one of your submitted attempts of it. Its code and documentation "
                "are copied, and its verified files that the assignment still allows are copied in storage "
                "(verified, READY, when the answer arrives). Left out: a blank attempt."
            ),
        )

        def validate_assignment(self, value: int) -> Assignment:
            assignment = Assignment.objects.filter(pk=value).first()
            if assignment is None:
                raise serializers.ValidationError("No such assignment.")
            return assignment

    class FilterSerializer(QueryFilterSerializer):
        status = serializers.ChoiceField(choices=Submission.Status.choices, required=False)
        assignment = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, required=False)

    @property
    def throttle_scope(self):
        return "submission_create" if self.request.method == "POST" else None

    @extend_schema(
        operation_id="submissions_create",
        tags=TAG,
        summary="Start a submission",
        description=(
            "Starts a submission (status IN_PROGRESS) for an assignment, or returns the learner's open one for it "
            "(200) instead of starting a second: retrying is safe even without an Idempotency-Key. With "
            "`copy_from`, a new attempt starts with an earlier attempt's code, documentation and files; an open "
            "attempt is returned as it is (nothing is copied twice). A `copy_from` that names no submitted "
            "attempt of yours of this assignment, or \"previous\" when there is none: 400."
        ),
        parameters=[*POST_PARAMETERS, ETAG_HEADER, location_header(201)],
        request=SubmissionCreateInputSerializer,
        responses={
            201: OpenApiResponse(SubmissionOutputSerializer, description="Started; Location names it."),
            200: OpenApiResponse(SubmissionOutputSerializer, description="The open submission already there."),
            **error_responses(409, 413, 415, 422),
        },
        examples=[
            OpenApiExample("start", value={"assignment": 1}, request_only=True),
            OpenApiExample("start from the last attempt", value={"assignment": 1, "copy_from": PREVIOUS_ATTEMPT},
                           request_only=True),
        ],
    )
    @idempotent
    def post(self, request):
        serializer = self.SubmissionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The service continues an open submission rather than starting a
        # second (a natural key), and says which of the two happened.
        data = serializer.validated_data
        submission, created = submission_start(
            user=request.user, assignment=data["assignment"], copy_from=data.get("copy_from")
        )
        submission = visible_submissions(request.user).get(pk=submission.pk)
        return _detail_response(request, submission, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="submissions_list",
        tags=TAG,
        summary="List submissions",
        description="Your submissions (staff: everyone's), newest first, filtered and paginated.",
        parameters=[FilterSerializer, *PAGE_PARAMETERS, RETRY_AFTER_HEADER],
        responses={200: paginated(SubmissionOutputSerializer, "PaginatedSubmissionList"), **error_responses(404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        submissions = visible_submissions(request.user).order_by("-created_at", "-pk")
        if "status" in filters.validated_data:
            submissions = submissions.filter(status=filters.validated_data["status"])
        if "assignment" in filters.validated_data:
            submissions = submissions.filter(assignment_id=filters.validated_data["assignment"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(submissions, request, view=self)
        return paginator.get_paginated_response(SubmissionOutputSerializer(page, many=True).data)


def _expected_version(request, submission: Submission, body_version: int | None) -> int:
    """The version the client says it is changing: from If-Match (HTTP's
    precondition, checked first: a stale one is 412) or from the body's
    ``version`` (the service refuses a stale one: 409 version_conflict)."""
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
        if "*" not in tags and str(submission.version) not in tags:
            raise PreconditionFailed()
        if body_version is None:
            return submission.version
    if body_version is None:
        raise PreconditionRequired()
    return body_version


class SubmissionDetailApi(APIView):
    """GET: one submission; PATCH: change its text fields."""

    class SubmissionUpdateInputSerializer(StrictInputSerializer):
        source_code = StrictCharField(required=False, allow_blank=True)
        documentation = StrictCharField(required=False, allow_blank=True)
        version = StrictIntegerField(
            required=False,
            min_value=1,
            max_value=2**31 - 1,
            help_text="The version you read (alternative to If-Match). Not written: the server bumps it.",
        )

        def validate(self, attrs):
            if "source_code" not in attrs and "documentation" not in attrs:
                raise serializers.ValidationError("Send source_code, documentation, or both.")
            return attrs

    @property
    def throttle_scope(self):
        return "submission_update" if self.request.method == "PATCH" else None

    @extend_schema(
        operation_id="submissions_retrieve",
        tags=TAG,
        summary="Read a submission",
        description="The ETag header carries the version, for If-Match on a later PATCH.",
        parameters=[SUBMISSION_ID, RETRY_AFTER_HEADER, ETAG_HEADER],
        responses={200: SubmissionOutputSerializer, **error_responses(404)},
    )
    def get(self, request, pk):
        return _detail_response(request, visible_submission(request.user, pk))

    @extend_schema(
        operation_id="submissions_partial_update",
        tags=TAG,
        summary="Edit a submission's text",
        description=(
            "Changes source_code and/or documentation of an IN_PROGRESS submission. Name the version you read, "
            "in If-Match (its ETag; stale: 412) or in the body's `version` (stale: 409); with neither: 428. "
            "A submitted submission cannot change (409)."
        ),
        parameters=[
            SUBMISSION_ID,
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description='e.g. "3"'),
            RETRY_AFTER_HEADER,
            ETAG_HEADER,
        ],
        request=SubmissionUpdateInputSerializer,
        responses={200: SubmissionOutputSerializer, **error_responses(404, 409, 412, 413, 415, 428)},
        examples=[
            OpenApiExample(
                "edit", value={"source_code": "def add(a, b):\n    return a + b\n", "version": 1}, request_only=True
            )
        ],
    )
    def patch(self, request, pk):
        submission = own_submission(request.user, pk)
        serializer = self.SubmissionUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expected = _expected_version(request, submission, data.get("version"))
        try:
            submission_update_text(
                submission=submission,
                source_code=data.get("source_code", submission.source_code),
                documentation=data.get("documentation", submission.documentation),
                expected_version=expected,
            )
        except SubmissionStale:
            if request.headers.get("If-Match") is None:
                raise
            raise PreconditionFailed() from None  # changed after If-Match was checked
        return _detail_response(request, submission)


class SubmissionSubmitApi(APIView):
    """POST: submit; the submission locks and its scoring job is queued."""

    class SubmitInputSerializer(StrictInputSerializer):
        """No fields: an empty body or {}; anything else is refused."""

    throttle_scope = "submission_submit"

    @extend_schema(
        operation_id="submissions_submit",
        tags=TAG,
        summary="Submit a submission",
        description=(
            "Locks the submission (SUBMITTED) and queues its scoring job in one transaction. Answers 202 with the "
            "job; poll Location (GET /api/scoring/{id}) until DONE or ERROR. Already submitted, files still "
            "pending or rejected, nothing written, or the deadline passed: 409."
        ),
        parameters=[SUBMISSION_ID, *POST_PARAMETERS, location_header(202)],
        request=None,
        responses={202: OpenApiResponse(JobOutputSerializer, description="The queued job; Location names it."),
                   **error_responses(404, 409, 413, 415, 422)},
    )
    @idempotent
    def post(self, request, pk):
        submission = own_submission(request.user, pk)
        self.SubmitInputSerializer(data=request.data).is_valid(raise_exception=True)
        job = submission_submit(
            submission_id=submission.pk,
            user=request.user,
            requested_by=ScoringJob.RequestedBy.API,
            trace_id=trace_id_of(request),
        )
        return job_response(request, job, status.HTTP_202_ACCEPTED)
