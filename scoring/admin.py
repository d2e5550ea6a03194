from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from rest_framework import serializers

from feedback_site.admin import ReadOnlyAdmin
from scoring.api.views import csv_download, export_filters
from scoring.models import Rubric, RubricCriterion, RubricVersion, ScoreResult
from scoring.reports import assignment_insights, can_read_results, results_csv
from scoring.services import rubric_version_publish
from submissions.models import Assignment


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

    def get_urls(self):
        site = self.admin_site
        return [
            path("assignment/<int:assignment_id>/insights/", site.admin_view(self.insights_view),
                 name="scoring_assignment_insights"),
            path("assignment/<int:assignment_id>/results.csv", site.admin_view(self.export_view),
                 name="scoring_assignment_results_csv"),
            *super().get_urls(),
        ]

    # --- per-assignment reports: insights and the results export ---

    def insights_view(self, request, assignment_id):
        assignment = _reported_assignment(request, assignment_id)
        data = assignment_insights(assignment_id=assignment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Insights: {assignment.title}",
            "assignment": assignment,
            "insights": data,
            "histogram": _bars(data.histogram),
            "time_to_score": _bars(data.time_to_score),
            "attempts": _bars([(str(n), learners) for n, learners in data.attempts]),
            "export_url": reverse("admin:scoring_assignment_results_csv", args=[assignment.pk]),
        }
        return TemplateResponse(request, "admin/scoring/insights.html", context)

    def export_view(self, request, assignment_id):
        assignment = _reported_assignment(request, assignment_id)
        try:
            filters = export_filters(request.GET)
        except serializers.ValidationError as error:
            return HttpResponseBadRequest(
                "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in error.detail.items()),
                content_type="text/plain; charset=utf-8")
        return csv_download(results_csv(assignment_id=assignment.pk, filters=filters), f"results-{assignment.pk}.csv")


def _reported_assignment(request, assignment_id) -> Assignment:
    if not can_read_results(request.user):
        raise PermissionDenied
    return get_object_or_404(Assignment, pk=assignment_id)


def _bars(pairs, width: int = 480, height: int = 120) -> list[dict]:
    """Bars of an SVG chart, drawn by the template (no chart library, no CDN)."""
    top = max((n for _, n in pairs), default=0) or 1
    step = width / max(len(pairs), 1)
    return [
        {"label": label, "n": n, "x": round(i * step + 2, 1), "w": round(step - 4, 1),
         "h": round(n / top * height, 1), "y": round(height - n / top * height, 1)}
        for i, (label, n) in enumerate(pairs)
    ]
