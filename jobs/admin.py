from django.contrib import admin
from django_dramatiq.models import Task

from jobs.models import JobEvent, ScoringJob

# django-dramatiq's task table is not used (its admin middleware is off).
if admin.site.is_registered(Task):
    admin.site.unregister(Task)


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ScoringJob)
class ScoringJobAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "attempts", "max_attempts", "submission", "requested_by", "created_at"]
    list_filter = ["status", "requested_by"]
    list_select_related = ["submission__assignment", "submission__owner"]
    search_fields = ["id", "submission__id", "submission__owner__username"]
    readonly_fields = [f.name for f in ScoringJob._meta.fields]
    inlines = [JobEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
