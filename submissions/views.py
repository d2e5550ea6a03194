"""Learner pages: server-rendered, progressively enhanced (htmx and two small
scripts: autosave and direct-to-S3 uploads). Everything works as plain forms
except autosave and uploads themselves, which need JavaScript."""

import json
import logging
from functools import wraps

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from feedback_site.errors import DomainError
from jobs.models import TERMINAL_STATUSES, ScoringJob
from jobs.selectors import latest_job_for_submission, latest_job_status_for_owner, latest_result_job_before
from jobs.services import submission_submit
from submissions import results, selectors, storage
from submissions.forms import SubmissionTextForm
from submissions.models import MAX_TOTAL_BYTES, Assignment, Submission, SubmissionFile
from submissions.services import (
    submission_file_delete,
    submission_file_download_url,
    submission_file_upload_complete,
    submission_file_upload_start,
    submission_start,
    submission_submit_problems,
    submission_update_text,
)

logger = logging.getLogger(__name__)

# Attached files whose lines feedback may quote: small text files only.
CONTEXT_FILE_MAX_BYTES = 512 * 1024


def _own_submission(request, pk) -> Submission:
    # 404, not 403, for anyone else's: never confirm that it exists.
    try:
        return selectors.submission_own(user=request.user, submission_id=pk)
    except Submission.DoesNotExist:
        raise Http404("No such submission.") from None


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def shows_refusals(back: str = "submissions:submission_detail", *, json_only: bool = False):
    """The learner pages' one translation of a service's DomainError
    (feedback_site/errors.py): a script (Accept: application/json, or any
    caller of a ``json_only`` view) gets ``{"status": <code>, "message": …}``
    with the error's HTTP status; htmx gets the page reloaded; a plain form
    gets the message on ``back`` (a URL name taking the view's ``pk``). A
    service's DoesNotExist is a 404."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except ObjectDoesNotExist:  # a service's "no such object for this user": never confirm it exists
                raise Http404("Not found.") from None
            except DomainError as exc:
                if json_only or _wants_json(request):
                    return JsonResponse({"status": exc.code, "message": str(exc)}, status=exc.http_status)
                messages.error(request, str(exc))
                if request.htmx:
                    return HttpResponseClientRefresh()
                return redirect(back, pk=kwargs["pk"])

        return wrapper

    return decorate


def _storage_errors(view):
    """S3 being unreachable is a temporary refusal (503), never a crash; the
    services leave the file as it was, so the learner can simply retry."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (BotoCoreError, ClientError):
            logger.exception("file storage failed during %s", view.__name__)
            message = "File storage is not reachable right now; please try again in a moment."
            if _wants_json(request):
                return JsonResponse({"status": "unavailable", "message": message}, status=503)
            messages.error(request, message)
            return redirect("submissions:submission_detail", pk=kwargs["pk"])

    return wrapper


# --- assignments ---------------------------------------------------------------


@login_required
@require_GET
def assignment_list(request):
    assignments = selectors.assignments_with_attempts(user=request.user)
    return render(request, "submissions/assignment_list.html", {"assignments": assignments})


@login_required
@require_GET
def assignment_detail(request, pk):
    assignment = get_object_or_404(Assignment, pk=pk)
    jobs = Prefetch(
        "scoring_jobs",
        queryset=ScoringJob.objects.select_related("result").order_by("-created_at"),
        to_attr="jobs_newest_first",
    )
    attempts = list(selectors.assignment_attempts(user=request.user, assignment=assignment).prefetch_related(jobs))
    rows = [
        {"number": n, "submission": s, "job": s.jobs_newest_first[0] if s.jobs_newest_first else None}
        for n, s in enumerate(attempts, start=1)
    ]
    open_attempt = next((s for s in attempts if s.is_editable), None)
    last_submitted = next((row for row in reversed(rows) if not row["submission"].is_editable), None)
    context = {
        "last_submitted": last_submitted and last_submitted["submission"],
        "last_submitted_number": last_submitted and last_submitted["number"],
        "assignment": assignment,
        "rows": list(reversed(rows)),
        "open_attempt": open_attempt,
        "attempts_used": len(attempts),
        "deadline_passed": assignment.deadline_passed(),
        "max_total_bytes": MAX_TOTAL_BYTES,
        "can_start": open_attempt is None
        and len(attempts) < assignment.max_attempts
        and not assignment.deadline_passed(),
    }
    return render(request, "submissions/assignment_detail.html", context)


