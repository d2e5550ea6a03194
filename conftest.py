"""Fixtures shared by every app's tests: real S3/SQS clients and worker processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from feedback_site import aws
from feedback_site.broker import ensure_queues, sqs_queue_name
from jobs.actors import SCORING_QUEUE
from submissions.storage import ensure_bucket

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def aws_resources():
    """The bucket and queues exist on the local endpoint (as `setup_aws` makes them)."""
    ensure_bucket()
    return ensure_queues([SCORING_QUEUE])


@pytest.fixture
def s3(aws_resources):
    return aws.client("s3")


@pytest.fixture
def sqs(aws_resources):
    return aws.client("sqs")


@pytest.fixture
def scoring_queue_url(sqs):
    """The scoring queue, emptied so a test sees only its own messages."""
    url = sqs.get_queue_url(QueueName=sqs_queue_name(SCORING_QUEUE))["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    return url


def database_url_of_test_db() -> str:
    """The URL of the database this test session uses (pytest-django's test_… copy)."""
    s = connection.settings_dict
    user, password = quote(s["USER"] or ""), quote(s["PASSWORD"] or "")
    return f"postgres://{user}:{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WorkerProcess:
    """A real `manage.py <command>` process on the test database."""

    def __init__(self, *args: str, log_path: Path):
        env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@pytest.fixture
def start_worker(tmp_path, transactional_db, aws_resources):
    """Start `manage.py rundramatiq` processes; they are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(*extra: str) -> WorkerProcess:
        worker = WorkerProcess(
            "rundramatiq", "--processes", "1", "--threads", "2", *extra,
            log_path=tmp_path / f"worker-{len(started)}.log",
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture(autouse=True)
def _no_postgres_means_no_tests():
    # Every test runs on PostgreSQL, never silently on SQLite.
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", (
        "tests need PostgreSQL: run them with `make test`, or set DATABASE_URL"
    )
