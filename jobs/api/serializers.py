from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.models import ScoringJob
from jobs.permissions import can_read_all_jobs


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class _StoredNumber(serializers.FloatField):
    """A number read from a stored result: results are plain JSON written by
    whichever engine version scored them, so a missing or odd value reads as
    null rather than failing the response."""

    def get_attribute(self, instance):
        return instance.get(self.source) if isinstance(instance, dict) else None

    def to_representation(self, value):
        if value is None or isinstance(value, bool):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None


@extend_schema_field(OpenApiTypes.INT)
class _StoredLine(_StoredNumber):
    def to_representation(self, value):
        number = super().to_representation(value)
        return int(number) if number is not None and number.is_integer() and number > 0 else None


class _StoredText(serializers.CharField):
    def get_attribute(self, instance):
        value = instance.get(self.source) if isinstance(instance, dict) else None
        return "" if value is None or isinstance(value, dict | list) else value


class FeedbackItemOutputSerializer(serializers.Serializer):
    criterion = _StoredText(allow_blank=True, help_text="The key of the criterion the item belongs to.")
    severity = _StoredText(help_text="error, warning, or info (a hint, which costs no points).")
    message = _StoredText()
    suggestion = _StoredText(allow_blank=True)
    file = _StoredText(
        allow_blank=True,
        help_text="source_code, documentation or an attachment's name; empty when the item has no place.",
    )
    line = _StoredLine(allow_null=True, help_text="1-based line in `file`, or null.")
    rule = _StoredText(allow_blank=True, help_text="The analyser's rule, e.g. nested-loops.same-collection.")
    points = _StoredNumber(
        allow_null=True,
        help_text="Points of its criterion this item cost, with one decimal (0 for a hint). A criterion's score is its "
                  "max_score minus the sum of its items' points. Null in results stored by engines before 2.0.0, "
                  "which did not record points per item.",
    )


class ScoreResultOutputSerializer(serializers.Serializer):
    score = serializers.DecimalField(source="total", max_digits=5, decimal_places=1, coerce_to_string=False)
    criteria = serializers.JSONField(
        help_text="Each criterion: {key, name, score, max_score}; score is max_score minus the points of the "
                  "criterion's feedback items."
    )
    feedback = FeedbackItemOutputSerializer(many=True, help_text="Feedback items, each with the points it cost.")
    summary = serializers.JSONField(help_text="Strengths, improvements and next steps.")
    engine_version = serializers.CharField()
    created_at = serializers.DateTimeField()


class JobSummaryOutputSerializer(serializers.Serializer):
    """A scoring job as lists show it; the detail adds the full result."""

    id = serializers.UUIDField()
    submission = serializers.UUIDField(source="submission_id")
    status = serializers.ChoiceField(choices=ScoringJob.Status.choices)
    attempts = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    requested_by = serializers.ChoiceField(choices=ScoringJob.RequestedBy.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    score = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    @extend_schema_field(serializers.FloatField(allow_null=True, help_text="0-100 when DONE, else null."))
    def get_score(self, job):
        if job.status != ScoringJob.Status.DONE or job.result is None:
            return None
        return float(job.result.total)

    @extend_schema_field(JobErrorSerializer(allow_null=True, help_text="Why the job ended in ERROR, else null."))
    def get_error(self, job):
        if not job.error_code:
            return None
        request = self.context.get("request")
        staff = bool(request and can_read_all_jobs(request.user))
        return {"code": job.error_code, "message": job.error_message if staff else job.learner_error_message}


class JobOutputSerializer(JobSummaryOutputSerializer):
    result = serializers.SerializerMethodField()

    @extend_schema_field(ScoreResultOutputSerializer(allow_null=True, help_text="The result when DONE, else null."))
    def get_result(self, job):
        if job.status != ScoringJob.Status.DONE or job.result is None:
            return None
        return ScoreResultOutputSerializer(job.result).data
