from django.contrib import admin

from submissions.models import Assignment, Submission, SubmissionEvent


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "deadline", "max_attempts", "created_at"]
    search_fields = ["title"]


class SubmissionEventInline(admin.TabularInline):
    model = SubmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


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
    inlines = [SubmissionEventInline]

    def has_add_permission(self, request):
        return False
