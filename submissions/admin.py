from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html

from submissions.models import Assignment, Submission, SubmissionEvent, SubmissionFile
from submissions.services import submission_file_staff_download_url


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "deadline", "max_attempts", "max_files", "created_at", "reports"]
    search_fields = ["title"]

    @admin.display(description="results")
    def reports(self, obj):
        # The pages are the scoring admin's (scoring/admin.py), which checks who may see them.
        return format_html(
            '<a href="{}">Insights</a> · <a href="{}">CSV</a>',
            reverse("admin:scoring_assignment_insights", args=[obj.pk]),
            reverse("admin:scoring_assignment_results_csv", args=[obj.pk]),
        )


class SubmissionEventInline(admin.TabularInline):
    model = SubmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SubmissionFileInline(admin.TabularInline):
    model = SubmissionFile
    extra = 0
    can_delete = False
    fields = ["original_name", "status", "content_type", "file_size", "sha256", "rejection_reason", "download"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="size")
    def file_size(self, obj):
        return filesizeformat(obj.size) if obj.size is not None else "—"

    @admin.display(description="download")
    def download(self, obj):
        if obj.status != SubmissionFile.Status.READY:
            return "—"
        url = reverse("admin:submissions_submission_file_download", args=[obj.submission_id, obj.pk])
        return format_html('<a href="{}">Download</a>', url)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "assignment", "owner", "status", "submitted_at", "created_at"]
    list_filter = ["status", "assignment"]
    list_select_related = ["assignment", "owner"]
    search_fields = ["id", "owner__username"]
    readonly_fields = [
        "owner", "assignment", "status", "source_code", "documentation", "version",
        "created_at", "updated_at", "submitted_at",
    ]
    inlines = [SubmissionFileInline, SubmissionEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Look only: a submission changes through its services (each a
        # conditional UPDATE with an event). An admin "Save" would rewrite the
        # whole row, status included, over whatever committed meanwhile.
        return False

    def get_urls(self):
        download = self.admin_site.admin_view(self.file_download_view)
        extra = [
            path(
                "<uuid:submission_id>/files/<uuid:file_id>/download/",
                download,
                name="submissions_submission_file_download",
            )
        ]
        return extra + super().get_urls()

    def file_download_view(self, request, submission_id, file_id):
        if not self.has_view_permission(request):
            raise Http404("No such file.")
        try:
            url = submission_file_staff_download_url(file_id=file_id, user=request.user)
        except (ObjectDoesNotExist, ValidationError):
            raise Http404("No such file.") from None
        return redirect(url)

