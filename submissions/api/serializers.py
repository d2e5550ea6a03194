from rest_framework import serializers

from submissions.models import Submission


class SubmissionOutputSerializer(serializers.Serializer):
    """A submission as every submissions endpoint returns it."""

    id = serializers.UUIDField()
    assignment = serializers.IntegerField(source="assignment_id")
    owner = serializers.CharField(source="owner.username")
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    source_code = serializers.CharField()
    documentation = serializers.CharField()
    version = serializers.IntegerField(
        help_text="Bumped by every change. Send it back (If-Match or the body's `version`) with a PATCH."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


def etag_of(submission) -> str:
    return f'"{submission.version}"'
