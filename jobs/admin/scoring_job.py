"""The staff console for scoring jobs: the list and the job page; actions,
dashboard and dead letters come from the mixins beside this module.

Every state change goes through jobs.services; the admin never writes a
status. Each action is recorded twice: the service appends a JobEvent carrying
the reason (the job's history), and the admin writes a LogEntry (who did
what, and why). Looking needs ``jobs.view_scoringjob``; acting needs
``jobs.operate_scoringjob`` (the "Job operators" group).
"""

import uuid

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import re_path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from feedback_site.admin import ReadOnlyAdmin
from jobs import selectors
from jobs.admin.actions import ACTIONS, JobActionsMixin
from jobs.admin.dashboard import DashboardMixin
from jobs.admin.dead_letters import DeadLettersMixin
from jobs.admin.formatting import format_duration, status_badge
from jobs.admin.paginator import JobPaginator
from jobs.models import ScoringJob
from jobs.permissions import can_operate_jobs


@admin.register(ScoringJob)
class ScoringJobAdmin(ReadOnlyAdmin, JobActionsMixin, DashboardMixin, DeadLettersMixin, admin.ModelAdmin):
    list_display = [
        "short_id", "status_label", "attempts_of_max", "duration", "age", "learner", "assignment",
        "requested_by", "error_code",
    ]
    list_display_links = ["short_id"]
    list_filter = [
        "status",
        ("submission__assignment", admin.RelatedFieldListFilter),
        "requested_by",
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["submission__owner", "submission__assignment"]
    # Job and submission ids are matched exactly in get_search_results.
    search_fields = ["^submission__owner__username"]
    search_help_text = "A learner's username (or its beginning), or a job or submission id (exact)."
    sortable_by = ["age", "status_label"]
    ordering = ["-created_at"]
    list_per_page = 50
    show_full_result_count = False
    paginator = JobPaginator
    actions = ["retry_selected", "cancel_selected", "rescore_selected"]
    fieldsets = [
        (None, {"fields": ["id", "status_label", "submission", "learner", "assignment", "requested_by",
                           "requested_by_user", "trace_id"]}),
        ("Progress", {"fields": ["attempts_of_max", "created_at", "available_at", "dispatched_at", "started_at",
                                 "finished_at", "duration", "lease_owner", "lease_expires_at"]}),
        ("Outcome", {"fields": ["error_code", "error_message", "cancel_requested_at", "cancel_requested_by",
                                "cancel_reason"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    # --- permissions: look with view_scoringjob, act with operate_scoringjob ---
    # (ReadOnlyAdmin: the job page is read-only for everyone; state changes only through the actions.)

    def has_operate_permission(self, request) -> bool:
        return can_operate_jobs(request.user)

    # --- the list ---

    @admin.display(description="Job")
    def short_id(self, job):
        return format_html('<span title="{}">{}</span>', job.pk, str(job.pk)[:8])

    @admin.display(description="Status", ordering="status")
    def status_label(self, job):
        badge = status_badge(job.status, job.get_status_display())
        if job.cancel_requested_at and job.is_active:
            return format_html('{} <span class="job-note">cancel requested</span>', badge)
        return badge

    @admin.display(description="Attempts")
    def attempts_of_max(self, job):
        return f"{job.attempts} of {job.max_attempts}"

    @admin.display(description="Duration")
    def duration(self, job):
        if job.status == ScoringJob.Status.RUNNING and job.started_at:
            return f"{format_duration(timezone.now() - job.started_at)} (running)"
        return format_duration(job.duration)

    @admin.display(description="Age", ordering="created_at")
    def age(self, job):
        return timesince(job.created_at, depth=1)

    @admin.display(description="Learner")
    def learner(self, job):
        return job.submission.owner.get_username()

    @admin.display(description="Assignment")
    def assignment(self, job):
        return job.submission.assignment.title

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            value = uuid.UUID(term)
        except ValueError:
            return super().get_search_results(request, queryset, term)
        return queryset.filter(Q(pk=value) | Q(submission_id=value)), False

    # --- the job page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if job is not None:
            can_operate = self.has_operate_permission(request)
            detail = selectors.job_detail(job=job)
            for attempt in detail.attempts:
                attempt.duration_text = format_duration(attempt.duration)
            context.update({
                "detail": detail,
                "job_actions": [a for a in ACTIONS.values() if can_operate and a.applies(job)],
            })
        return super().change_view(request, object_id, form_url, extra_context=context)

    # --- extra pages ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        names = "|".join(ACTIONS)
        return [
            re_path(r"^dashboard/$", wrap(self.dashboard_view), name="jobs_scoringjob_dashboard"),
            re_path(r"^dead-letters/$", wrap(self.dead_letters_view), name="jobs_scoringjob_dead_letters"),
            re_path(r"^dead-letters/purge/$", wrap(self.dead_letters_purge_view),
                    name="jobs_scoringjob_dead_letters_purge"),
            re_path(rf"^(?P<object_id>[^/]+)/(?P<action>{names})/$", wrap(self.job_action_view),
                    name="jobs_scoringjob_action"),
            *super().get_urls(),
        ]

    def _page(self, request, template: str, title: str, **context):
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "title": title, "opts": self.opts,
            "can_operate": self.has_operate_permission(request), **context,
        })
