"""The pipeline's promises, checked over real worker and relay processes,
PostgreSQL and the local SQS endpoint. The scorer is scripted per submission
(feedback_site/testing/chaos.py) to be slow, fail, or be rejected."""

import json
import os
import re
import signal
import time
from base64 import b64decode

import dramatiq
import pytest
from django.db import connection
from django.db.models import Count

from conftest import wait_until
from feedback_site.broker import SCORING_QUEUE, sqs_dead_letter_queue_name
from feedback_site.testing.tcp_proxy import CuttableProxy
from jobs.actors import score_job
from jobs.models import JobAttempt, JobEvent, ScoringJob
from jobs.services import scoring_job_cancel, submission_rescore, submission_submit
from scoring.models import ScoreResult
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST_LEASES = {"SCORING_LEASE_SECONDS": "5", "SCORING_HEARTBEAT_SECONDS": "1"}


@pytest.fixture
def chaos_env(tmp_path):
    return {"SCORER": "feedback_site.testing.chaos.ChaosScorer", "CHAOS_STATE_DIR": str(tmp_path / "chaos")}


@pytest.fixture
def no_dispatch(monkeypatch):
    """The process 'dies' between commit and send: jobs are committed, no message goes out."""
    monkeypatch.setattr("jobs.services.scoring_jobs_dispatch", lambda **kwargs: [])


def _submit(code: str) -> ScoringJob:
    submission = SubmissionFactory(source_code=code)
    return submission_submit(submission_id=submission.pk, user=submission.owner)


def _job(job: ScoringJob) -> ScoringJob:
    return ScoringJob.objects.select_related("result").get(pk=job.pk)


def _wait_status(job, status, *, timeout, workers=()) -> ScoringJob:
    try:
        wait_until(lambda: _job(job).status == status, timeout=timeout, message=f"job to reach {status}")
    except AssertionError:
        logs = "\n".join(w.log()[-3000:] for w in workers)
        raise AssertionError(f"job is {_job(job).status}, not {status}; logs:\n{logs}") from None
    return _job(job)


def _outcomes(job) -> list[str]:
    return list(JobAttempt.objects.filter(job=job).order_by("number").values_list("outcome", flat=True))


def test_worker_killed_mid_job_is_replaced_and_the_job_completes_once(
    scoring_queue_url, start_worker, start_relay, chaos_env
):
    # Production lease and heartbeat: the claim is "within about a minute".
    workers = [start_worker(env=chaos_env), start_worker(env=chaos_env)]
    start_relay()
    job = _submit("# chaos: sleep=8\nx = 1\n")
    running = _wait_status(job, ScoringJob.Status.RUNNING, timeout=30, workers=workers)
    worker_pid = int(running.lease_owner.split(":")[1])
    os.kill(worker_pid, signal.SIGKILL)
    killed_at = time.monotonic()

    done = _wait_status(job, ScoringJob.Status.DONE, timeout=90, workers=workers)
    print(f"recovered in {time.monotonic() - killed_at:.1f}s after the kill")
    assert done.attempts == 2
    assert _outcomes(job) == [JobAttempt.Outcome.LOST, JobAttempt.Outcome.SUCCEEDED]
    assert ScoreResult.objects.filter(submission=job.submission).count() == 1


def test_job_committed_but_never_sent_is_dispatched_by_the_relay(scoring_queue_url, start_worker, start_relay,
                                                                 no_dispatch):
    job = _submit("x = 1\n")
    assert _job(job).dispatched_at is None
    start_worker()
    start_relay()
    done = _wait_status(job, ScoringJob.Status.DONE, timeout=60)
    assert done.dispatched_at is not None and done.attempts == 1


def test_same_message_three_times_to_two_workers_gives_one_result(scoring_queue_url, start_worker, no_dispatch):
    job = _submit("x = 1\n")
    message = score_job.message(str(job.pk), trace_id=job.trace_id)
    for _ in range(3):
        dramatiq.get_broker().enqueue(message)
    workers = [start_worker(), start_worker()]
    _wait_status(job, ScoringJob.Status.DONE, timeout=60, workers=workers)

    def handled() -> list[str]:
        # The actor logs each delivery it returned from (plain or JSON lines);
        # returning is what acknowledges it.
        logs = "".join(w.log() for w in workers)
        return re.findall(rf"job {job.pk} trace=\S*: (\w+)", logs)

    wait_until(lambda: len(handled()) == 3, timeout=30, message="all three copies to be handled")
    assert sorted(handled()) == ["SUCCEEDED", "duplicate", "duplicate"]
    assert ScoreResult.objects.filter(submission=job.submission).count() == 1
    assert JobEvent.objects.filter(job=job, action=JobEvent.Action.CLAIM).count() == 1
    assert _outcomes(job) == [JobAttempt.Outcome.SUCCEEDED]


def test_transient_failures_retry_with_backoff_then_succeed(scoring_queue_url, start_worker, chaos_env):
    job = _submit("# chaos: fail=2\nx = 1\n")
    worker = start_worker(env=chaos_env)
    done = _wait_status(job, ScoringJob.Status.DONE, timeout=60, workers=[worker])
    assert done.attempts == 3
    attempts = list(JobAttempt.objects.filter(job=job).order_by("number"))
    assert [a.outcome for a in attempts] == ["FAILED", "FAILED", "SUCCEEDED"]
    gaps = [(attempts[i + 1].started_at - attempts[i].finished_at).total_seconds() for i in range(2)]
    # base 2 s: first backoff in [1, 2] s, second in [2, 4] s; SQS delays are whole seconds.
    assert 1 <= gaps[0] <= 4 and 2 <= gaps[1] <= 7, gaps


