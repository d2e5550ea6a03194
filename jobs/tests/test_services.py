import json
from base64 import b64decode
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.leases import lease_keeper
from jobs.models import JobAttempt, JobEvent, ScoringJob
from jobs.services import (
    JobConflict,
    PoisonMessage,
    retry_delay_seconds,
    scoring_job_cancel,
    scoring_job_request,
    scoring_job_retry,
    scoring_job_run,
    submission_rescore,
    submission_submit,
)
from jobs.tests.factories import queued_job
from scoring import engine
from submissions.models import Submission
from submissions.services import NotReady, SubmissionLocked
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(username="staffer", is_staff=True)


def _fail_with(monkeypatch, *exceptions):
    """Make the scorer raise the given exceptions in turn, then score normally."""
    remaining = list(exceptions)
    real = __import__("jobs.services", fromlist=["scoring_evaluate"]).scoring_evaluate

    def scorer(*, submission, checkpoint):
        if remaining:
            raise remaining.pop(0)
        return real(submission=submission, checkpoint=checkpoint)

    monkeypatch.setattr("jobs.services.scoring_evaluate", scorer)


def test_submit_locks_the_submission_and_creates_a_queued_job(django_capture_on_commit_callbacks):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = submission_submit(submission_id=submission.pk, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert job.status == ScoringJob.Status.QUEUED
    assert job.requested_by == ScoringJob.RequestedBy.LEARNER and job.requested_by_user == submission.owner
    # Nothing is sent before the transaction commits.
    assert len(callbacks) == 1
    assert job.dispatched_at is None


def test_submit_twice_is_refused_and_creates_no_second_job():
    job = queued_job()
    with pytest.raises(SubmissionLocked) as refused:
        submission_submit(submission_id=job.submission_id, user=job.submission.owner)
    assert refused.value.code == "already_submitted"
    assert ScoringJob.objects.filter(submission=job.submission).count() == 1


def test_submit_of_an_empty_submission_is_refused_and_rolls_back():
    submission = SubmissionFactory(source_code="  ", documentation="")
    with pytest.raises(NotReady):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
    assert not ScoringJob.objects.exists()


def test_submit_of_someone_elses_submission_finds_nothing():
    submission = SubmissionFactory()
    with pytest.raises(Submission.DoesNotExist):
        submission_submit(submission_id=submission.pk, user=UserFactory())


def test_dispatch_after_commit_sends_only_ids_to_sqs(django_capture_on_commit_callbacks, sqs, scoring_queue_url):
    submission = SubmissionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = submission_submit(submission_id=submission.pk, user=submission.owner)
    job.refresh_from_db()
    assert job.dispatched_at is not None
    messages = sqs.receive_message(QueueUrl=scoring_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    bodies = [json.loads(b64decode(m["Body"])) for m in messages.get("Messages", [])]
    assert [(b["actor_name"], b["args"], b["kwargs"]) for b in bodies] == [
        ("score_job", [str(job.pk)], {"trace_id": job.trace_id})
    ]


def test_run_scores_the_job_and_records_result_attempt_and_history():
    job = queued_job()
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ScoringJob.Status.DONE, 1)
    assert 0 <= job.result.total <= 100 and job.result.input_hash
    attempt = JobAttempt.objects.get(job=job)
    assert (attempt.number, attempt.outcome) == (1, JobAttempt.Outcome.SUCCEEDED)
    assert attempt.worker_id == job.lease_owner and attempt.finished_at >= attempt.started_at
    actions = list(JobEvent.objects.filter(job=job).values_list("action", "from_status", "to_status"))
    assert actions == [("CREATE", "", "QUEUED"), ("CLAIM", "QUEUED", "RUNNING"), ("FINISH", "RUNNING", "DONE")]


def test_duplicate_delivery_records_exactly_one_result():
    job = queued_job()
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.SUCCEEDED
    assert scoring_job_run(job_id=job.pk) == "duplicate"
    job.refresh_from_db()
    assert job.attempts == 1
    assert job.submission.results.count() == 1


def test_unknown_job_is_a_harmless_duplicate():
    assert scoring_job_run(job_id="00000000-0000-0000-0000-000000000000") == "duplicate"


def test_a_worker_that_lost_its_lease_cannot_record_a_result():
    job = queued_job()
    assert ScoringJob.claim(job_id=job.pk, lease_owner="old", lease_seconds=60)
    # The relay decided "old" was dead and a newer attempt took the job over.
    ScoringJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert ScoringJob.expire_lease(job_id=job.pk, lease_owner="old", requeue=True, reason="test")
    assert ScoringJob.claim(job_id=job.pk, lease_owner="new", lease_seconds=60)
    assert not ScoringJob.finish(job_id=job.pk, lease_owner="old", result=None)
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.attempts) == (ScoringJob.Status.RUNNING, "new", 2)


