"""Staff reads of scored work over the API: an assignment's results as CSV."""

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.views import APIView

from feedback_site.api.schema import RETRY_AFTER_HEADER, error_responses
from feedback_site.api.serializers import QueryFilterSerializer
from scoring.reports import ExportFilters, can_read_results, results_csv
from submissions.models import Assignment


class CsvRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data  # the view streams its own body


class ResultsFilterSerializer(QueryFilterSerializer):
    submitted_from = serializers.DateTimeField(required=False, help_text="Attempts submitted at or after this time.")
    submitted_to = serializers.DateTimeField(required=False, help_text="Attempts submitted before this time.")
    learner = serializers.CharField(required=False, max_length=150, help_text="One learner's username, exactly.")
    scored = serializers.BooleanField(required=False, default=False, help_text="Only attempts that have a score.")

    def validate(self, attrs):
        start, end = attrs.get("submitted_from"), attrs.get("submitted_to")
        if start and end and start >= end:
            raise serializers.ValidationError({"submitted_to": ["Must be after submitted_from."]})
        return attrs


class AssignmentResultsExportApi(APIView):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="assignment_results_export",
        tags=["results"],
        summary="Export an assignment's results (CSV)",
        description=(
            "Staff who may view results: one CSV row per submitted attempt (learner, attempt number, status, "
            "score, each criterion's score, submitted and scored times, ids and versions), learners in username "
            "order. Attempt numbers count every attempt, so they stay the same in a filtered export. Streamed."
        ),
        parameters=[ResultsFilterSerializer, RETRY_AFTER_HEADER],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV, with a header row."),
                   **error_responses(404)},
    )
    def get(self, request, pk):
        if not can_read_results(request.user):
            raise PermissionDenied("Only staff who may view results can export them.")
        filters = export_filters(request.query_params)
        assignment = get_object_or_404(Assignment, pk=pk)
        return csv_download(results_csv(assignment_id=assignment.pk, filters=filters), f"results-{assignment.pk}.csv")

    def handle_exception(self, exc):
        # Errors are JSON in the API's format even when the client asked for CSV.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response


def export_filters(query) -> ExportFilters:
    """The export's filters from a query string (the API's and the admin's);
    raises serializers.ValidationError naming the bad ones."""
    serializer = ResultsFilterSerializer(data=query)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return ExportFilters(submitted_from=data.get("submitted_from"), submitted_to=data.get("submitted_to"),
                         learner=data.get("learner", ""), scored_only=data["scored"])


def csv_download(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