def test_permanent_failure_ends_in_error_after_one_attempt(scoring_queue_url, start_worker, chaos_env):
    job = _submit("# chaos: reject\nx = 1\n")
    failed = _wait_status(job, ScoringJob.Status.ERROR, timeout=60, workers=[start_worker(env=chaos_env)])
    assert (failed.error_code, failed.attempts) == ("chaos_rejected", 1)


def test_poison_job_ends_in_error_with_its_message_in_the_dead_letter_queue(
    sqs, scoring_queue_url, start_worker, chaos_env
):
    dlq_url = sqs.get_queue_url(QueueName=sqs_dead_letter_queue_name(SCORING_QUEUE))["QueueUrl"]
    sqs.purge_queue(QueueUrl=dlq_url)
    job = _submit("# chaos: fail=99\nx = 1\n")
    worker = start_worker(env=chaos_env)
    failed = _wait_status(job, ScoringJob.Status.ERROR, timeout=60, workers=[worker])
    assert (failed.error_code, failed.attempts) == ("attempts_exhausted", 3)
    dead = wait_until(lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"),
                      timeout=20, message="the message in the dead-letter queue")
    assert [json.loads(b64decode(m["Body"]))["args"] for m in dead] == [[str(job.pk)]]
    time.sleep(5)  # no loop: nothing more happens to it
    assert _job(job).attempts == 3 and _outcomes(job) == ["FAILED", "FAILED", "EXHAUSTED"]


def test_database_outage_during_a_run_loses_nothing_and_duplicates_nothing(
    scoring_queue_url, start_worker, start_relay, chaos_env
):
    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    through_proxy = {
        **chaos_env,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@127.0.0.1:{proxy.port}/{db['NAME']}",
    }
    try:
        workers = [start_worker("--threads", "4", env=through_proxy) for _ in range(2)]
        start_relay(env=through_proxy)
        owner = UserFactory()
        jobs = []
        for _ in range(200):
            submission = SubmissionFactory(owner=owner, source_code="# chaos: sleep=0.2\nx = 1\n")
            jobs.append(submission_submit(submission_id=submission.pk, user=owner))
        wait_until(lambda: ScoringJob.objects.filter(status=ScoringJob.Status.DONE).count() >= 20, timeout=60,
                   message="the run to be under way")
        proxy.cut()
        time.sleep(20)
        proxy.restore()
        try:
            wait_until(lambda: ScoringJob.objects.filter(status=ScoringJob.Status.DONE).count() == 200,
                       timeout=240, interval=1, message="all 200 jobs to be DONE")
        except AssertionError:
            counts = dict(ScoringJob.objects.values_list("status").annotate(n=Count("pk")))
            raise AssertionError(f"{counts}\n{workers[0].log()[-4000:]}") from None
    finally:
        proxy.close()
    assert ScoreResult.objects.count() == 200
    assert not ScoringJob.objects.exclude(status=ScoringJob.Status.DONE).exists()


def test_cancel_before_and_during_a_run_and_rescore_keeps_the_first_result(
    scoring_queue_url, start_worker, chaos_env
):
    staff = UserFactory(username="staffer", is_staff=True)
    queued = _submit("x = 1\n")
    scoring_job_cancel(job_id=queued.pk, user=staff, reason="before")
    slow = _submit("# chaos: sleep=6\nx = 2\n")
    plain = _submit("x = 3\n")
    worker = start_worker(env={**chaos_env, **FAST_LEASES})

    _wait_status(slow, ScoringJob.Status.RUNNING, timeout=30, workers=[worker])
    scoring_job_cancel(job_id=slow.pk, user=staff, reason="during")
    cancelled = _wait_status(slow, ScoringJob.Status.ERROR, timeout=30, workers=[worker])
    assert (cancelled.error_code, cancelled.error_message, cancelled.result) == ("cancelled", "during", None)
    assert _outcomes(slow) == [JobAttempt.Outcome.CANCELLED]

    before = _job(queued)
    assert (before.status, before.error_code, before.attempts) == (ScoringJob.Status.ERROR, "cancelled", 0)

    first = _wait_status(plain, ScoringJob.Status.DONE, timeout=30, workers=[worker])
    second = submission_rescore(submission_id=plain.submission_id, user=staff, reason="rubric changed")
    second = _wait_status(second, ScoringJob.Status.DONE, timeout=30, workers=[worker])
    assert second.pk != first.pk and second.result_id != first.result_id
    assert _job(first).result_id == first.result_id
    assert ScoreResult.objects.filter(submission_id=plain.submission_id).count() == 2


def test_sigterm_lets_the_job_in_hand_finish_then_stops(scoring_queue_url, start_worker, chaos_env):
    job = _submit("# chaos: sleep=4\nx = 1\n")
    worker = start_worker(env=chaos_env)
    _wait_status(job, ScoringJob.Status.RUNNING, timeout=30, workers=[worker])
    os.kill(worker.pid, signal.SIGTERM)  # to the dramatiq master, as a process manager would
    worker.process.wait(timeout=60)
    finished = _job(job)
    assert finished.status == ScoringJob.Status.DONE, worker.log()[-3000:]
    assert _outcomes(job) == [JobAttempt.Outcome.SUCCEEDED]
