"""The AWS state the site needs, ensured in one place.

The S3 bucket (private, CORS for browser uploads, the lifecycle rule that
expires abandoned uploads: submissions/storage.py) and the SQS scoring queue
with its dead-letter queue, redrive policy and visibility timeout
(feedback_site/broker.py) are created if missing and put right if they
differ, always with their whole configuration. ``manage.py setup_aws`` runs
it; so do the relay and the workers at start, the relay on a schedule, and the
broker whenever SQS says the scoring queue does not exist. Nothing needs a
manual step after the emulator (or an operator) wipes the queues or the bucket.

Every change is logged and recorded as an ``InfrastructureRepair`` row, which
the dashboard and /health/ready show.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DatabaseError
from django.utils import timezone

from feedback_site import aws, broker, health
from jobs.models import InfrastructureRepair
from submissions import storage

logger = logging.getLogger(__name__)

# What this process is, for the record of its repairs ("web" unless a command says otherwise).
_process = {"name": "web"}
RECENT = timedelta(hours=24)


def set_process_name(name: str) -> None:
    _process["name"] = name


def aws_ensure(*, trigger: str, quick: bool = False) -> list[str]:
    """Create or put right the bucket and the queues; return (and record) what changed.

    ``quick``: short timeouts and one retry, for a process whose real work
    must not wait on an AWS that is away (the relay's periodic check).
    Raises what S3 or SQS raise: a caller that must carry on uses ``aws_ensure_guarded``."""
    changes: list[str] = []
    try:
        changes += storage.ensure_bucket(client=aws.client("s3", quick=True) if quick else None)
        changes += broker.queues_ensure([broker.SCORING_QUEUE], client=aws.client("sqs", quick=quick)).changes
    finally:
        # What was done before a failure was done: record it either way.
        record_repair(trigger=trigger, changes=changes)
    return changes


def aws_ensure_guarded(*, trigger: str) -> list[str] | None:
    """``aws_ensure`` (quick) for a process that must not stop over it (a
    worker or relay starting while AWS is away): a failure is one warning
    line, and the next trigger tries again. None when it failed."""
    try:
        return aws_ensure(trigger=trigger, quick=True)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not check the S3 bucket and SQS queues (%s): %s: %s",
                       trigger, type(exc).__name__, exc)
        return None


def queues_repair(queue_names: list[str], trigger: str) -> broker.QueuesState:
    """The broker's repair (installed by JobsConfig.ready): a queue it needs is missing."""
    state = broker.queues_ensure(queue_names)
    record_repair(trigger=f"queue missing ({trigger})", changes=state.changes)
    return state


def is_missing_resource(exc: BaseException) -> bool:
    """SQS's "queue does not exist" or S3's "no such bucket"."""
    return broker.is_missing_queue(exc) or storage.is_missing_bucket(exc)


def record_repair(*, trigger: str, changes: list[str]) -> None:
    if not changes:
        return
    logger.warning("repaired AWS resources (%s): %s", trigger, "; ".join(changes))
    try:
        InfrastructureRepair.objects.create(process=_process["name"], trigger=trigger[:200], changes=changes)
    except DatabaseError:
        # The repair itself is done; only its record is lost (and logged above).
        logger.warning("could not record the repair", exc_info=True)


def recent_repairs(*, limit: int = 5) -> list[InfrastructureRepair]:
    """The last repairs of the past day, newest first."""
    return list(InfrastructureRepair.objects.filter(created_at__gte=timezone.now() - RECENT)[:limit])


def repairs_for_health() -> list[dict]:
    """The recent repairs as /health/ready lists them (times and what changed;
    no host or process names: the probe is public)."""
    return [
        {"at": repair.created_at.isoformat(), "trigger": repair.trigger, "changes": repair.changes}
        for repair in recent_repairs()
    ]


def install() -> None:
    """Route the broker's queue repairs and /health/ready's report through this module."""
    broker.set_queue_repair(queues_repair)
    health.set_repairs_source(repairs_for_health)
