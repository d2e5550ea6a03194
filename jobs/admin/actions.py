"""Retry, cancel and rescore from the staff console: on a selection (list
actions) or on one job (buttons on its page), each with a reason, through
jobs.services, and recorded in the admin log in the same transaction."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from feedback_site.errors import DomainError
from jobs.models import ScoringJob
from jobs.services import scoring_job_cancel, scoring_job_retry, submission_rescore

# A bulk action names its jobs in the confirmation form; beyond this, filter first.
MAX_BULK_JOBS = 500


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the job's history and in the admin log. A cancel's reason is also shown to the learner.",
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


class JobActionsMixin:
    """The actions of ScoringJobAdmin (jobs/admin/scoring_job.py)."""

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
            except DomainError as exc:
                skipped.append(f"{str(job.pk)[:8]}: {exc}")
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
