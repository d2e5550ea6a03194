"""The jobs dashboard and the dead-letter queue view, on PostgreSQL and the local SQS."""

import base64
import json
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from conftest import wait_until
from feedback_site.broker import SCORING_QUEUE, sqs_dead_letter_queue_name
from jobs import selectors
from jobs.actors import score_job
from jobs.models import ScoringJob
from jobs.tests.test_admin import _static_files_without_collectstatic, job_in, staff_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = staff_in("Job operators", "operator")
    client.force_login(user)
    return user


def _set(job, **fields) -> None:
    ScoringJob.objects.filter(pk=job.pk).update(**fields)


def _done(now, *, finished_ago: timedelta, seconds: float) -> ScoringJob:
    job = job_in(ScoringJob.Status.DONE)
    finished = now - finished_ago
    _set(job, finished_at=finished, started_at=finished - timedelta(seconds=seconds))
    return job


def _error(now, *, finished_ago: timedelta, code: str) -> ScoringJob:
    job = job_in(ScoringJob.Status.ERROR, code=code, message=f"{code} happened")
    _set(job, finished_at=now - finished_ago)
    return job


@pytest.fixture
def known_jobs():
    """A fixture whose every dashboard figure is known in advance."""
    now = timezone.now()
    minutes, hours = (lambda n: timedelta(minutes=n)), (lambda n: timedelta(hours=n))
    for ago, seconds in [(10, 1), (20, 2), (30, 10)]:
        _done(now, finished_ago=minutes(ago), seconds=seconds)  # last hour
    for seconds in (4, 20):
        _done(now, finished_ago=hours(5), seconds=seconds)  # last day
    _error(now, finished_ago=minutes(15), code="timeout")
    _error(now, finished_ago=hours(3), code="engine_crash")
    _error(now, finished_ago=hours(3) + minutes(1), code="engine_crash")
    _error(now, finished_ago=timedelta(days=2), code="ancient")
    oldest = job_in(ScoringJob.Status.QUEUED)
    _set(oldest, created_at=now - minutes(30))
    job_in(ScoringJob.Status.QUEUED)
    job_in(ScoringJob.Status.RUNNING)
    return now


def test_dashboard_selectors_compute_the_known_figures(known_jobs):
    now = known_jobs
    dashboard = selectors.job_dashboard(now=now)
    assert dashboard.counts == {"QUEUED": 2, "RUNNING": 1, "DONE": 5, "ERROR": 4}
    hour, day = dashboard.windows["hour"], dashboard.windows["day"]
    assert (hour.done, hour.error, day.done, day.error) == (3, 1, 5, 3)
    # percentile_cont interpolates: run times [1, 2, 10] and [1, 2, 4, 10, 20] seconds.
    assert hour.p50 == timedelta(seconds=2) and hour.p95 == timedelta(seconds=9.2)
    assert day.p50 == timedelta(seconds=4) and day.p95 == timedelta(seconds=18)
    assert abs(dashboard.oldest_queued_age - timedelta(minutes=30)) < timedelta(seconds=1)
    assert [(g.code, g.count) for g in dashboard.error_groups] == [("engine_crash", 2), ("timeout", 1)]
    assert [j.error_code for j in dashboard.recent_errors] == ["timeout", "engine_crash", "engine_crash", "ancient"]
    assert len(dashboard.hourly) == 24
    assert sum(h["done"] for h in dashboard.hourly) == 5 and sum(h["error"] for h in dashboard.hourly) == 3
    assert dashboard.hourly[-1]["hour"] <= now < dashboard.hourly[-1]["hour"] + timedelta(hours=1)


def test_python_percentiles_match_postgresql_for_sqlite_runs():
    values = [timedelta(seconds=s) for s in (20, 1, 10, 4, 2)]
    assert selectors._percentile(values, 0.5) == timedelta(seconds=4)
    assert selectors._percentile(values, 0.95) == timedelta(seconds=18)
    assert selectors._percentile([], 0.5) is None


