"""Dramatiq actors: thin entry points that take ids and call services."""

import logging

import dramatiq

from jobs.services import scoring_job_run, worker_identity

logger = logging.getLogger(__name__)

SCORING_QUEUE = "scoring"


@dramatiq.actor(queue_name=SCORING_QUEUE, max_retries=5)
def score_job(job_id: str, trace_id: str = "") -> None:
    """Score one job. Safe to receive more than once: the claim decides."""
    logger.info("scoring job %s trace=%s", job_id, trace_id)
    scoring_job_run(job_id=job_id, worker_id=worker_identity())
