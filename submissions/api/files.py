"""/api/submissions/{id}/files: upload straight to S3, verify, list, download, delete.

The bytes never pass through the API: a client asks for a presigned POST,
sends the file to S3 itself, then asks the server to verify what was stored.
"""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback_site.api.pagination import PageNumberPagination
from feedback_site.api.requests import absolute_url
from feedback_site.api.schema import (
    PAGE_PARAMETERS,
    POST_PARAMETERS,
    RETRY_AFTER_HEADER,
    error_responses,
    location_header,
    paginated,
)
from feedback_site.api.serializers import StrictCharField, StrictInputSerializer, StrictIntegerField
from idempotency.api import idempotent
from submissions.api.selectors import own_submission, visible_submission
from submissions.models import SubmissionFile
from submissions.services import (
    submission_file_delete,
    submission_file_download_url,
    submission_file_staff_download_url,
    submission_file_upload_complete,
    submission_file_upload_start,
)

TAG = ["files"]
SUBMISSION_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The submission's id.")
FILE_ID = OpenApiParameter("file_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The file's id.")


class SubmissionFileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    submission = serializers.UUIDField(source="submission_id")
    name = serializers.CharField(source="original_name", help_text="The file's name, made safe for display.")
    status = serializers.ChoiceField(choices=SubmissionFile.Status.choices)
    size = serializers.IntegerField(allow_null=True, help_text="Measured on the stored object.")
    content_type = serializers.CharField(help_text="Sniffed from the content once verified.")
    sha256 = serializers.CharField()
    rejection_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class UploadOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="POST a multipart form here: every field below, then the file last.")
    fields = serializers.DictField(child=serializers.CharField())
    max_size = serializers.IntegerField(
        help_text="The largest body S3 accepts: the assignment's per-file limit, or less when the submission's "
        "16 MB total (code, documentation and files) leaves less room."
    )
    expires_in = serializers.IntegerField(help_text="Seconds the form stays valid.")


class UploadStartOutputSerializer(serializers.Serializer):
    file = SubmissionFileOutputSerializer()
    upload = UploadOutputSerializer()


class DownloadOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="A presigned GET; the file downloads as an attachment.")
    expires_in = serializers.IntegerField()


def _visible_file(request, pk, file_id) -> SubmissionFile:
    submission = visible_submission(request.user, pk)
    return get_object_or_404(SubmissionFile.objects.live().filter(submission=submission), pk=file_id)


def _file_url(request, file: SubmissionFile) -> str:
    return absolute_url(request, reverse("api:submission_file_detail", args=[file.submission_id, file.pk]))


class SubmissionFileListStartApi(APIView):
    """POST: start an upload; GET: the submission's files."""

    class SubmissionFileStartInputSerializer(StrictInputSerializer):
        file_name = StrictCharField(max_length=1000, help_text="The name on the client; shown after neutralising.")
        size = StrictIntegerField(min_value=1, max_value=2**62, help_text="Bytes; checked again on the upload.")
        content_type = StrictCharField(required=False, allow_blank=True, max_length=255,
                                       help_text="What the client believes; the server sniffs the real type.")

    @property
    def throttle_scope(self):
        return "file_upload" if self.request.method == "POST" else None

    @extend_schema(
        operation_id="submission_files_create",
        tags=TAG,
        summary="Start a file upload",
        description=(
            "Registers a file (PENDING) and returns a presigned POST: send it to `upload.url` as a multipart form "
            "with `upload.fields` and the file last. S3 refuses a body over the assignment's limit. Then call "
            "…/complete. A file over the assignment's per-file limit, or one that would take the submission over "
            "16 MB in total (code, documentation and verified files), is 400; the assignment's file count "
            "reached, 409; submitted, 409."
        ),
        parameters=[SUBMISSION_ID, *POST_PARAMETERS, location_header(201)],
        request=SubmissionFileStartInputSerializer,
        responses={201: OpenApiResponse(UploadStartOutputSerializer, description="Location names the file."),
                   **error_responses(404, 409, 413, 415, 422)},
        examples=[OpenApiExample("start", request_only=True,
                                 value={"file_name": "solution.py", "size": 2048, "content_type": "text/x-python"})],
    )
    @idempotent
    def post(self, request, pk):
        submission = own_submission(request.user, pk, to="change its files")
        serializer = self.SubmissionFileStartInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = submission_file_upload_start(
            submission_id=submission.pk,
            user=request.user,
            file_name=data["file_name"],
            size=data["size"],
            content_type=data.get("content_type", ""),
        )
        body = {
            "file": SubmissionFileOutputSerializer(ticket.file).data,
            "upload": {"url": ticket.url, "fields": ticket.fields, "max_size": ticket.max_size,
                       "expires_in": ticket.expires_in},
        }
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": _file_url(request, ticket.file)})

    @extend_schema(
        operation_id="submission_files_list",
        tags=TAG,
        summary="List a submission's files",
        description="Files not deleted, in upload order: PENDING, READY or REJECTED (with the reason).",
        parameters=[SUBMISSION_ID, *PAGE_PARAMETERS, RETRY_AFTER_HEADER],
        responses={200: paginated(SubmissionFileOutputSerializer, "PaginatedSubmissionFileList"),
                   **error_responses(404)},
    )
    def get(self, request, pk):
        submission = visible_submission(request.user, pk)
        files = SubmissionFile.objects.live().filter(submission=submission).order_by("created_at", "id")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(files, request, view=self)
        return paginator.get_paginated_response(SubmissionFileOutputSerializer(page, many=True).data)


