"""The Dramatiq broker on Amazon SQS, configured in one place.

dramatiq-sqs has sharp edges that this module files down:
- its default visibility timeout is 12 hours and never extended: we set it
  from SQS_VISIBILITY_TIMEOUT so a killed worker's message returns quickly;
- ``nack`` deletes the message unless ``dead_letter=True``: we turn it on;
- it creates queues without a RedrivePolicy: ``ensure_queues`` creates them
  first, so a message that keeps crashing its worker ends in the dead-letter
  queue instead of looping until retention ends;
- a retry delay over 900 s is silently dropped: ``BoundedRetries`` caps it.
"""

import json

from django.conf import settings
from dramatiq.middleware import Retries
from dramatiq_sqs import SQSBroker

from feedback_site import aws

# SQS refuses DelaySeconds above 900; dramatiq-sqs raises and the message is lost.
MAX_SQS_DELAY_MS = 900_000


def sqs_queue_name(queue_name: str) -> str:
    """The SQS name of a Dramatiq queue (dramatiq-sqs prefixes the namespace)."""
    return f"{settings.SQS_QUEUE_PREFIX}_{queue_name}"


def sqs_dead_letter_queue_name(queue_name: str) -> str:
    return f"{sqs_queue_name(queue_name)}_dlq"


class Broker(SQSBroker):
    """SQSBroker with our namespace, dead-lettering and visibility timeout."""

    def __init__(self, *, middleware=None, **options):
        super().__init__(
            namespace=settings.SQS_QUEUE_PREFIX,
            middleware=middleware,
            dead_letter=True,
            visibility_timeout=settings.SQS_VISIBILITY_TIMEOUT,
            **aws.aws_options(),
            **options,
        )


class BoundedRetries(Retries):
    """Dramatiq's Retries with every delay inside SQS's 15-minute limit."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_retries", 5)
        kwargs.setdefault("min_backoff", 1_000)
        kwargs["max_backoff"] = min(kwargs.get("max_backoff") or MAX_SQS_DELAY_MS, MAX_SQS_DELAY_MS)
        super().__init__(**kwargs)


def ensure_queues(queue_names: list[str], client=None) -> dict[str, str]:
    """Create each queue and its dead-letter queue with a RedrivePolicy.

    Idempotent: existing queues get their attributes set again, so a changed
    visibility timeout or receive count takes effect at the next start.
    Returns the queue URLs by SQS name.
    """
    client = client or aws.client("sqs")
    urls = {}
    for name in queue_names:
        dlq_name = sqs_dead_letter_queue_name(name)
        dlq_url = client.create_queue(
            QueueName=dlq_name, Attributes={"MessageRetentionPeriod": str(14 * 86400)}
        )["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        main_name = sqs_queue_name(name)
        main_url = client.create_queue(QueueName=main_name)["QueueUrl"]
        client.set_queue_attributes(
            QueueUrl=main_url,
            Attributes={
                "MessageRetentionPeriod": str(14 * 86400),
                "VisibilityTimeout": str(settings.SQS_VISIBILITY_TIMEOUT),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.SQS_MAX_RECEIVE_COUNT)}
                ),
            },
        )
        urls[main_name] = main_url
        urls[dlq_name] = dlq_url
    return urls
