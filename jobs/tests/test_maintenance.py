"""Periodic maintenance inside the relay (jobs/maintenance.py): no cron needed."""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from idempotency.models import IdempotencyRecord
from jobs.maintenance import Schedule, Task
from submissions.models import PendingObjectDeletion, SubmissionFile
from submissions.tests.factories import SubmissionFileFactory, UserFactory

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_task_runs_at_its_own_interval_and_zero_turns_one_off(settings):
    settings.MAINTENANCE_AWS_CHECK_SECONDS, settings.MAINTENANCE_DELETED_FILES_SECONDS = 10, 0
    settings.MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS = 30
    runs = []
    clock = Clock()
    schedule = Schedule([
        Task("often", "MAINTENANCE_AWS_CHECK_SECONDS", lambda: runs.append("often")),
        Task("rarely", "MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS", lambda: runs.append("rarely")),
        Task("off", "MAINTENANCE_DELETED_FILES_SECONDS", lambda: runs.append("off")),
    ], clock=clock)
    schedule.postpone("often")  # as the relay does after its check at start

    for _ in range(31):
        schedule.run_due()
        clock.now += 1

    assert runs.count("often") == 3  # at 10, 20 and 30 seconds
    assert runs.count("rarely") == 2  # at once, and 30 seconds later
    assert "off" not in runs


def test_a_failing_task_is_one_line_and_stops_neither_the_others_nor_its_next_turn(settings, caplog):
    settings.MAINTENANCE_AWS_CHECK_SECONDS = settings.MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS = 5
    settings.MAINTENANCE_DELETED_FILES_SECONDS = 5
    runs = []

    def database_away():
        runs.append("database")
        raise OperationalError("the database is away")

    def bug():
        runs.append("bug")
        raise ZeroDivisionError

    clock = Clock()
    schedule = Schedule([
        Task("database", "MAINTENANCE_AWS_CHECK_SECONDS", database_away),
        Task("bug", "MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS", bug),
        Task("fine", "MAINTENANCE_DELETED_FILES_SECONDS", lambda: runs.append("fine")),
    ], clock=clock)
    with caplog.at_level(logging.WARNING, logger="jobs.maintenance"):
        outcomes = schedule.run_due()
        clock.now += 5
        schedule.run_due()

    assert runs == ["database", "bug", "fine"] * 2
    assert isinstance(outcomes["database"], OperationalError) and isinstance(outcomes["bug"], ZeroDivisionError)
    database_lines = [r for r in caplog.records if "maintenance database failed" in r.getMessage()]
    assert len(database_lines) == 2 and all(r.exc_info is None for r in database_lines)  # the outside world: one line
    bug_lines = [r for r in caplog.records if "maintenance bug failed" in r.getMessage()]
    assert len(bug_lines) == 2 and all(r.exc_info for r in bug_lines)  # a bug keeps its traceback


def test_the_relay_runs_the_maintenance_itself(s3, settings, monkeypatch):
    """`runrelay` (once) purges old idempotency keys, retries a failed S3
    deletion and rejects an abandoned upload, with no cron and no command."""
    old_key = IdempotencyRecord.objects.create(user=UserFactory(), key="k", fingerprint="f", method="POST", path="/")
    IdempotencyRecord.objects.filter(pk=old_key.pk).update(created_at=timezone.now() - timedelta(days=2))
    s3.put_object(Bucket=settings.S3_BUCKET, Key="submissions/left-behind", Body=b"x")
    PendingObjectDeletion.objects.create(key="submissions/left-behind")
    upload = SubmissionFileFactory(status=SubmissionFile.Status.PENDING)
    SubmissionFile.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.UPLOAD_ABANDONED_AFTER_SECONDS + 60)
    )
    monkeypatch.setattr("jobs.management.commands.runrelay.signal.signal", lambda *args: None)

    call_command("runrelay", "--once")

    assert not IdempotencyRecord.objects.exists()
    assert not PendingObjectDeletion.objects.filter(key="submissions/left-behind").exists()
    assert s3.list_objects_v2(Bucket=settings.S3_BUCKET, Prefix="submissions/left-behind")["KeyCount"] == 0
    upload.refresh_from_db()
    assert upload.status == SubmissionFile.Status.REJECTED