class SubmissionFileDetailApi(APIView):
    """GET: one file; DELETE: remove it while the submission is in progress."""

    @property
    def throttle_scope(self):
        return "file_upload" if self.request.method == "DELETE" else None

    @extend_schema(
        operation_id="submission_files_retrieve", tags=TAG, summary="Read a file's state",
        parameters=[SUBMISSION_ID, FILE_ID, RETRY_AFTER_HEADER],
        responses={200: SubmissionFileOutputSerializer, **error_responses(404)},
    )
    def get(self, request, pk, file_id):
        return Response(SubmissionFileOutputSerializer(_visible_file(request, pk, file_id)).data)

    @extend_schema(
        operation_id="submission_files_destroy", tags=TAG, summary="Delete a file",
        description="Removes the file and its stored object. A submitted submission's files stay: 409.",
        parameters=[SUBMISSION_ID, FILE_ID, RETRY_AFTER_HEADER],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404, 409)},
    )
    def delete(self, request, pk, file_id):
        submission = own_submission(request.user, pk, to="change its files")
        submission_file_delete(submission_id=submission.pk, file_id=file_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubmissionFileCompleteApi(APIView):
    throttle_scope = "file_upload"

    class SubmissionFileCompleteInputSerializer(StrictInputSerializer):
        """No fields: an empty body or {}."""

    @extend_schema(
        operation_id="submission_files_complete",
        tags=TAG,
        summary="Verify an uploaded file",
        description=(
            "The server reads the stored object back: its size, its type sniffed from the content, its sha256, "
            "against the assignment's rules. Answers with the file READY, or REJECTED with `rejection_reason` "
            "(its object deleted). Safe to repeat: a settled file is returned as it is; while another request is "
            "verifying the same file, 409 `file_verifying` (ask again in a few seconds)."
        ),
        parameters=[SUBMISSION_ID, FILE_ID, *POST_PARAMETERS],
        request=None,
        responses={200: SubmissionFileOutputSerializer, **error_responses(404, 409, 413, 415, 422)},
    )
    @idempotent(atomic=False)  # reads S3: no transaction held meanwhile
    def post(self, request, pk, file_id):
        submission = own_submission(request.user, pk, to="change its files")
        self.SubmissionFileCompleteInputSerializer(data=request.data).is_valid(raise_exception=True)
        file = submission_file_upload_complete(submission_id=submission.pk, file_id=file_id, user=request.user)
        return Response(SubmissionFileOutputSerializer(file).data)


class SubmissionFileDownloadApi(APIView):
    @extend_schema(
        operation_id="submission_files_download",
        tags=TAG,
        summary="Get a download link",
        description=(
            "A short-lived presigned GET of a READY file, served with `Content-Disposition: attachment`. "
            "A file not (or not yet) verified: 409."
        ),
        parameters=[SUBMISSION_ID, FILE_ID, RETRY_AFTER_HEADER],
        responses={200: DownloadOutputSerializer, **error_responses(404, 409)},
    )
    def get(self, request, pk, file_id):
        file = _visible_file(request, pk, file_id)
        if file.submission.owner_id == request.user.pk:
            url = submission_file_download_url(submission_id=pk, file_id=file.pk, user=request.user)
        else:  # staff: visible_submissions let them see it
            url = submission_file_staff_download_url(file_id=file.pk, user=request.user)
        return Response({"url": url, "expires_in": settings.S3_PRESIGNED_EXPIRY_SECONDS})
