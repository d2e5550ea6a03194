"""Request ids, structured logs and /metrics — in the web process and across to the workers."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from django.contrib.auth.models import Permission
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.authtoken.models import Token

from conftest import wait_until
from feedback_site.broker import SCORING_QUEUE, sqs_dead_letter_queue_name
from jobs.models import ScoringJob
from jobs.services import scoring_job_run
from jobs.tests.factories import queued_job
from submissions.tests.factories import SubmissionFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


# --- request id ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "sent, kept",
    [("req-1234.abc:5_Z", True), ("a" * 64, True), ("a" * 65, False), ("two words", False),
     ('x"\nforged', False), ("", False)],
)
def test_a_sane_request_id_is_returned_and_anything_else_replaced(client, sent, kept):
    response = client.get("/health", headers={"X-Request-ID": sent})
    returned = response["X-Request-ID"]
    if kept:
        assert returned == sent
    else:
        assert returned != sent and len(returned) == 32 and int(returned, 16) >= 0


@pytest.fixture
def json_log():
    """The lines the configured root formatter (settings.LOGGING) writes, captured."""
    formatters = [h.formatter for h in logging.getLogger().handlers
                  if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)]
    assert formatters, "settings.LOGGING does not route the root logger through structlog"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatters[0])
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def test_each_request_writes_a_json_line_with_its_request_id(client, json_log):
    response = client.get("/health", headers={"X-Request-ID": "trace-json-1"})
    [line] = [e for e in json_log() if e.get("event") == "request finished"]
    assert line["request_id"] == response["X-Request-ID"] == "trace-json-1"
    assert (line["status"], line["method"], line["path"], line["view"]) == (200, "GET", "/health", "health")
    assert line["level"] == "info" and line["logger"] == "feedback_site.requests" and "timestamp" in line


def test_code_logging_inside_a_request_carries_its_id(json_log, rf):
    from feedback_site.request_id import RequestIdMiddleware

    def view(request):
        logging.getLogger("jobs.services").warning("something about %s", "a job")
        from django.http import HttpResponse

        return HttpResponse("ok")

    RequestIdMiddleware(view)(rf.get("/x", headers={"X-Request-ID": "inner-7"}))
    [line] = [e for e in json_log() if e.get("logger") == "jobs.services"]
    assert line == {**line, "event": "something about a job", "request_id": "inner-7", "level": "warning"}


@pytest.mark.django_db
def test_submitting_in_the_browser_carries_the_request_id_into_the_job(client):
    submission = SubmissionFactory()
    client.force_login(submission.owner)
    client.post(reverse("submissions:submission_submit", args=[submission.pk]), headers={"X-Request-ID": "web-42"})
    assert ScoringJob.objects.get(submission=submission).trace_id == "web-42"


@pytest.mark.django_db
def test_submitting_through_the_api_carries_the_request_id_into_the_job(client):
    submission = SubmissionFactory()
    token = Token.objects.create(user=submission.owner)
    response = client.post(f"/api/submissions/{submission.pk}/submit", content_type="application/json",
                           headers={"Authorization": f"Token {token.key}", "X-Request-ID": "api-43"})
    assert response.status_code == 202, response.content
    assert ScoringJob.objects.get(submission=submission).trace_id == "api-43"


@pytest.mark.django_db
def test_a_job_created_outside_a_request_gets_an_id_of_its_own():
    job = queued_job()
    assert len(job.trace_id) == 32


# --- /metrics -------------------------------------------------------------------------------

SCRAPE_TOKEN = "scrape-token"


def _scrape(client) -> dict:
    """/metrics as a Prometheus server reads it (the tests set METRICS_TOKEN to SCRAPE_TOKEN)."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.django_db
