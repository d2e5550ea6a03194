from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Max

from feedback_site.admin import ReadOnlyAdmin
from scoring.models import Rubric, RubricCriterion, RubricVersion, ScoreResult
from scoring.services import rubric_version_publish


class CriterionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError("A rubric needs at least one criterion.")
        total = sum(f.cleaned_data.get("weight") or 0 for f in kept)
        if total != 100:
            raise ValidationError(f"The weights are points out of 100 and must add up to 100 (now {total}).")
        analysers = [f.cleaned_data.get("analyser") for f in kept]
        if len(set(analysers)) != len(analysers):
            raise ValidationError("Each analyser can be used by one criterion only.")


class RubricCriterionInline(admin.TabularInline):
    model = RubricCriterion
    formset = CriterionFormSet
    fields = ["position", "analyser", "name", "weight"]
    extra = 0


class RubricVersionInline(admin.TabularInline):
    model = RubricVersion
    fields = ["number", "criteria_summary", "created_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    verbose_name_plural = "versions (each save that changes the rubric publishes a new one)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    @admin.display(description="criteria")
    def criteria_summary(self, version):
        return ", ".join(f"{name} {weight}" for _, name, weight in version.definition.get("criteria", []))


@admin.register(Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ["assignment", "latest_version", "updated_at"]
    list_select_related = ["assignment"]
    search_fields = ["assignment__title"]
    fields = ["assignment", "csv_required_headers", "json_schema"]
    inlines = [RubricCriterionInline, RubricVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(latest_number=Max("versions__number"))

    @admin.display(description="latest version", ordering="latest_number")
    def latest_version(self, rubric):
        return rubric.latest_number

    def get_readonly_fields(self, request, obj=None):
        return ["assignment"] if obj is not None else []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = form.instance.latest_version()
        version = rubric_version_publish(rubric=form.instance, user=request.user)
        if before is None or version.pk != before.pk:
            self.message_user(request, f"Published version {version.number}; new results use it.", messages.SUCCESS)
        else:
            self.message_user(request, f"No change to score with: still version {version.number}.", messages.INFO)


@admin.register(RubricVersion)
class RubricVersionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["rubric", "number", "created_at", "created_by"]
    list_select_related = ["rubric__assignment", "created_by"]
    readonly_fields = ["rubric", "number", "definition", "created_at", "created_by"]


@admin.register(ScoreResult)
class ScoreResultAdmin(admin.ModelAdmin):
    list_display = ["id", "submission", "total", "engine_version", "rubric_version_label", "created_at"]
    list_select_related = ["submission__assignment", "submission__owner"]
    readonly_fields = [f.name for f in ScoreResult._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
