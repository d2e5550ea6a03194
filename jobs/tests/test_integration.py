"""The real path: PostgreSQL → SQS (LocalStack) → a `rundramatiq` process → PostgreSQL."""

import json
from base64 import b64decode

import pytest

from conftest import wait_until
from jobs.models import ScoringJob
from jobs.services import submission_submit
from submissions.tests.factories import SubmissionFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _messages_naming(sqs, queue_url, job_id) -> list[dict]:
    # VisibilityTimeout=0 peeks: the message is visible again at once.
    response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    bodies = [json.loads(b64decode(m["Body"])) for m in response.get("Messages", [])]
    return [b for b in bodies if b["args"] == [str(job_id)]]


def test_submitted_job_goes_through_sqs_to_a_real_worker_and_is_scored(sqs, scoring_queue_url, start_worker):
    submission = SubmissionFactory(source_code="def f(x):\n    return x * 2\n")
    job = submission_submit(submission_id=submission.pk, user=submission.owner)

    # No worker yet: the job waits in QUEUED and its message waits in SQS.
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.QUEUED
    assert job.dispatched_at is not None
    assert len(_messages_naming(sqs, scoring_queue_url, job.pk)) == 1

    worker = start_worker()
    try:
        wait_until(
            lambda: ScoringJob.objects.filter(pk=job.pk, status=ScoringJob.Status.DONE).exists(),
            timeout=60,
            message="the job to reach DONE",
        )
    except AssertionError:
        raise AssertionError(f"job not scored; worker log:\n{worker.log()}") from None
    job.refresh_from_db()
    assert job.result is not None and 0 <= job.result.total <= 100
    assert job.attempts == 1
    # The worker acknowledged the message after recording the result.
    wait_until(
        lambda: sqs.get_queue_attributes(
            QueueUrl=scoring_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"},
        timeout=20,
        message="the queue to be empty",
    )