def test_metrics_are_refused_without_the_token_when_not_debug(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = False, "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    client.force_login(UserFactory(username="plain-learner"))
    assert client.get("/metrics").status_code == 401
    client.logout()
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    staffer = UserFactory(username="staffer", is_staff=True)
    client.force_login(staffer)
    assert client.get("/metrics").status_code == 401  # staff, but not allowed to look at jobs
    staffer.user_permissions.add(Permission.objects.get(codename="view_scoringjob"))
    client.force_login(UserFactory._meta.model.objects.get(pk=staffer.pk))  # fresh permission cache
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_metrics_stay_closed_in_debug(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, ""
    assert client.get("/metrics").status_code == 401
    client.force_login(UserFactory(username="debug-learner"))
    assert client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_metrics_count_requests_by_view_and_status(client, settings):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    key = ("feedback_http_requests_total", (("method", "GET"), ("status", "200"), ("view", "health")))
    before = _scrape(client).get(key, 0)
    client.get("/health")
    client.get("/health")
    client.get("/no/such/page")
    after = _scrape(client)
    assert after[key] == before + 2
    assert after[("feedback_http_requests_total", (("method", "GET"), ("status", "404"), ("view", "<unmatched>")))] >= 1
    assert after[("feedback_http_request_duration_seconds_count", (("method", "GET"), ("view", "health")))] >= 2


@pytest.mark.django_db
def test_metrics_job_counts_and_durations_change_when_a_job_runs(client, settings):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    job = queued_job()
    done = ("feedback_scoring_jobs", (("status", "DONE"),))
    queued = ("feedback_scoring_jobs", (("status", "QUEUED"),))
    succeeded = ("feedback_scoring_job_attempts_total", (("outcome", "SUCCEEDED"),))
    runs = ("feedback_scoring_job_attempt_duration_seconds_count", (("outcome", "SUCCEEDED"),))
    run_seconds = ("feedback_scoring_job_attempt_duration_seconds_sum", (("outcome", "SUCCEEDED"),))
    before = _scrape(client)
    assert before[queued] == 1 and before[done] == 0 and before[runs] == 0
    assert before[("feedback_scoring_oldest_queued_job_age_seconds", ())] >= 0

    scoring_job_run(job_id=job.pk)

    after = _scrape(client)
    assert (after[queued], after[done]) == (0, 1)
    assert after[succeeded] == before[succeeded] + 1 and after[runs] == before[runs] + 1
    assert after[run_seconds] > before[run_seconds]
    assert after[("feedback_scoring_job_attempt_duration_seconds_bucket",
                  (("le", "+Inf"), ("outcome", "SUCCEEDED")))] == 1


@pytest.mark.django_db
def test_metrics_expose_queue_depth_from_sqs(client, settings, sqs, scoring_queue_url):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    sqs.send_message(QueueUrl=scoring_queue_url, MessageBody="x")
    dead_url = sqs.get_queue_url(QueueName=sqs_dead_letter_queue_name(SCORING_QUEUE))["QueueUrl"]
    sqs.purge_queue(QueueUrl=dead_url)
    samples = _scrape(client)
    main, dead = scoring_queue_url.rsplit("/", 1)[1], dead_url.rsplit("/", 1)[1]
    assert samples[("feedback_sqs_up", ())] == 1
    assert samples[("feedback_sqs_messages", (("queue", main), ("state", "visible")))] == 1
    assert samples[("feedback_sqs_messages", (("queue", dead), ("state", "visible")))] == 0


_MULTIPROCESS_CHILD = """
import sys
import django
django.setup()
from django.test import Client
from feedback_site import metrics
if sys.argv[1] == "serve":
    assert Client().get("/health").status_code == 200
else:
    from prometheus_client import generate_latest
    sys.stdout.write(generate_latest(metrics._request_registry()).decode())
"""


def test_request_metrics_add_up_across_web_processes(tmp_path):
    """gunicorn's workers are separate processes: a scrape must count every one's requests."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "ALLOWED_HOSTS": "testserver",
           "DJANGO_SETTINGS_MODULE": "feedback_site.settings"}

    def child(mode: str) -> str:
        done = subprocess.run([sys.executable, "-c", _MULTIPROCESS_CHILD, mode], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    child("serve")
    child("serve")
    exposition = child("scrape")
    served = [s for f in text_string_to_metric_families(exposition) for s in f.samples
              if s.name == "feedback_http_requests_total" and s.labels.get("view") == "health"]
    assert [s.value for s in served] == [2.0]


# --- one request id, from the submit request into the worker's log lines ---------------------------

@pytest.mark.integration
def test_the_request_id_follows_a_submission_into_the_workers_log_lines(client, settings, scoring_queue_url,
                                                                         start_worker):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    submission = SubmissionFactory()
    client.force_login(submission.owner)
    done = ("feedback_scoring_jobs", (("status", "DONE"),))
    before = _scrape(client)

    client.post(reverse("submissions:submission_submit", args=[submission.pk]),
                headers={"X-Request-ID": "follow-me-123"})
    job = ScoringJob.objects.get(submission=submission)
    assert job.trace_id == "follow-me-123"
    worker = start_worker()
    try:
        wait_until(lambda: ScoringJob.objects.filter(pk=job.pk, status="DONE").exists(), timeout=60,
                   message="the job to be DONE")
    except AssertionError:
        raise AssertionError(f"job not done; worker log:\n{worker.log()}") from None

    def job_lines():
        lines = []
        for raw in worker.log().splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # dramatiq's own start-up banner
            if entry.get("request_id") == "follow-me-123":
                lines.append(entry)
        return lines

    lines = wait_until(job_lines, timeout=10, message="the worker's log lines for the job")
    assert all(line["job_id"] == str(job.pk) for line in lines)
    assert any(line["logger"] == "jobs.actors" and "SUCCEEDED" in line["event"] for line in lines)

    # The web's /metrics sees what the worker process did: it reads the database.
    after = _scrape(client)
    assert after[done] == before[done] + 1
