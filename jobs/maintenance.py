"""Periodic maintenance inside the relay, so a site needs no cron.

Each task runs every so many seconds (settings MAINTENANCE_*_SECONDS; 0 turns
it off) between the relay's sweeps:

- ``aws_check``: the bucket and the queues exist with their whole
  configuration (jobs/infrastructure.py), re-created if they were wiped;
- ``idempotency_keys_purge``: API idempotency keys past their lifetime;
- ``abandoned_uploads_expire``: uploads left PENDING long after they started;
- ``deleted_files_purge``: S3 deletions that failed when a file was removed.

Each is the service its management command calls. A task that fails is one
log line and runs again at its next turn; it never stops the relay or the
other tasks. Several relays may run them at once: each task is safe to run
concurrently (row locks with SKIP LOCKED, idempotent S3 and SQS calls).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import DatabaseError, connection

from idempotency.services import idempotency_records_purge
from jobs import infrastructure
from submissions.housekeeping import submission_files_abandoned_expire
from submissions.services import pending_object_deletions_purge

logger = logging.getLogger(__name__)

# Failures of the outside world (AWS, the database): one line, no traceback.
_EXPECTED = (BotoCoreError, ClientError, DatabaseError)


@dataclass
class Task:
    name: str
    interval_setting: str  # seconds between runs; 0 = off
    run: Callable[[], object]
    due: float = 0.0  # time.monotonic() of its next run

    @property
    def interval(self) -> int:
        return getattr(settings, self.interval_setting)


def default_tasks() -> list[Task]:
    return [
        Task("aws_check", "MAINTENANCE_AWS_CHECK_SECONDS",
             lambda: infrastructure.aws_ensure(trigger="periodic check", quick=True)),
        Task("idempotency_keys_purge", "MAINTENANCE_IDEMPOTENCY_PURGE_SECONDS", idempotency_records_purge),
        # Before the deletions: the objects of the uploads it rejects go in the same round.
        Task("abandoned_uploads_expire", "MAINTENANCE_ABANDONED_UPLOADS_SECONDS", submission_files_abandoned_expire),
        Task("deleted_files_purge", "MAINTENANCE_DELETED_FILES_SECONDS", pending_object_deletions_purge),
    ]


class Schedule:
    """Runs the tasks that are due; the relay calls ``run_due`` after each sweep."""

    def __init__(self, tasks: list[Task], *, clock: Callable[[], float] = time.monotonic):
        self.tasks, self.clock = tasks, clock

    def postpone(self, name: str) -> None:
        """Count a task as just run (the relay checked AWS at start)."""
        for task in self.tasks:
            if task.name == name:
                task.due = self.clock() + task.interval

    def run_due(self) -> dict[str, object]:
        """Run each due task once; returns what each returned, or the exception it raised."""
        outcomes = {}
        for task in self.tasks:
            if task.interval <= 0 or self.clock() < task.due:
                continue
            outcomes[task.name] = self._run(task)
            task.due = self.clock() + task.interval
        return outcomes

    def _run(self, task: Task) -> object:
        try:
            outcome = task.run()
        except _EXPECTED as exc:
            logger.warning("maintenance %s failed (%s: %s); next try in %ss",
                           task.name, type(exc).__name__, exc, task.interval)
            if isinstance(exc, DatabaseError):
                connection.close()  # a fresh connection next time
            return exc
        except Exception as exc:
            logger.exception("maintenance %s failed; next try in %ss", task.name, task.interval)
            return exc
        if outcome:
            logger.info("maintenance %s: %s", task.name, outcome)
        return outcome
