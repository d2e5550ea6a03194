"""The dead-letter queue in the staff console: inspect, redrive, purge."""

from django.contrib import messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from jobs import dead_letters, selectors
from jobs.models import ScoringJob


class DeadLettersMixin:
    """The dead-letter pages of ScoringJobAdmin (jobs/admin/scoring_job.py)."""

    def dead_letters_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_operate_permission(request):
                raise PermissionDenied
            self._redrive(request)
            return redirect(reverse("admin:jobs_scoringjob_dead_letters"))
        # Reading the messages hides them for a moment (SQS has no true peek),
        # which could make an operator's concurrent redrive miss them: only
        # operators list them; viewers see the counts.
        listed = self.has_operate_permission(request)
        try:
            letters = dead_letters.peek() if listed else []
            depths, queue_error = dead_letters.queue_depths(), ""
        except dead_letters.QueueUnavailable as exc:
            letters, depths, queue_error = [], None, str(exc)
        jobs = selectors.jobs_by_id(letter.job_id for letter in letters if letter.job_id)
        rows = [{"letter": letter, "job": jobs.get(letter.job_id or "")} for letter in letters]
        return self._page(
            request, "admin/jobs/scoringjob/dead_letters.html", "Dead-letter queue",
            rows=rows, depths=depths, queue_error=queue_error, queue_name=dead_letters.queue_names()[1],
            peek_limit=dead_letters.PEEK_LIMIT, listed=listed,
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
