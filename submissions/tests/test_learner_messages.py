"""What the learner reads at every terminal state and refusal: a staff
cancel with its reason, a rescore in progress and its new result, no stale
"being scored" banner above a result."""

from decimal import Decimal

import pytest
from django.urls import reverse

from jobs.models import ScoringJob
from jobs.services import scoring_job_cancel, submission_rescore
from scoring.models import ScoreResult
from submissions.tests.factories import SubmissionFactory
from submissions.tests.test_views import done_job, job_for, submitted

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"submissions:{name}", args=args)


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("op", "op@example.com", "pw-for-tests-123")


def finish(job, total):
    """The job's worker stores a result and ends it DONE."""
    result = ScoreResult.objects.create(submission_id=job.submission_id, engine_version="t", input_hash="h",
                                        total=Decimal(total), criteria=[], feedback=[], summary={})
    ScoringJob.objects.filter(pk=job.pk).update(status="DONE", result=result)


def test_a_staff_cancel_shows_the_learner_who_cancelled_and_why(client, operator):
    submission = submitted(SubmissionFactory())
    job = job_for(submission)
    scoring_job_cancel(job_id=job.pk, user=operator, reason="Duplicate of your attempt #1; we scored that one.")
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert "Staff cancelled the scoring of this submission. Their reason: Duplicate of your attempt #1" in page
    assert 'id="job-status">Cancelled' in page
    assert "We could not score this yet" not in page and "will rescore it" not in page
    history = client.get(url("assignment_detail", submission.assignment_id)).content.decode()
    assert "scoring cancelled by staff" in history and "could not score yet" not in history


def test_a_cancel_without_a_reason_still_says_staff_cancelled_it():
    job = job_for(submitted(SubmissionFactory()), status="ERROR", error_code="cancelled",
                  error_message="Cancelled by staff.")
    assert job.learner_error_message == "Staff cancelled the scoring of this submission (no reason was given)."
    assert job.learner_status_label == "Cancelled"


def test_a_running_job_cancelled_by_its_worker_keeps_the_staff_reason():
    # A RUNNING job's worker ends it with the cancel_reason as its message.
    job = job_for(submitted(SubmissionFactory()), status="ERROR", error_code="cancelled",
                  error_message="Rubric was wrong", cancel_reason="Rubric was wrong")
    assert job.learner_error_message.endswith("Their reason: Rubric was wrong")


def test_the_api_gives_the_learner_the_cancel_reason(client, operator):
    submission = submitted(SubmissionFactory())
    job = job_for(submission)
    scoring_job_cancel(job_id=job.pk, user=operator, reason="Scored by hand instead.")
    client.force_login(submission.owner)
    body = client.get(reverse("api:scoring_job_detail", args=[job.pk])).json()
    assert body["error"] == {
        "code": "cancelled",
        "message": "Staff cancelled the scoring of this submission. Their reason: Scored by hand instead.",
    }


def test_other_errors_still_hide_staff_details():
    job = job_for(submitted(SubmissionFactory()), status="ERROR", error_code="attempts_exhausted",
                  error_message="OSError: worker-7 disk full")
    assert "worker-7" not in job.learner_error_message and not job.was_cancelled


def test_no_being_scored_banner_stays_above_the_result(client, django_capture_on_commit_callbacks):
    submission = SubmissionFactory()
    client.force_login(submission.owner)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url("submission_submit", submission.pk), follow=True)
    page = response.content.decode()
    assert 'id="job-status">Queued' in page and "Waiting for a scorer" in page
    assert 'class="messages"' not in page  # no flash message that outlives the state it describes
    finish(ScoringJob.objects.get(submission=submission), "72.5")
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert 'id="score">72.5' in page
    assert "being scored" not in page and "Waiting for a scorer" not in page


def test_a_queued_rescore_shows_the_earlier_result_and_says_a_new_one_is_coming(client, operator,
                                                                                 django_capture_on_commit_callbacks):
    submission = submitted(SubmissionFactory())
    done_job(submission)
    with django_capture_on_commit_callbacks(execute=False):
        rescore = submission_rescore(submission_id=submission.pk, user=operator, reason="New rubric")
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert 'id="rescore-notice"' in page and "scored again" in page
    assert "the result below is the earlier one" in page
    assert 'id="score">72.5' in page and 'id="job-status">Queued' in page
    assert "data-poll-url" in page  # polls until the rescore ends (static/js/live.js)
    # The rescore finishes with another score: the status partial shows it and says it replaced 72.5.
    finish(rescore, "80.0")
    partial = client.get(url("submission_status", submission.pk), {"shown": "QUEUED"}).content.decode()
    assert 'id="score">80.0' in partial
    assert "replaces the earlier score of 72.5 / 100" in partial
    assert "data-poll-url" not in partial  # done: polling stops
    history = client.get(url("assignment_detail", submission.assignment_id)).content.decode()
    assert "<strong>80.0</strong> / 100" in history


def test_a_failed_rescore_leaves_the_earlier_result_standing(client):
    submission = submitted(SubmissionFactory())
    done_job(submission)
    ScoringJob.objects.create(submission=submission, requested_by="STAFF", status="ERROR",
                              error_code="scoring_timeout", error_message="Took longer than 10 s.")
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert "the earlier result below still stands" in page
    assert "Took longer than 10 s." in page and 'id="score">72.5' in page