def test_transient_failure_releases_with_backoff_and_sends_a_delayed_retry(
    monkeypatch, django_capture_on_commit_callbacks
):
    job = queued_job()
    _fail_with(monkeypatch, ConnectionError("storage unavailable"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.FAILED
    job.refresh_from_db()
    assert (job.status, job.attempts, job.dispatched_at) == (ScoringJob.Status.QUEUED, 1, None)
    delay = (job.available_at - timezone.now()).total_seconds()
    assert 0 < delay <= 2  # first backoff: base 2 s with jitter in [1, 2]
    assert len(callbacks) == 1  # the delayed message goes out after commit
    attempt = JobAttempt.objects.get(job=job)
    assert attempt.outcome == JobAttempt.Outcome.FAILED
    assert attempt.error_class == "builtins.ConnectionError" and "storage unavailable" in attempt.error_message
    assert "ConnectionError" in attempt.traceback
    # Not due yet: an early delivery is refused.
    assert scoring_job_run(job_id=job.pk) == "duplicate"


def test_last_failed_attempt_ends_in_error_and_poisons_the_message(monkeypatch):
    job = queued_job()
    _fail_with(monkeypatch, *[RuntimeError("boom")] * 5)
    for _ in range(job.max_attempts - 1):
        assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.FAILED
        ScoringJob.objects.filter(pk=job.pk).update(available_at=timezone.now())  # skip the backoff
    with pytest.raises(PoisonMessage):
        scoring_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error_code, job.attempts) == (ScoringJob.Status.ERROR, "attempts_exhausted", 3)
    outcomes = list(JobAttempt.objects.filter(job=job).values_list("outcome", flat=True))
    assert outcomes == ["FAILED", "FAILED", "EXHAUSTED"]
    assert scoring_job_run(job_id=job.pk) == "duplicate"


def test_permanent_failure_fails_fast_with_its_code(monkeypatch):
    job = queued_job()
    _fail_with(monkeypatch, engine.ScoringRejected("input_too_large", "The submission is too large to score."))
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.REJECTED
    job.refresh_from_db()
    assert (job.status, job.error_code, job.attempts) == (ScoringJob.Status.ERROR, "input_too_large", 1)


@pytest.mark.parametrize("attempt", range(1, 15))
def test_retry_delays_grow_and_stay_within_sqs_limits(attempt, settings):
    settings.SCORING_RETRY_MAX_SECONDS = 900
    delays = [retry_delay_seconds(attempt) for _ in range(50)]
    ceiling = min(900, settings.SCORING_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    assert all(ceiling / 2 <= d <= ceiling <= 900 for d in delays)


def test_cancel_of_a_queued_job_ends_it_at_once(staff):
    job = queued_job()
    scoring_job_cancel(job_id=job.pk, user=staff, reason="wrong assignment")
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == (ScoringJob.Status.ERROR, "cancelled", "wrong assignment")
    assert scoring_job_run(job_id=job.pk) == "duplicate"
    event = JobEvent.objects.get(job=job, action=JobEvent.Action.CANCEL)
    assert (event.actor, event.reason) == ("staffer", "wrong assignment")


def test_cancel_of_a_running_job_is_seen_by_its_worker(staff, monkeypatch):
    job = queued_job()

    def scorer_cancelled_midway(*, submission, checkpoint):
        scoring_job_cancel(job_id=job.pk, user=staff, reason="stop it")
        lease_keeper.beat()  # the heartbeat carries the request to the run
        checkpoint()  # between two steps of the scorer: raises
        raise AssertionError("the checkpoint should have stopped the run")

    monkeypatch.setattr("jobs.services.scoring_evaluate", scorer_cancelled_midway)
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.CANCELLED
    job.refresh_from_db()
    assert (job.status, job.error_code, job.result) == (ScoringJob.Status.ERROR, "cancelled", None)
    assert not job.submission.results.exists()


def test_cancel_requested_after_scoring_still_wins_over_the_result(staff, monkeypatch):
    job = queued_job()

    def scorer_then_cancel(*, submission, checkpoint):
        scoring_job_cancel(job_id=job.pk, user=staff, reason="too late?")  # no heartbeat in between
        return engine.score(engine.SubmissionInput(source_code="x = 1", documentation=""))

    monkeypatch.setattr("jobs.services.scoring_evaluate", scorer_then_cancel)
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.CANCELLED
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ScoringJob.Status.ERROR, "cancelled")
    assert not job.submission.results.exists()


def test_cancel_of_a_finished_job_is_refused(staff):
    job = queued_job()
    scoring_job_run(job_id=job.pk)
    with pytest.raises(JobConflict):
        scoring_job_cancel(job_id=job.pk, user=staff, reason="")


def test_staff_retry_requeues_an_errored_job_with_fresh_attempts(staff, monkeypatch):
    job = queued_job()
    _fail_with(monkeypatch, engine.ScoringRejected("bad", "bad input"))
    scoring_job_run(job_id=job.pk)
    retried = scoring_job_retry(job_id=job.pk, user=staff, reason="engine fixed")
    assert (retried.status, retried.error_code, retried.max_attempts) == (ScoringJob.Status.QUEUED, "", 4)
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.SUCCEEDED
    assert list(JobAttempt.objects.filter(job=job).values_list("number", "outcome")) == [
        (1, "REJECTED"), (2, "SUCCEEDED"),
    ]
    with pytest.raises(JobConflict):
        scoring_job_retry(job_id=job.pk, user=staff, reason="")


def test_rescore_creates_a_new_job_and_keeps_the_first_result(staff):
    job = queued_job()
    scoring_job_run(job_id=job.pk)
    first_result = ScoringJob.objects.get(pk=job.pk).result
    second = submission_rescore(submission_id=job.submission_id, user=staff, reason="rubric changed")
    assert second.pk != job.pk and second.requested_by == ScoringJob.RequestedBy.STAFF
    scoring_job_run(job_id=second.pk)
    assert ScoringJob.objects.get(pk=job.pk).result == first_result
    assert job.submission.results.count() == 2


def test_a_submission_has_at_most_one_active_job(staff):
    job = queued_job()
    with pytest.raises(JobConflict):
        submission_rescore(submission_id=job.submission_id, user=staff)
    assert ScoringJob.objects.filter(submission=job.submission).count() == 1


def test_request_submits_once_then_returns_the_same_job():
    submission = SubmissionFactory()
    job, created = scoring_job_request(submission_id=submission.pk, user=submission.owner)
    again, created_again = scoring_job_request(submission_id=submission.pk, user=submission.owner)
    assert (created, created_again, again.pk) == (True, False, job.pk)
    assert job.requested_by == ScoringJob.RequestedBy.API


def test_cancel_requested_then_a_transient_failure_ends_cancelled_not_queued(staff, monkeypatch):
    job = queued_job()

    def scorer_cancelled_then_failing(*, submission, checkpoint):
        scoring_job_cancel(job_id=job.pk, user=staff, reason="stop")
        raise ConnectionError("S3 unavailable")  # before any checkpoint could see the request

    monkeypatch.setattr("jobs.services.scoring_evaluate", scorer_cancelled_then_failing)
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.CANCELLED
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == (ScoringJob.Status.ERROR, "cancelled", "stop")


def test_a_cancel_requested_job_is_never_released_back_to_queued():
    job = queued_job()
    ScoringJob.claim(job_id=job.pk, lease_owner="w", lease_seconds=30)
    ScoringJob.objects.filter(pk=job.pk).update(cancel_requested_at=timezone.now())
    assert not ScoringJob.release(job_id=job.pk, lease_owner="w", delay_seconds=1, reason="flaky")
    assert ScoringJob.objects.get(pk=job.pk).status == ScoringJob.Status.RUNNING


def test_cancel_twice_is_refused_the_second_time(staff):
    job = queued_job()
    ScoringJob.claim(job_id=job.pk, lease_owner="w", lease_seconds=30)
    scoring_job_cancel(job_id=job.pk, user=staff, reason="once")
    with pytest.raises(JobConflict):
        scoring_job_cancel(job_id=job.pk, user=staff, reason="twice")
    assert JobEvent.objects.filter(job=job, action=JobEvent.Action.CANCEL_REQUESTED).count() == 1


def test_rescore_records_its_reason_on_the_creation_event(staff):
    job = queued_job()
    scoring_job_run(job_id=job.pk)
    second = submission_rescore(submission_id=job.submission_id, user=staff, reason="rubric changed")
    created = JobEvent.objects.get(job=second, action=JobEvent.Action.CREATE)
    assert (created.actor, created.reason) == ("staffer", "rubric changed")
    # The original job's history says it was rescored, and as which job.
    rescored = JobEvent.objects.get(job=job, action=JobEvent.Action.RESCORED)
    assert (rescored.related_job, rescored.actor, rescored.reason) == (second, "staffer", "rubric changed")
    assert rescored.from_status == rescored.to_status == ScoringJob.Status.DONE


def test_every_transition_writes_its_event_in_the_same_transaction(monkeypatch):
    job = queued_job()

    def broken_event(*args, **kwargs):
        raise RuntimeError("event table unavailable")

    monkeypatch.setattr(JobEvent.objects, "create", broken_event)
    with pytest.raises(RuntimeError):
        ScoringJob.claim(job_id=job.pk, lease_owner="w", lease_seconds=30)
    assert ScoringJob.objects.get(pk=job.pk).status == ScoringJob.Status.QUEUED  # rolled back with it
