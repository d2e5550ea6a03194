from django.contrib import admin

from scoring.models import ScoreResult


@admin.register(ScoreResult)
class ScoreResultAdmin(admin.ModelAdmin):
    list_display = ["id", "submission", "total", "engine_version", "created_at"]
    list_select_related = ["submission__assignment", "submission__owner"]
    readonly_fields = [f.name for f in ScoreResult._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
