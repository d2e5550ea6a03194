"""The desired S3/SQS state (jobs/infrastructure.py): ensured, repaired, recorded and shown."""

import logging
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from feedback_site import health
from feedback_site.broker import sqs_dead_letter_queue_name, sqs_queue_name
from feedback_site.testing.outages import DEAD_ENDPOINT
from jobs import infrastructure
from jobs.models import InfrastructureRepair
from jobs.tests.test_admin import _static_files_without_collectstatic, staff_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_resources(settings, s3, sqs):
    """A bucket and a queue namespace of this test's own (none exist yet), removed afterwards."""
    suffix = uuid.uuid4().hex[:6]
    settings.S3_BUCKET = f"{settings.S3_BUCKET}-inf{suffix}"
    settings.SQS_QUEUE_PREFIX = f"{settings.SQS_QUEUE_PREFIX}_inf{suffix}"
    yield
    for url in sqs.list_queues(QueueNamePrefix=settings.SQS_QUEUE_PREFIX).get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)
    s3.delete_bucket(Bucket=settings.S3_BUCKET)


def test_setup_aws_creates_everything_and_records_it_once(fresh_resources, settings, capsys):
    call_command("setup_aws")
    repair = InfrastructureRepair.objects.get()
    assert (repair.process, repair.trigger) == ("setup_aws", "manage.py setup_aws")
    assert repair.changes == [
        f"created bucket {settings.S3_BUCKET}",
        f"set the CORS rule of bucket {settings.S3_BUCKET}",
        f"set the lifecycle rule of bucket {settings.S3_BUCKET}",
        f"created queue {sqs_dead_letter_queue_name('scoring')}",
        f"created queue {sqs_queue_name('scoring')}",
    ]
    assert f"created queue {sqs_queue_name('scoring')}" in capsys.readouterr().out

    assert infrastructure.aws_ensure(trigger="again") == []  # all in place: nothing done, nothing recorded
    assert InfrastructureRepair.objects.count() == 1


def test_an_unreachable_aws_is_one_warning_and_no_exception(settings, caplog):
    settings.AWS_ENDPOINT_URL = DEAD_ENDPOINT
    with caplog.at_level(logging.WARNING, logger="jobs.infrastructure"):
        assert infrastructure.aws_ensure_guarded(trigger="relay start") is None
    [record] = caplog.records
    assert "could not check the S3 bucket and SQS queues (relay start)" in record.getMessage()
    assert record.exc_info is None
    assert not InfrastructureRepair.objects.exists()


def test_readiness_and_the_dashboard_say_what_was_repaired(fresh_resources, settings, monkeypatch, client):
    infrastructure.aws_ensure(trigger="periodic check")
    monkeypatch.setitem(health._cache, "at", -health.CACHE_SECONDS)

    body = APIClient().get("/health/ready").json()

    assert body["status"] == "ready"
    [repair] = body["repairs"]
    assert repair["trigger"] == "periodic check"
    assert f"created queue {sqs_queue_name('scoring')}" in repair["changes"]
    assert f"created bucket {settings.S3_BUCKET}" in repair["changes"]

    client.force_login(staff_in("Job viewers", "viewer"))
    page = client.get(reverse("admin:jobs_scoringjob_dashboard")).content.decode()
    assert 'id="infrastructure-repairs"' in page
    assert f"created queue {sqs_queue_name('scoring')}" in page and "periodic check" in page


def test_readiness_lists_no_repairs_when_there_were_none(aws_resources, monkeypatch):
    monkeypatch.setitem(health._cache, "at", -health.CACHE_SECONDS)
    assert APIClient().get("/health/ready").json()["repairs"] == []
