"""Real clients of endpoints where nothing listens, for tests of outages."""

from botocore.config import Config
from django.conf import settings
from storages.backends.s3 import S3Storage

DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: connections are refused at once


def unreachable_file_storage() -> S3Storage:
    """The files' django-storages S3 storage, pointed at a dead endpoint."""
    return S3Storage(
        bucket_name=settings.S3_BUCKET, endpoint_url=DEAD_ENDPOINT, region_name="us-east-1",
        access_key="test", secret_key="test",  # noqa: S106 (LocalStack's well-known test key)
        client_config=Config(retries={"max_attempts": 1}, connect_timeout=1, s3={"addressing_style": "path"},
                             signature_version="s3v4"),
    )


def unreachable_broker():
    """Our SQS broker (with the scoring queue declared), pointed at a dead endpoint."""
    import boto3

    from feedback_site.broker import SCORING_QUEUE, Broker

    broker = Broker(middleware=[])
    broker.sqs = boto3.resource(
        "sqs", endpoint_url=DEAD_ENDPOINT, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",  # noqa: S106 (LocalStack's well-known test key)
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    broker.declare_queue(SCORING_QUEUE)
    return broker
