from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.models import ScoringJob
from jobs.permissions import can_read_all_jobs


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ScoreResultOutputSerializer(serializers.Serializer):
    score = serializers.DecimalField(source="total", max_digits=5, decimal_places=1, coerce_to_string=False)
    criteria = serializers.JSONField(help_text="Each criterion's name, weight and score.")
    feedback = serializers.JSONField(
        help_text="Feedback items: {criterion, severity, message, suggestion, file, line}."
    )
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
