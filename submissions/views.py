from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from jobs.selectors import latest_job_for_submission
from jobs.services import submission_submit
from submissions.forms import SubmissionTextForm
from submissions.models import Assignment, Submission
from submissions.services import SubmissionConflict, submission_start, submission_update_text


def _own_submission(request, pk) -> Submission:
    # 404, not 403, for anyone else's: never confirm that it exists.
    return get_object_or_404(Submission.objects.select_related("assignment"), pk=pk, owner=request.user)


@login_required
def assignment_list(request):
    assignments = Assignment.objects.all()
    return render(request, "submissions/assignment_list.html", {"assignments": assignments})


@login_required
def assignment_detail(request, pk):
    assignment = get_object_or_404(Assignment, pk=pk)
    submissions = Submission.objects.filter(owner=request.user, assignment=assignment)
    return render(
        request, "submissions/assignment_detail.html", {"assignment": assignment, "submissions": submissions}
    )


@login_required
@require_POST
def submission_start_view(request, pk):
    assignment = get_object_or_404(Assignment, pk=pk)
    try:
        submission = submission_start(user=request.user, assignment=assignment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("submissions:assignment_detail", pk=pk)
    return redirect("submissions:submission_detail", pk=submission.pk)


@login_required
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
        form = SubmissionTextForm(request.POST)
        if form.is_valid():
            try:
                submission_update_text(
                    submission=submission,
                    source_code=form.cleaned_data["source_code"],
                    documentation=form.cleaned_data["documentation"],
                    expected_version=form.cleaned_data["version"],
                )
            except SubmissionConflict as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Saved.")
                return redirect("submissions:submission_detail", pk=pk)
    job = latest_job_for_submission(submission_id=submission.pk)
    context = {"submission": submission, "form": form, "job": job}
    return render(request, "submissions/submission_detail.html", context)


@login_required
@require_POST
def submission_submit_view(request, pk):
    submission = _own_submission(request, pk)
    try:
        submission_submit(submission_id=submission.pk, user=request.user)
    except (SubmissionConflict, ValidationError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        messages.success(request, "Submitted. Your work is being scored.")
    return redirect("submissions:submission_detail", pk=pk)