@login_required
@require_POST
@shows_refusals(back="submissions:assignment_detail")
def submission_start_view(request, pk):
    """Start (or continue) an attempt; ``copy_from=previous`` pre-fills a new
    one from the learner's latest submitted attempt, empty starts blank."""
    assignment = get_object_or_404(Assignment, pk=pk)
    copy_from = request.POST.get("copy_from") or None
    try:
        submission, created = submission_start(user=request.user, assignment=assignment, copy_from=copy_from)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("submissions:assignment_detail", pk=pk)
    if created and copy_from:
        messages.info(request, "This attempt starts from your last one: its code, documentation and files are "
                      "copied here. Change what you like, then submit it.")
    return redirect("submissions:submission_detail", pk=submission.pk)


# --- the submission page --------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def submission_detail(request, pk):
    submission = _own_submission(request, pk)
    form = SubmissionTextForm(
        initial={
            "source_code": submission.source_code,
            "documentation": submission.documentation,
            "version": submission.version,
        }
    )
    if request.method == "POST":
        # The form without JavaScript; the editor's script uses the autosave view.
        form = SubmissionTextForm(request.POST)
        if form.is_valid():
            try:
                submission_update_text(
                    submission=submission,
                    source_code=form.cleaned_data["source_code"],
                    documentation=form.cleaned_data["documentation"],
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as exc:
                # Not redirected like other refusals: the page keeps the learner's unsaved text.
                messages.error(request, str(exc))
            else:
                messages.success(request, "Saved.")
                return redirect("submissions:submission_detail", pk=pk)
    files = list(selectors.submission_visible_files(submission=submission))
    job = latest_job_for_submission(submission_id=submission.pk)
    ready_bytes = sum(f.size or 0 for f in files if f.status == SubmissionFile.Status.READY)
    context = {
        "submission": submission,
        "assignment": submission.assignment,
        "form": form,
        "files": files,
        "work_views": [] if submission.is_editable else _work_views(submission),
        "max_total_bytes": MAX_TOTAL_BYTES,
        "used_bytes": submission.text_size + ready_bytes,
        **_scoring_context(submission, job, files),
    }
    return render(request, "submissions/submission_detail.html", context)


@login_required
@require_POST
@shows_refusals(json_only=True)
def submission_autosave(request, pk):
    """The editor's autosave: JSON in, JSON out; 409 on a stale version or a
    locked submission, so a second tab never silently overwrites the first."""
    submission = _own_submission(request, pk)
    form = SubmissionTextForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"status": "invalid", "message": "The editor sent an incomplete form."}, status=400)
    submission_update_text(
        submission=submission,
        source_code=form.cleaned_data["source_code"],
        documentation=form.cleaned_data["documentation"],
        expected_version=form.cleaned_data["version"],
    )
    return JsonResponse(
        {"status": "saved", "version": submission.version, "saved_at": submission.updated_at.isoformat()}
    )


@login_required
@require_http_methods(["GET", "POST"])
@shows_refusals()
def submission_submit_view(request, pk):
    """GET: the confirmation step. POST: submit (lock + scoring job, atomically)."""
    submission = _own_submission(request, pk)
    if request.method == "GET":
        if not submission.is_editable:
            return redirect("submissions:submission_detail", pk=pk)
        files = list(selectors.submission_visible_files(submission=submission))
        context = {
            "submission": submission, "assignment": submission.assignment, "files": files,
            # Shown instead of the submit button: refused here, not after the click.
            "problems": submission_submit_problems(submission=submission),
        }
        return render(request, "submissions/submission_confirm.html", context)
    submission_submit(submission_id=submission.pk, user=request.user)
    # No flash message: the scoring panel says what is happening, and a
    # "being scored" banner would stay above the result once it is done.
    return redirect("submissions:submission_detail", pk=pk)


