import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback_site.testing.outages import unreachable_broker
from jobs.models import JobAttempt, ScoringJob
from jobs.relay import relay_sweep
from jobs.services import scoring_job_run, scoring_jobs_send
from jobs.tests.factories import queued_job

pytestmark = pytest.mark.django_db


def _age(job, **fields):
    ScoringJob.objects.filter(pk=job.pk).update(**fields)


def test_relay_dispatches_a_job_that_was_committed_but_never_sent(scoring_queue_url, sqs):
    job = queued_job()  # inside the test transaction: on_commit never runs, as if the process died
    assert relay_sweep().dispatched == 0  # too fresh: its own on_commit may still be sending
    _age(job, available_at=timezone.now() - timedelta(seconds=10))
    report = relay_sweep()
    assert report.dispatched == 1
    job.refresh_from_db()
    assert job.dispatched_at is not None
    assert relay_sweep().dispatched == 0


def test_relay_resends_a_job_whose_message_went_missing(settings, scoring_queue_url):
    job = queued_job()
    long_ago = timezone.now() - timedelta(seconds=settings.RELAY_REDISPATCH_AFTER_SECONDS + 5)
    _age(job, available_at=long_ago, dispatched_at=long_ago)
    assert relay_sweep().redispatched == 1
    assert relay_sweep().redispatched == 0


def test_relay_requeues_a_job_whose_worker_died(scoring_queue_url):
    job = queued_job()
    assert ScoringJob.claim(job_id=job.pk, lease_owner="dead-worker", lease_seconds=30)
    assert relay_sweep().requeued == 0  # lease still valid
    _age(job, lease_expires_at=timezone.now() - timedelta(seconds=1))
    report = relay_sweep()
    assert report.requeued == 1
    job.refresh_from_db()
    assert (job.status, job.lease_owner) == (ScoringJob.Status.QUEUED, "")
    assert job.dispatched_at is None  # sent after the sweep's commit, which the test transaction never does
    lost = JobAttempt.objects.get(job=job)
    assert (lost.number, lost.outcome, lost.worker_id) == (1, JobAttempt.Outcome.LOST, "dead-worker")
    assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ScoringJob.Status.DONE, 2)


def test_relay_fails_a_job_whose_last_attempt_was_lost():
    job = queued_job()
    _age(job, max_attempts=1)
    ScoringJob.claim(job_id=job.pk, lease_owner="dead-worker", lease_seconds=30)
    _age(job, lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert relay_sweep().failed == 1
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ScoringJob.Status.ERROR, "lease_expired")


def test_relay_ends_a_cancelled_job_whose_worker_died():
    job = queued_job()
    ScoringJob.claim(job_id=job.pk, lease_owner="dead-worker", lease_seconds=30)
    _age(job, lease_expires_at=timezone.now() - timedelta(seconds=1), cancel_requested_at=timezone.now(),
         cancel_reason="duplicate submission")
    relay_sweep()
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == (ScoringJob.Status.ERROR, "cancelled",
                                                              "duplicate submission")


def test_relay_logs_one_summary_line_per_sweep_while_the_broker_is_down(monkeypatch, caplog):
    from jobs.actors import score_job

    monkeypatch.setattr(score_job, "broker", unreachable_broker())
    jobs = [queued_job() for _ in range(3)]
    for job in jobs:
        _age(job, available_at=timezone.now() - timedelta(seconds=10))

    with caplog.at_level(logging.INFO):
        for _ in range(2):
            report = relay_sweep()
            assert (report.dispatched, type(report.send_error).__name__) == (0, "EndpointConnectionError")

    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["jobs.relay", "jobs.relay"]  # one per sweep, nothing per job
    assert all(r.exc_info is None for r in lines)  # no tracebacks
    message = lines[0].getMessage()
    assert "3 job(s) waiting to be sent" in message and "EndpointConnectionError" in message
    assert not ScoringJob.objects.filter(dispatched_at__isnull=False).exists()  # all still to send


def test_relay_sends_again_once_the_broker_is_back(monkeypatch, scoring_queue_url):
    from jobs.actors import score_job

    job = queued_job()
    _age(job, available_at=timezone.now() - timedelta(seconds=10))
    with monkeypatch.context() as outage:
        outage.setattr(score_job, "broker", unreachable_broker())
        assert relay_sweep().dispatched == 0
    assert relay_sweep().dispatched == 1


def test_a_message_refused_on_its_own_does_not_stop_the_others(monkeypatch, scoring_queue_url):
    from jobs.actors import score_job

    too_big, fine = queued_job(), queued_job()
    # dramatiq-sqs refuses a message over max_message_size itself (MessageTooLarge): that message, not SQS.
    monkeypatch.setattr(score_job.broker, "max_message_size", 1200)
    outcome = scoring_jobs_send(job_ids=[too_big.pk, fine.pk], trace_ids={too_big.pk: "t" * 1000, fine.pk: "t"})
    assert (outcome.sent, outcome.error) == ([fine.pk], None)
