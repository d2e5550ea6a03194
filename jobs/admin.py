"""The staff console for scoring jobs: list, job page, actions, dashboard, dead letters.

Every state change goes through jobs.services; the admin never writes a
status. Each action is recorded twice: the service appends a JobEvent carrying
the reason (the job's history), and the admin writes a LogEntry (who did
what, and why). Looking needs ``jobs.view_scoringjob``; acting needs
``jobs.operate_scoringjob`` (the "Job operators" group).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import re_path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django_dramatiq.models import Task

from jobs import dead_letters, selectors
from jobs.models import ScoringJob
from jobs.services import JobConflict, scoring_job_cancel, scoring_job_retry, submission_rescore

# django-dramatiq's task table is not used (its admin middleware is off).
if admin.site.is_registered(Task):
    admin.site.unregister(Task)

# A bulk action names its jobs in the confirmation form; beyond this, filter first.
MAX_BULK_JOBS = 500


# --- formatting -----------------------------------------------------------------------

def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def status_badge(status: str, label: str = "") -> str:
    return format_html('<span class="job-badge job-badge-{}">{}</span>', status.lower(), label or status)


def throughput_chart(hourly: list[dict], *, width: int = 720, height: int = 140) -> dict:
    """Geometry of the dashboard's bar chart (inline SVG): jobs ended per hour, done below error."""
    peak = max((h["done"] + h["error"] for h in hourly), default=0) or 1
    slot = width / max(len(hourly), 1)
    bars = []
    for i, h in enumerate(hourly):
        done_h = h["done"] / peak * height
        error_h = h["error"] / peak * height
        bars.append({
            "x": round(i * slot + 2, 1), "w": round(slot - 4, 1),
            "done_y": round(height - done_h, 1), "done_h": round(done_h, 1),
            "error_y": round(height - done_h - error_h, 1), "error_h": round(error_h, 1),
            "label": h["hour"].strftime("%H:00"), "show_label": i % 4 == 0,
            "label_x": round(i * slot + slot / 2, 1), "done": h["done"], "error": h["error"],
        })
    return {"width": width, "height": height, "peak": peak, "bars": bars}


class JobPaginator(Paginator):
    """A paginator for a big table: estimated total, and deep pages without deep joins.

    An unfiltered list shows PostgreSQL's row estimate instead of counting:
    COUNT(*) reads the whole table (or index) every time, while
    pg_class.reltuples is kept by autovacuum and is close enough for "about
    how many pages". Filtered lists and small tables are counted exactly.

    A deep page (OFFSET in the thousands) first finds its rows' ids, which an
    index scan skips through cheaply, then loads those rows with their
    learner and assignment; OFFSET over the joined rows would join every
    skipped row too.
    """

    ESTIMATE_ABOVE = 50_000
    DEFERRED_JOIN_FROM = 1_000

    def page(self, number):
        page = super().page(number)
        rows = page.object_list
        if isinstance(rows, QuerySet) and (rows.query.low_mark or 0) >= self.DEFERRED_JOIN_FROM:
            ids = list(rows.values_list("pk", flat=True))
            by_id = {job.pk: job for job in self.object_list.model._base_manager.filter(pk__in=ids)
                     .select_related(*_select_related_of(self.object_list))}
            page.object_list = [by_id[pk] for pk in ids if pk in by_id]
        return page

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and connections[queryset.db].vendor == "postgresql":
            with connections[queryset.db].cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                               [queryset.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return row[0]
        return super().count


def _select_related_of(queryset) -> list[str]:
    """The select_related paths of a queryset, as names (for the same joins on another one)."""
    def walk(tree: dict, prefix: str = ""):
        for name, subtree in tree.items():
            yield from (walk(subtree, f"{prefix}{name}__") if subtree else [f"{prefix}{name}"])

    related = queryset.query.select_related
    return list(walk(related)) if isinstance(related, dict) else []


# --- actions ---------------------------------------------------------------------------

class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the job's history and in the admin log.",
    )


@dataclass(frozen=True)
class JobAction:
    name: str
    verb: str
    done: str
    description: str
    applies: Callable[[ScoringJob], bool]


ACTIONS = {
    "retry": JobAction(
        "retry", "Retry", "Retried",
        "Send jobs in ERROR back to QUEUED with a fresh budget of attempts.",
        lambda job: job.status == ScoringJob.Status.ERROR,
    ),
    "cancel": JobAction(
        "cancel", "Cancel", "Cancelled",
        "Cancel queued jobs at once; ask the workers of running jobs to stop them.",
        lambda job: job.is_active and job.cancel_requested_at is None,
    ),
    "rescore": JobAction(
        "rescore", "Rescore", "Rescored",
        "Score the jobs' submissions again as new jobs; earlier jobs and results stay as they are.",
        lambda job: not job.is_active,
    ),
}


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


