"""Dramatiq actors: thin entry points that take ids and call services."""

import logging

import dramatiq
import structlog

from feedback_site.broker import SCORING_QUEUE
from jobs.services import PoisonMessage, scoring_job_run

logger = logging.getLogger(__name__)



@dramatiq.actor(
    queue_name=SCORING_QUEUE,
    # Retries here cover infrastructure failures outside an attempt (the
    # database down during the claim); failures of an attempt are retried by
    # the service with its own backoff. A PoisonMessage is not retried: the
    # message is nacked into the dead-letter queue.
    max_retries=20,
    min_backoff=1_000,
    max_backoff=60_000,
    throws=(PoisonMessage,),
)
def score_job(job_id: str, trace_id: str = "") -> None:
    """Score one job. Safe to receive more than once: the claim decides."""
    with structlog.contextvars.bound_contextvars(request_id=trace_id, job_id=job_id):  # on every log line of the run
        outcome = scoring_job_run(job_id=job_id)
        logger.info("job %s trace=%s: %s", job_id, trace_id, outcome)
