"""Acceptance 4 of issue 15: the queues and the bucket wiped under a running
worker and relay come back by themselves, fully configured, and work goes on."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import wait_until
from feedback_site.broker import SCORING_QUEUE, ensure_queues, sqs_dead_letter_queue_name, sqs_queue_name
from jobs.models import InfrastructureRepair, ScoringJob
from jobs.tests.factories import queued_job
from submissions.storage import ensure_bucket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MAIN, DEAD = sqs_queue_name(SCORING_QUEUE), sqs_dead_letter_queue_name(SCORING_QUEUE)


def _wipe(s3, sqs, bucket: str) -> None:
    for name in (MAIN, DEAD):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


def _configured(s3, sqs, bucket: str) -> dict | None:
    """Everything as it must be, or None while something is still missing."""
    try:
        main_url = sqs.get_queue_url(QueueName=MAIN)["QueueUrl"]
        dead_url = sqs.get_queue_url(QueueName=DEAD)["QueueUrl"]
        return {
            "main": sqs.get_queue_attributes(QueueUrl=main_url, AttributeNames=["All"])["Attributes"],
            "dead": sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["All"])["Attributes"],
            "cors": s3.get_bucket_cors(Bucket=bucket)["CORSRules"],
            "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        }
    except ClientError:
        return None


def test_wiped_queues_and_bucket_come_back_fully_configured_and_a_job_then_gets_done(
    s3, sqs, settings, start_worker, start_relay,
):
    worker = start_worker()
    relay = start_relay(env={"MAINTENANCE_AWS_CHECK_SECONDS": "1"})
    wait_until(lambda: "relay started" in relay.log() and "worker consuming" in worker.log(), timeout=90,
               message="the worker and the relay to run")
    try:
        _wipe(s3, sqs, settings.S3_BUCKET)
        assert _configured(s3, sqs, settings.S3_BUCKET) is None

        try:
            state = wait_until(lambda: _configured(s3, sqs, settings.S3_BUCKET), timeout=60,
                               message="the queues and the bucket to be re-created")
        except AssertionError:
            raise AssertionError(f"not repaired; relay log:\n{relay.log()}\nworker log:\n{worker.log()}") from None

        # The whole configuration, not a bare queue.
        redrive = json.loads(state["main"]["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == state["dead"]["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == settings.SQS_MAX_RECEIVE_COUNT
        assert int(state["main"]["VisibilityTimeout"]) == settings.SQS_VISIBILITY_TIMEOUT
        assert state["cors"][0]["AllowedOrigins"] == settings.S3_CORS_ORIGINS
        assert state["lifecycle"][0]["ID"] == "expire-abandoned-uploads"

        # Work goes on with no manual step.
        job = queued_job(source_code="def double(x):\n    return x * 2\n")
        wait_until(lambda: ScoringJob.objects.filter(pk=job.pk, status=ScoringJob.Status.DONE).exists(),
                   timeout=60, message="the job submitted after the repair to reach DONE")

        # Recorded, for the dashboard and /health/ready.
        repairs = list(InfrastructureRepair.objects.all())
        assert {r.process for r in repairs} <= {"worker", "relay"}
        changes = {change for repair in repairs for change in repair.changes}
        assert {f"created queue {MAIN}", f"created queue {DEAD}", f"created bucket {settings.S3_BUCKET}"} <= changes
    finally:
        # Whatever happened, leave the session's resources as the other tests expect them.
        ensure_bucket()
        ensure_queues([SCORING_QUEUE])
