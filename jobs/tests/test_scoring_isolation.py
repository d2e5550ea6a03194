"""No learner input can stall anyone else's scoring: real worker processes,
PostgreSQL and the local S3/SQS endpoint.

Hostile submissions of several kinds go in beside a normal one: text that
made the old analysers backtrack or rescan (now linear: DONE), an 8 MB CSV
with every row invalid (DONE, bounded), and runs that overrun a limit on
purpose (scripted by feedback_site/testing/chaos.py: a C call holding the
GIL, an allocation beyond the memory limit), which end in ERROR with their
own code after one attempt.
"""

import os
import re
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings

from conftest import database_url_of_test_db, wait_until
from feedback_site.testing import hostile
from feedback_site.testing.processes import ManagedProcess
from jobs.models import JobAttempt, ScoringJob
from jobs.services import submission_submit
from scoring.services import rubric_create
from submissions.tests.factories import SubmissionFactory, SubmissionFileFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LIMITS = {"SCORING_CPU_LIMIT_SECONDS": "3", "SCORING_TIME_LIMIT_SECONDS": "20", "SCORING_MEMORY_LIMIT_MB": "256"}
NORMAL = "def double(x):\n    return 2 * x\n"


@pytest.fixture
def chaos_env(tmp_path):
    return {"SCORER": "feedback_site.testing.chaos.ChaosScorer", "CHAOS_STATE_DIR": str(tmp_path / "chaos"), **LIMITS}


def _submit(source: str = NORMAL, documentation: str = "Doubles a number.", csv: bytes | None = None,
            s3=None) -> ScoringJob:
    submission = SubmissionFactory(source_code=source, documentation=documentation)
    if csv is not None:
        rubric_create(assignment=submission.assignment, criteria=[("code_quality", "Code", 50),
                                                                  ("data_files", "Data", 50)])
        row = SubmissionFileFactory(submission=submission, original_name="data.csv", content_type="text/csv",
                                    size=len(csv))
        s3.put_object(Bucket=settings.S3_BUCKET, Key=row.storage_key, Body=csv)
    return submission_submit(submission_id=submission.pk, user=submission.owner)


def _status(job: ScoringJob) -> ScoringJob:
    return ScoringJob.objects.get(pk=job.pk)


def _settled(jobs: dict[str, ScoringJob]) -> bool:
    return all(_status(j).status in (ScoringJob.Status.DONE, ScoringJob.Status.ERROR) for j in jobs.values())


def test_hostile_submissions_never_stall_a_normal_one(s3, scoring_queue_url, start_worker, chaos_env):
    worker = start_worker("--threads", "4", env=chaos_env)
    wait_until(lambda: "worker consuming" in worker.log(), timeout=90, message="the worker to boot")
    doc = hostile.documentation(3000)
    hostile_jobs = {
        "label line (froze a worker)": _submit(documentation=doc["word, spaces, punctuation (cubic label line)"]),
        "heading with trailing spaces": _submit(documentation=doc["heading with trailing spaces"] * 20),
        "runs of dots": _submit(documentation=doc["a run of dots"] * 50),
        "thousands of names": _submit(source=hostile.many_names(400_000).source_code,
                                      documentation=hostile.many_names(400_000).documentation),
        "8 MB CSV, every row invalid": _submit(csv=hostile.csv_every_row_invalid(8 * 1024 * 1024), s3=s3),
        "CPU held in C code": _submit(source="# chaos: spin=120\n" + NORMAL),
        "memory beyond the limit": _submit(source="# chaos: hog=2048\n" + NORMAL),
    }
    normal = _submit()
    submitted = time.monotonic()
    try:
        wait_until(lambda: _status(normal).status == ScoringJob.Status.DONE, timeout=20,
                   message="the normal job to be DONE")
        print(f"normal job DONE {time.monotonic() - submitted:.1f}s after submission")
        wait_until(lambda: _settled(hostile_jobs), timeout=180, message="every hostile job to end")
    except AssertionError:
        raise AssertionError(f"worker log:\n{worker.log()[-5000:]}") from None

    ended = {label: _status(job) for label, job in hostile_jobs.items()}
    assert ended["CPU held in C code"].error_code == "scoring_timeout"
    assert ended["memory beyond the limit"].error_code == "scoring_memory"
    assert "256 MB of memory" in ended["memory beyond the limit"].learner_error_message
    for label in ("CPU held in C code", "memory beyond the limit"):
        job = ended[label]
        assert (job.status, job.attempts) == (ScoringJob.Status.ERROR, 1), label  # permanent: never retried
        assert list(job.attempt_records.values_list("outcome", flat=True)) == [JobAttempt.Outcome.REJECTED]
    for label, job in ended.items():
        if label not in ("CPU held in C code", "memory beyond the limit"):
            assert job.status == ScoringJob.Status.DONE, (label, job.error_code, job.error_message)
    csv_result = ended["8 MB CSV, every row invalid"].result
    assert any("more finding(s) like this" in item["message"] for item in csv_result.feedback)

    # No other job lost an attempt, and the same worker process scores on.
    assert _status(normal).attempts == 1
    assert not JobAttempt.objects.exclude(outcome__in=[JobAttempt.Outcome.SUCCEEDED,
                                                       JobAttempt.Outcome.REJECTED]).exists()
    after = _submit()
    wait_until(lambda: _status(after).status == ScoringJob.Status.DONE, timeout=20, message="a job after them")
    assert worker.alive()


def _worker_pids(log: Path) -> dict[str, list[int]]:
    text = log.read_text(errors="replace")
    return {state: [int(p) for p in re.findall(rf"worker (\d+) is {state} after", text)]
            for state in ("ready", "standby")}


def test_a_frozen_worker_process_is_killed_and_replaced_by_the_watchdog(tmp_path, scoring_queue_url):
    log = tmp_path / "runworkers.log"
    supervisor = ManagedProcess("runworkers", "--processes", "1", "--threads", "2", log_path=log,
                                env={"DATABASE_URL": database_url_of_test_db(), "WORKER_STALL_SECONDS": "3"})
    try:
        wait_until(lambda: _worker_pids(log)["ready"] and _worker_pids(log)["standby"], timeout=90,
                   message="a worker ready and a standby booted")
        frozen = _worker_pids(log)["ready"][0]
        signal_sent = time.monotonic()
        os.kill(frozen, signal.SIGSTOP)  # alive, but not one instruction more

        wait_until(lambda: f"worker {frozen}: no heartbeat for" in log.read_text(), timeout=20,
                   message="the watchdog to notice the frozen worker")
        wait_until(lambda: not Path(f"/proc/{frozen}").exists() or _zombie(frozen), timeout=10,
                   message="the frozen worker to be killed")
        job = _submit()
        wait_until(lambda: _status(job).status == ScoringJob.Status.DONE, timeout=30,
                   message="a job scored by the replacement")
        print(f"frozen worker replaced; a new job DONE {time.monotonic() - signal_sent:.1f}s after the freeze")
        assert "promoted" in log.read_text()
        assert supervisor.alive()
    finally:
        supervisor.stop()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