@login_required
@require_GET
def submission_status(request, pk):
    """The scoring panel, polled by static/js/live.js. 204 while the status the
    page shows (``?shown=``) is still current, so nothing on the page changes;
    that answer, most polls' answer, costs one small query besides the session's."""
    shown = request.GET.get("shown", "")
    status = latest_job_status_for_owner(submission_id=pk, owner=request.user)
    if status is not None and shown == status and status not in TERMINAL_STATUSES:
        return HttpResponse(status=204)
    submission = _own_submission(request, pk)
    job = latest_job_for_submission(submission_id=submission.pk)
    done = job is not None and job.status == ScoringJob.Status.DONE
    files = list(selectors.submission_ready_files(submission=submission)) if done else []
    context = {"submission": submission, **_scoring_context(submission, job, files)}
    return render(request, "submissions/_scoring.html", context)


def _scoring_context(submission: Submission, job, files: list[SubmissionFile]) -> dict:
    """The scoring panel: the latest job, and the result to show. While a
    staff rescore is queued or running, or if it failed, the result shown is
    the earlier one (and the panel says so); once it is done, the new one."""
    context = {"job": job, "polling": job is not None and job.status not in TERMINAL_STATUSES, "result": None,
               "rescore": None, "result_job": None}
    if job is None:
        return context
    result_job = job if job.status == ScoringJob.Status.DONE else None
    if job.requested_by == ScoringJob.RequestedBy.STAFF:
        earlier = latest_result_job_before(job=job)
        context["rescore"] = {"earlier": earlier}
        if result_job is None and earlier is not None:
            result_job = earlier
            files = list(selectors.submission_ready_files(submission=submission))
    if result_job is not None and result_job.result is not None:
        context["result"] = _present(result_job.result, submission, files)
        context["result_job"] = result_job
    return context


def _present(result, submission: Submission, files: list[SubmissionFile]) -> results.ResultView:
    texts = {"source_code": submission.source_code, "documentation": submission.documentation}
    # The text fields' read-only views are on the page (_work_views); cited files
    # are shown with the result.
    anchors = dict(results.TEXT_FIELD_ANCHORS)
    sources = []
    wanted = results.referenced_files(result.feedback)
    for file in (f for f in files if _quotable(f, wanted)):
        try:
            content = storage.read_object(file.storage_key).decode("utf-8", errors="replace")
        except Exception:
            # Context lines are a nicety: the feedback still shows without them.
            logger.warning("could not read %s for feedback context", file.pk, exc_info=True)
            continue
        texts[file.original_name] = texts[str(file.pk)] = content
        anchors[file.original_name] = anchors[str(file.pk)] = f"file-{file.pk}"
        sources.append(results.code_view(key=f"file-{file.pk}", label=file.original_name, text=content))
    return results.present_result(
        total=result.total, criteria=result.criteria, feedback=result.feedback, summary=result.summary, texts=texts,
        anchors=anchors, sources=sources,
    )


def _work_views(submission: Submission) -> list[results.CodeView]:
    """The read-only text fields with numbered lines, which feedback items link to."""
    return [
        results.code_view(key=results.TEXT_FIELD_ANCHORS[name], label=results.TEXT_FIELD_LABELS[name], text=text)
        for name, text in (("source_code", submission.source_code), ("documentation", submission.documentation))
    ]


def _quotable(file: SubmissionFile, wanted: set[str]) -> bool:
    return (
        file.status == SubmissionFile.Status.READY
        and (file.original_name in wanted or str(file.pk) in wanted)
        and (file.size or 0) <= CONTEXT_FILE_MAX_BYTES
        and file.content_type.startswith(("text/", "application/json"))
    )


