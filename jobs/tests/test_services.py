import json
from base64 import b64decode

import pytest
from django.core.exceptions import ValidationError

from jobs.models import JobEvent, ScoringJob
from jobs.services import scoring_job_run, submission_submit
from submissions.models import Submission
from submissions.services import SubmissionConflict
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _queued_job(django_capture_on_commit_callbacks) -> ScoringJob:
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=False):
        return submission_submit(submission_id=submission.pk, user=submission.owner)


def test_submit_locks_the_submission_and_creates_a_queued_job(django_capture_on_commit_callbacks):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = submission_submit(submission_id=submission.pk, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert job.status == ScoringJob.Status.QUEUED
    assert job.submission_id == submission.pk
    # Nothing is sent before the transaction commits.
    assert len(callbacks) == 1
    assert job.dispatched_at is None


def test_submit_twice_is_refused_and_creates_no_second_job(django_capture_on_commit_callbacks):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=False):
        submission_submit(submission_id=submission.pk, user=submission.owner)
        with pytest.raises(SubmissionConflict):
            submission_submit(submission_id=submission.pk, user=submission.owner)
    assert ScoringJob.objects.filter(submission=submission).count() == 1


def test_submit_of_an_empty_submission_is_refused_and_rolls_back(django_capture_on_commit_callbacks):
    submission = SubmissionFactory(source_code="  ", documentation="")
    with pytest.raises(ValidationError):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
    assert not ScoringJob.objects.exists()


def test_submit_of_someone_elses_submission_finds_nothing():
    submission = SubmissionFactory()
    with pytest.raises(Submission.DoesNotExist):
        submission_submit(submission_id=submission.pk, user=UserFactory())


def test_dispatch_after_commit_sends_the_job_id_to_sqs(django_capture_on_commit_callbacks, sqs, scoring_queue_url):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = submission_submit(submission_id=submission.pk, user=submission.owner)
    job.refresh_from_db()
    assert job.dispatched_at is not None
    messages = sqs.receive_message(QueueUrl=scoring_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    bodies = [json.loads(b64decode(m["Body"])) for m in messages.get("Messages", [])]
    assert [(b["actor_name"], b["args"]) for b in bodies] == [("score_job", [str(job.pk)])]


def test_run_scores_the_job_and_records_the_result(django_capture_on_commit_callbacks):
    job = _queued_job(django_capture_on_commit_callbacks)
    scoring_job_run(job_id=job.pk, worker_id="w1")
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.DONE
    assert job.attempts == 1
    assert 0 <= job.result.total <= 100
    assert job.result.input_hash
    transitions = list(JobEvent.objects.filter(job=job).values_list("from_status", "to_status", "actor"))
    assert transitions == [("", "QUEUED", job.submission.owner.username), ("QUEUED", "RUNNING", "w1"),
                           ("RUNNING", "DONE", "w1")]


def test_duplicate_delivery_records_exactly_one_result(django_capture_on_commit_callbacks):
    job = _queued_job(django_capture_on_commit_callbacks)
    scoring_job_run(job_id=job.pk, worker_id="w1")
    scoring_job_run(job_id=job.pk, worker_id="w2")
    job.refresh_from_db()
    assert job.attempts == 1
    assert job.submission.results.count() == 1


def test_a_worker_that_lost_its_lease_cannot_record_a_result(django_capture_on_commit_callbacks):
    job = _queued_job(django_capture_on_commit_callbacks)
    assert ScoringJob.claim(job_id=job.pk, worker_id="old", lease_seconds=60)
    # The lease expires and a newer attempt takes the job over.
    ScoringJob.objects.filter(pk=job.pk).update(lease_expires_at="2000-01-01T00:00:00Z")
    assert ScoringJob.claim(job_id=job.pk, worker_id="new", lease_seconds=60)
    assert not ScoringJob.finish(job_id=job.pk, worker_id="old", result=None)
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.attempts) == (ScoringJob.Status.RUNNING, "new", 2)


def test_transient_failure_releases_the_job_then_fails_after_the_last_attempt(
    django_capture_on_commit_callbacks, monkeypatch
):
    job = _queued_job(django_capture_on_commit_callbacks)

    def unavailable(**kwargs):
        raise ConnectionError("storage unavailable")

    monkeypatch.setattr("jobs.services.scoring_evaluate", unavailable)
    for attempt in range(1, job.max_attempts):
        with pytest.raises(ConnectionError):
            scoring_job_run(job_id=job.pk, worker_id=f"w{attempt}")
        job.refresh_from_db()
        assert (job.status, job.attempts) == (ScoringJob.Status.QUEUED, attempt)
    scoring_job_run(job_id=job.pk, worker_id="last")  # the last attempt does not raise: nothing to retry
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ScoringJob.Status.ERROR, "attempts_exhausted")
    assert "storage unavailable" in job.error_message