def _row(page: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(1)


def test_dashboard_page_shows_the_known_figures(client, operator, known_jobs, django_assert_num_queries,
                                                sqs, scoring_queue_url):
    dead_url = sqs.get_queue_url(QueueName=sqs_dead_letter_queue_name(SCORING_QUEUE))["QueueUrl"]
    sqs.purge_queue(QueueUrl=dead_url)
    for _ in range(2):
        sqs.send_message(QueueUrl=scoring_queue_url, MessageBody="x")
    sqs.send_message(QueueUrl=dead_url, MessageBody="y")
    client.get(reverse("admin:jobs_scoringjob_dashboard"))  # warm the permission cache

    # session, user, permissions (user, groups), then the dashboard's six reads
    with django_assert_num_queries(11):  # 10, and the recent S3/SQS repairs
        response = client.get(reverse("admin:jobs_scoringjob_dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    states = dict(re.findall(r'data-status="(\w+)">\s*<a [^>]*><span class="figure">(\d+)</span>', page))
    assert states == {"QUEUED": "2", "RUNNING": "1", "DONE": "5", "ERROR": "4"}
    hour, day = _row(page, "data-window", "hour"), _row(page, "data-window", "day")
    assert '<td class="done">3</td>' in hour and '<td class="error">1</td>' in hour
    assert '<td class="p50">2.00 s</td>' in hour and '<td class="p95">9.20 s</td>' in hour
    assert '<td class="done">5</td>' in day and '<td class="p95">18.00 s</td>' in day
    assert "30\xa0minutes" in page  # the oldest queued job's age
    assert '<td class="visible">2</td>' in _row(page, "data-queue", "main")
    assert '<td class="visible">1</td>' in _row(page, "data-queue", "dead")
    assert "<code>engine_crash</code>" in page and "<code>ancient</code>" in page  # groups, then latest
    assert page.count('<rect class="done"') == 24 and "<svg" in page


def test_dashboard_says_so_when_sqs_does_not_answer(client, operator, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    page = client.get(reverse("admin:jobs_scoringjob_dashboard")).content.decode()
    assert "SQS did not answer" in page


def test_the_admin_index_links_to_the_console(client, operator):
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:jobs_scoringjob_dashboard") in page
    assert reverse("admin:jobs_scoringjob_dead_letters") in page


# --- the dead-letter queue, on the real local SQS ----------------------------------------------

@pytest.fixture
def dead_url(sqs, scoring_queue_url):
    url = sqs.get_queue_url(QueueName=sqs_dead_letter_queue_name(SCORING_QUEUE))["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    return url


def _dead_letter(sqs, url, job) -> str:
    """What dramatiq-sqs puts in the dead-letter queue when it gives up on a job's message."""
    body = base64.b64encode(score_job.message(str(job.pk), trace_id=job.trace_id).encode()).decode()
    return sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]


def _count(sqs, url) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _job_ids_in(sqs, url) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(base64.b64decode(m["Body"]))["args"][0] for m in messages]


def test_dead_letter_view_lists_messages_with_their_jobs_and_leaves_them_there(client, operator, sqs, dead_url):
    failed = job_in(ScoringJob.Status.ERROR)
    message_id = _dead_letter(sqs, dead_url, failed)
    stray = sqs.send_message(QueueUrl=dead_url, MessageBody="not base64 json")["MessageId"]

    page = client.get(reverse("admin:jobs_scoringjob_dead_letters")).content.decode()
    assert message_id in page and stray in page and "not a job message" in page
    assert reverse("admin:jobs_scoringjob_change", args=[failed.pk]) in page
    assert reverse("admin:jobs_scoringjob_action", args=[failed.pk, "retry"]) in page  # retry, not redrive
    # A peek, not a take: both are visible again at once.
    attributes = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "2"


def test_a_viewer_sees_the_counts_but_no_message_is_read_for_them(client, sqs, dead_url):
    client.force_login(staff_in("Job viewers", "viewer"))
    message_id = _dead_letter(sqs, dead_url, job_in(ScoringJob.Status.ERROR))
    page = client.get(reverse("admin:jobs_scoringjob_dead_letters")).content.decode()
    assert message_id not in page and 'id="dead-letters-not-listed"' in page
    # Nothing was received: the message was never hidden from an operator's redrive.
    attributes = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert _job_ids_in(sqs, dead_url) != []


def test_redrive_one_sends_it_back_to_the_scoring_queue(client, operator, sqs, scoring_queue_url, dead_url):
    first, second = job_in(ScoringJob.Status.QUEUED), job_in(ScoringJob.Status.QUEUED)
    chosen = _dead_letter(sqs, dead_url, first)
    _dead_letter(sqs, dead_url, second)

    response = client.post(reverse("admin:jobs_scoringjob_dead_letters"),
                           {"operation": "redrive", "message_id": chosen})
    assert response.status_code == 302
    assert _job_ids_in(sqs, scoring_queue_url) == [str(first.pk)]
    assert _count(sqs, dead_url) == 1
    assert f"Redrove its dead-letter message {chosen}" in LogEntry.objects.get(object_id=str(first.pk)).change_message
    assert LogEntry.objects.filter(object_id=None, change_message__startswith="Redrove 1 message").exists()


def test_redrive_all_moves_every_message(client, operator, sqs, scoring_queue_url, dead_url):
    jobs = [job_in(ScoringJob.Status.QUEUED) for _ in range(3)]
    for job in jobs:
        _dead_letter(sqs, dead_url, job)
    response = client.post(reverse("admin:jobs_scoringjob_dead_letters"), {"operation": "redrive_all"}, follow=True)
    assert "Redrove 3 message(s)" in response.content.decode()
    assert _count(sqs, dead_url) == 0
    assert sorted(_job_ids_in(sqs, scoring_queue_url)) == sorted(str(j.pk) for j in jobs)


def test_redriving_a_failed_jobs_message_warns_to_retry_instead(client, operator, sqs, scoring_queue_url, dead_url):
    failed = job_in(ScoringJob.Status.ERROR)
    _dead_letter(sqs, dead_url, failed)
    response = client.post(reverse("admin:jobs_scoringjob_dead_letters"), {"operation": "redrive_all"}, follow=True)
    assert "not QUEUED" in response.content.decode()
    assert ScoringJob.objects.get(pk=failed.pk).status == ScoringJob.Status.ERROR  # a redrive changes no job


def test_purge_asks_first_then_empties_the_queue(client, operator, sqs, dead_url):
    for _ in range(3):
        _dead_letter(sqs, dead_url, job_in(ScoringJob.Status.ERROR))
    confirm = client.get(reverse("admin:jobs_scoringjob_dead_letters_purge"))
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert _count(sqs, dead_url) == 3  # asking purged nothing

    response = client.post(reverse("admin:jobs_scoringjob_dead_letters_purge"), {"confirm": "yes"}, follow=True)
    assert "Purged the dead-letter queue (3 message(s))" in response.content.decode()
    wait_until(lambda: _count(sqs, dead_url) == 0, timeout=10, message="the dead-letter queue to be empty")
    entry = LogEntry.objects.get(change_message__startswith="Purged")
    assert entry.user.username == "operator" and "dlq" in entry.object_repr