# --- files --------------------------------------------------------------------------


@login_required
@require_GET
def submission_files(request, pk):
    """The file list (an htmx partial)."""
    submission = _own_submission(request, pk)
    files = list(selectors.submission_visible_files(submission=submission))
    return render(request, "submissions/_files.html", {"submission": submission, "files": files})


@login_required
@require_POST
@_storage_errors
@shows_refusals(json_only=True)
def file_upload_start(request, pk):
    """JSON: {name, size, type} → the presigned POST for one file."""
    submission = _own_submission(request, pk)
    try:
        payload = json.loads(request.body or b"{}")
        name, size, declared = str(payload.get("name", "")), payload.get("size"), str(payload.get("type", ""))
    except (ValueError, AttributeError, RecursionError):
        # RecursionError: json refuses nesting deeper than the interpreter's
        # recursion limit ("[[[[..."), which is malformed input, not a crash.
        message = "Send the file's name, size and type as a JSON object."
        return JsonResponse({"status": "invalid", "message": message}, status=400)
    try:
        ticket = submission_file_upload_start(
            submission_id=submission.pk, user=request.user, file_name=name, size=size, content_type=declared
        )
    except ValidationError as exc:
        return JsonResponse({"status": "invalid", "message": _error_text(exc)}, status=400)
    file = ticket.file
    return JsonResponse(
        {
            "file_id": str(file.pk),
            "name": file.original_name,
            "url": ticket.url,
            "fields": ticket.fields,
            "max_size": ticket.max_size,
            "expires_in": ticket.expires_in,
            "complete_url": reverse("submissions:file_complete", args=[submission.pk, file.pk]),
            "delete_url": reverse("submissions:file_delete", args=[submission.pk, file.pk]),
        },
        status=201,
    )


@login_required
@require_POST
@_storage_errors
@shows_refusals()
def file_upload_complete(request, pk, file_id):
    """The server verifies the stored object: JSON for the upload script, a
    redirect for the plain "check again" button."""
    submission = _own_submission(request, pk)
    file = submission_file_upload_complete(submission_id=submission.pk, file_id=file_id, user=request.user)
    if _wants_json(request):
        return JsonResponse(
            {
                "file_id": str(file.pk),
                "status": file.status,
                "name": file.original_name,
                "reason": file.rejection_reason,
            }
        )
    if file.status == SubmissionFile.Status.REJECTED:
        messages.error(request, f"{file.original_name} was rejected: {file.rejection_reason}")
    return redirect("submissions:submission_detail", pk=pk)


@login_required
@require_POST
@_storage_errors
@shows_refusals()
def file_delete(request, pk, file_id):
    submission = _own_submission(request, pk)
    file = submission_file_delete(submission_id=submission.pk, file_id=file_id, user=request.user)
    if _wants_json(request):
        return JsonResponse({"file_id": str(file.pk), "status": file.status})
    if request.htmx:
        return _files_partial(request, submission, notice=f"Removed {file.original_name}.")
    messages.success(request, f"Removed {file.original_name}.")
    return redirect("submissions:submission_detail", pk=pk)


@login_required
@require_GET
@_storage_errors
@shows_refusals()
def file_download(request, pk, file_id):
    """Redirect to a short-lived presigned GET (served as an attachment)."""
    submission = _own_submission(request, pk)
    url = submission_file_download_url(submission_id=submission.pk, file_id=file_id, user=request.user)
    response = redirect(url)
    response["Cache-Control"] = "no-store"
    return response


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _files_partial(request, submission: Submission, *, status: int = 200, notice: str = ""):
    files = list(selectors.submission_visible_files(submission=submission))
    context = {"submission": submission, "files": files, "notice": notice}
    return render(request, "submissions/_files.html", context, status=status)
