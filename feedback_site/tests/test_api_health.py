"""/health/ready against the real local S3/SQS endpoint and PostgreSQL."""

import time

import pytest
from rest_framework.test import APIClient

from feedback_site import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_readiness(monkeypatch):
    # Each test looks at the world as it made it, not at the last second's answer.
    monkeypatch.setitem(health._cache, "at", -health.CACHE_SECONDS)


def test_readiness_runs_its_checks_at_most_once_a_second(aws_resources, monkeypatch):
    runs = []
    real = health.run_checks
    monkeypatch.setattr(health, "run_checks", lambda: runs.append(1) or real())
    for _ in range(5):
        assert APIClient().get("/health/ready").status_code == 200
    assert len(runs) == 1
    health._cache["at"] -= health.CACHE_SECONDS  # a second later
    APIClient().get("/health/ready")
    assert len(runs) == 2


def test_ready_when_database_bucket_and_queue_answer(aws_resources):
    response = APIClient().get("/health/ready")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "s3", "sqs"}
    assert all(check["ok"] for check in body["checks"].values())


def test_not_ready_names_the_missing_bucket(aws_resources, settings):
    settings.S3_BUCKET = "feedback-no-such-bucket"
    response = APIClient().get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["s3"]["ok"] is False and "404" in checks["s3"]["error"]
    assert checks["database"]["ok"] and checks["sqs"]["ok"]


def test_not_ready_names_the_missing_queue(aws_resources, settings):
    settings.SQS_QUEUE_PREFIX = "feedback_nonexistent"
    response = APIClient().get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["sqs"]["ok"] is False and "NonExistentQueue" in checks["sqs"]["error"]


def test_an_unreachable_endpoint_is_reported_quickly(settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    started = time.monotonic()
    response = APIClient().get("/health/ready")
    assert time.monotonic() - started < health.CHECK_TIMEOUT_SECONDS + 2
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert not checks["s3"]["ok"] and not checks["sqs"]["ok"] and checks["database"]["ok"]
    assert "127.0.0.1" not in response.content.decode()  # no host names in a public answer


def test_a_hanging_check_times_out_instead_of_hanging_the_probe():
    started = time.monotonic()
    results = health.run_checks({"slow": lambda: time.sleep(5), "fast": lambda: None}, timeout=0.5)
    assert time.monotonic() - started < 2
    assert results["slow"] == {"ok": False, "error": "timeout", "duration_ms": 500.0}
    assert results["fast"]["ok"] is True


def test_liveness_checks_nothing(settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    assert APIClient().get("/health").json() == {"status": "ok"}
