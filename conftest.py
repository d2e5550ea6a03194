"""Fixtures shared by every app's tests: real S3/SQS clients and worker processes."""

import threading
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from feedback_site import aws
from feedback_site.broker import SCORING_QUEUE, ensure_queues, sqs_queue_name
from feedback_site.testing.processes import ManagedProcess, wait_until  # noqa: F401 (tests import wait_until)
from submissions.storage import ensure_bucket


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves hashed names from collectstatic's manifest (the
    # Dockerfile runs it); tests render pages straight from the source tree.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                      "live_server"}


@pytest.fixture(autouse=True)
def _fresh_throttle_counters(request):
    # API throttles count in the cache (a database table, outside the models a
    # transactional test flushes): each test that may use it starts at zero.
    requested = _DATABASE_FIXTURES & set(request.fixturenames)
    if not (request.node.get_closest_marker("django_db") or requested):
        return
    for name in sorted(requested):  # set up the test's database access before using it
        request.getfixturevalue(name)
    cache.clear()


@pytest.fixture(autouse=True)
def _no_background_heartbeat_inside_a_test_transaction(request, monkeypatch):
    """A job run in a test's own (never committed) transaction is invisible to
    the lease heartbeat thread's connection: a beat landing mid-run would find
    no lease and stop the run as "taken over". Such tests renew by calling
    lease_keeper.beat() themselves; transactional tests and real workers beat."""
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or (_DATABASE_FIXTURES - {"db"}) & set(request.fixturenames):
        return
    from jobs.leases import lease_keeper

    beat = lease_keeper.beat

    def beat_unless_in_background():
        if threading.current_thread().name != "lease-heartbeat":
            beat()

    monkeypatch.setattr(lease_keeper, "beat", beat_unless_in_background)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(settings):
    # Django's default hasher takes ~0.5 s per password on purpose; the
    # factories hash one per user. Tests sign in with the same (cheap) hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture
def start_worker(tmp_path, transactional_db, aws_resources):
    """Start real `manage.py runworker` processes (one worker process each) on
    the test database; stopped after the test.

    ``env`` overrides settings of that process (e.g. a shorter lease)."""
    started: list[ManagedProcess] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> ManagedProcess:
        worker = ManagedProcess(
            "runworker", "--threads", "2", *extra,
            log_path=tmp_path / f"worker-{len(started)}.log",
            env={"DATABASE_URL": database_url_of_test_db(), **(env or {})},
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def start_relay(tmp_path, transactional_db, aws_resources):
    """Start a real `manage.py runrelay` process on the test database."""
    started: list[ManagedProcess] = []

    def start(env: dict[str, str] | None = None) -> ManagedProcess:
        relay = ManagedProcess(
            "runrelay", log_path=tmp_path / f"relay-{len(started)}.log",
            env={"DATABASE_URL": database_url_of_test_db(), "RELAY_INTERVAL_SECONDS": "1", **(env or {})},
        )
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()


@pytest.fixture(autouse=True)
def _no_postgres_means_no_tests():
    # Every test runs on PostgreSQL, never silently on SQLite.
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", (
        "tests need PostgreSQL: run them with `make test`, or set DATABASE_URL"
    )