# --- the admin ---------------------------------------------------------------------------

@admin.register(ScoringJob)
class ScoringJobAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The job page is read-only for everyone: state changes only through the actions.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.operate_scoringjob")

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

    # --- actions on the list (with a confirmation page asking for the reason) ---

    @admin.action(description="Retry selected jobs (ERROR → QUEUED)…", permissions=["operate"])
    def retry_selected(self, request, queryset):
        return self._bulk(request, queryset, ACTIONS["retry"])

    @admin.action(description="Cancel selected jobs…", permissions=["operate"])
    def cancel_selected(self, request, queryset):
        return self._bulk(request, queryset, ACTIONS["cancel"])

    @admin.action(description="Rescore the submissions of selected jobs…", permissions=["operate"])
    def rescore_selected(self, request, queryset):
        return self._bulk(request, queryset, ACTIONS["rescore"])

    def _bulk(self, request, queryset, action: JobAction):
        jobs = list(queryset.select_related("submission__owner", "submission__assignment")[: MAX_BULK_JOBS + 1])
        if len(jobs) > MAX_BULK_JOBS:
            self.message_user(request, f"Select at most {MAX_BULK_JOBS} jobs at a time (filter the list first).",
                              messages.ERROR)
            return None
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._act(request, action, jobs, form.cleaned_data["reason"])
            return None  # back to the list, filters kept
        return self._confirmation(request, action, jobs, form, bulk=True)

    # --- actions on one job (buttons on the job page) ---

    def job_action_view(self, request, object_id, action):
        if not self.has_operate_permission(request):
            raise PermissionDenied
        job = self.get_object(request, unquote(object_id))
        if job is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            self._act(request, ACTIONS[action], [job], form.cleaned_data["reason"])
            return redirect(reverse("admin:jobs_scoringjob_change", args=[job.pk]))
        return self._confirmation(request, ACTIONS[action], [job], form, bulk=False)

    def _confirmation(self, request, action: JobAction, jobs: list[ScoringJob], form, *, bulk: bool):
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.verb} {len(jobs)} scoring job{'s' if len(jobs) != 1 else ''}",
            "opts": self.opts,
            "action": action,
            "action_name": f"{action.name}_selected",
            "jobs": jobs,
            "not_applicable": [job for job in jobs if not action.applies(job)],
            "form": form,
            "bulk": bulk,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/jobs/scoringjob/action_confirmation.html", context)

    def _act(self, request, action: JobAction, jobs: list[ScoringJob], reason: str) -> None:
        perform = {"retry": self._retry, "cancel": self._cancel, "rescore": self._rescore}[action.name]
        done, skipped = [], []
        for job in jobs:
            try:
                perform(request, job, reason)
            except (JobConflict, ValidationError) as exc:
                skipped.append(f"{str(job.pk)[:8]}: {_error_text(exc)}")
            else:
                done.append(job)
        if done:
            self.message_user(request, f"{action.done} {len(done)} job{'s' if len(done) != 1 else ''}.",
                              messages.SUCCESS)
        if skipped:
            shown = "; ".join(skipped[:10]) + (f"; and {len(skipped) - 10} more" if len(skipped) > 10 else "")
            self.message_user(request, f"{len(skipped)} skipped — {shown}", messages.WARNING)

    # Each action and its admin log entry commit together.

    @transaction.atomic
    def _retry(self, request, job, reason):
        scoring_job_retry(job_id=job.pk, user=request.user, reason=reason)
        self.log_change(request, job, f"Retried (ERROR → QUEUED). Reason: {reason}")

    @transaction.atomic
    def _cancel(self, request, job, reason):
        after = scoring_job_cancel(job_id=job.pk, user=request.user, reason=reason)
        what = ("Cancelled (QUEUED → ERROR)" if after.status == ScoringJob.Status.ERROR
                else "Cancel requested (its worker stops the RUNNING job)")
        self.log_change(request, job, f"{what}. Reason: {reason}")

    @transaction.atomic
    def _rescore(self, request, job, reason):
        new = submission_rescore(submission_id=job.submission_id, user=request.user, reason=reason)
        self.log_change(request, job, f"Rescored as new job {new.pk}. Reason: {reason}")
        self.log_addition(request, new, f"Created by a staff rescore of job {job.pk}. Reason: {reason}")

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

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        dashboard = selectors.job_dashboard()
        try:
            depths, queue_error = dead_letters.queue_depths(), ""
        except dead_letters.QueueUnavailable as exc:
            depths, queue_error = None, str(exc)
        statuses = [
            {"status": value, "label": label, "count": dashboard.counts.get(value, 0)}
            for value, label in ScoringJob.Status.choices
        ]
        windows = [
            (name, {
                "finished": stats.finished, "done": stats.done, "error": stats.error,
                "per_minute": f"{stats.finished / (selectors.WINDOWS[name].total_seconds() / 60):.2f}",
                "p50_text": format_duration(stats.p50), "p95_text": format_duration(stats.p95),
            })
            for name, stats in dashboard.windows.items()
        ]
        return self._page(
            request, "admin/jobs/scoringjob/dashboard.html", "Scoring jobs dashboard",
            dashboard=dashboard, statuses=statuses, windows=windows, chart=throughput_chart(dashboard.hourly),
            depths=depths, queue_error=queue_error,
        )

    # --- the dead-letter queue ---

    def dead_letters_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_operate_permission(request):
                raise PermissionDenied
            self._redrive(request)
            return redirect(reverse("admin:jobs_scoringjob_dead_letters"))
        try:
            letters, depths, queue_error = dead_letters.peek(), dead_letters.queue_depths(), ""
        except dead_letters.QueueUnavailable as exc:
            letters, depths, queue_error = [], None, str(exc)
        jobs = selectors.jobs_by_id(letter.job_id for letter in letters if letter.job_id)
        rows = [{"letter": letter, "job": jobs.get(letter.job_id or "")} for letter in letters]
        return self._page(
            request, "admin/jobs/scoringjob/dead_letters.html", "Dead-letter queue",
            rows=rows, depths=depths, queue_error=queue_error, queue_name=dead_letters.queue_names()[1],
            peek_limit=dead_letters.PEEK_LIMIT,
        )

    def _redrive(self, request) -> None:
        everything = request.POST.get("operation") == "redrive_all"
        message_ids = None if everything else set(request.POST.getlist("message_id"))
        if not everything and not message_ids:
            self.message_user(request, "No message chosen.", messages.WARNING)
            return
        try:
            moved = dead_letters.redrive(message_ids=message_ids)
        except dead_letters.QueueUnavailable as exc:
            self.message_user(request, f"Redrive failed: {exc}", messages.ERROR)
            return
        jobs = selectors.jobs_by_id(letter.job_id for letter in moved if letter.job_id)
        for letter in moved:
            job = jobs.get(letter.job_id or "")
            if job is not None:
                self.log_change(request, job, f"Redrove its dead-letter message {letter.message_id} to the scoring "
                                              f"queue (job {job.status}).")
        self._log_queue(request, f"Redrove {len(moved)} message(s) to the scoring queue: "
                                 + ", ".join(letter.message_id for letter in moved)[:1500])
        idle = [job for job in jobs.values() if job.status != ScoringJob.Status.QUEUED]
        self.message_user(request, f"Redrove {len(moved)} message(s) to the scoring queue.", messages.SUCCESS)
        if idle:
            self.message_user(
                request,
                f"{len(idle)} of their jobs are not QUEUED, so a worker will drop those messages: "
                "retry a job in ERROR instead (it sends a fresh message).",
                messages.WARNING,
            )

    def dead_letters_purge_view(self, request):
        if not self.has_operate_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            try:
                count = dead_letters.purge()
            except dead_letters.QueueUnavailable as exc:
                self.message_user(request, f"Purge failed: {exc}", messages.ERROR)
            else:
                self._log_queue(request, f"Purged the dead-letter queue ({count} message(s)).")
                self.message_user(request, f"Purged the dead-letter queue ({count} message(s)).", messages.SUCCESS)
            return redirect(reverse("admin:jobs_scoringjob_dead_letters"))
        try:
            depths, queue_error = dead_letters.queue_depths(), ""
        except dead_letters.QueueUnavailable as exc:
            depths, queue_error = None, str(exc)
        return self._page(
            request, "admin/jobs/scoringjob/dead_letters_purge.html", "Purge the dead-letter queue",
            depths=depths, queue_error=queue_error, queue_name=dead_letters.queue_names()[1],
        )

    def _log_queue(self, request, message: str) -> None:
        # The queue is no database object: the entry names it and hangs off the job model.
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(ScoringJob).pk,
            object_id=None,
            object_repr=f"dead-letter queue {dead_letters.queue_names()[1]}"[:200],
            action_flag=CHANGE,
            change_message=message,
        )
