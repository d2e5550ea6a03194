"""The Dramatiq broker on Amazon SQS, configured in one place.

dramatiq-sqs has sharp edges that this module files down:
- its default visibility timeout is 12 hours and never extended: we set it
  from SQS_VISIBILITY_TIMEOUT so a killed worker's message returns quickly;
- ``nack`` deletes the message unless ``dead_letter=True``: we turn it on;
- it creates queues without a RedrivePolicy: ``ensure_queues`` creates them
  first, so a message that keeps crashing its worker ends in the dead-letter
  queue instead of looping until retention ends;
- a retry delay over 900 s is silently dropped: ``BoundedRetries`` caps it;
- it deletes each acknowledged message with its own call, and sleeps up to a
  second after every empty long poll: ``Consumer`` deletes in batches and
  never sleeps blindly (see its docstring; measured in bench/, README).
"""

import json
import logging
import threading
import time
from base64 import b64decode

import dramatiq
from django.conf import settings
from dramatiq.middleware import Retries
from dramatiq_sqs import SQSBroker
from dramatiq_sqs.broker import SQSConsumer, _SQSMessage

from feedback_site import aws

logger = logging.getLogger(__name__)

# The Dramatiq queue of scoring jobs (jobs.actors.score_job); SQS names it
# <SQS_QUEUE_PREFIX>_scoring, with <SQS_QUEUE_PREFIX>_scoring_dlq beside it.
SCORING_QUEUE = "scoring"

# SQS refuses DelaySeconds above 900; dramatiq-sqs raises and the message is lost.
MAX_SQS_DELAY_MS = 900_000


def sqs_queue_name(queue_name: str) -> str:
    """The SQS name of a Dramatiq queue (dramatiq-sqs prefixes the namespace)."""
    return f"{settings.SQS_QUEUE_PREFIX}_{queue_name}"


def sqs_dead_letter_queue_name(queue_name: str) -> str:
    return f"{sqs_queue_name(queue_name)}_dlq"


class Consumer(SQSConsumer):
    """dramatiq-sqs's consumer, with acknowledgements batched and no idle back-off.

    - ``ack`` frees the message's prefetch slot at once but deletes it from
      SQS in batches of up to 10 (DeleteMessageBatch), sent when ten are
      pending or the oldest has waited ``ACK_FLUSH_SECONDS`` (checked at each
      ack and before each receive), and on close. An acknowledgement is only a hint: the job's
      result is committed before it, so a delete that is late or lost (the
      process killed with acks pending) only means a redelivery, which the
      claim turns into a harmless duplicate.
    - dramatiq-sqs sleeps after every empty receive, growing to a whole
      second, although the long poll already waited: a job submitted to an
      idle worker waited for that sleep. Here an empty long poll just
      returns, and a consumer whose prefetch slots are all busy waits for a
      slot to be freed instead of sleeping blindly.
    """

    ACK_BATCH = 10  # SQS's limit per DeleteMessageBatch
    ACK_FLUSH_SECONDS = 0.2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self._pending: list = []
        self._pending_since = 0.0

    def ack(self, message) -> None:
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(message)
            self._free_slot()
            due = len(self._pending) >= self.ACK_BATCH or self._flush_due()
        if due:
            self.flush_acks()

    def nack(self, message) -> None:
        if self.dead_letter_queue is not None:
            self.dead_letter_queue.send_message(MessageBody=message._sqs_message.body)
        message._sqs_message.delete()
        with self._lock:
            self._free_slot()

    def requeue(self, messages) -> None:
        super().requeue(messages)
        with self._lock:
            self._slot_freed.notify_all()

    def _free_slot(self) -> None:
        # Called with the lock held: worker threads ack concurrently.
        self.message_refc -= 1
        self._slot_freed.notify()

    def _flush_due(self) -> bool:
        return bool(self._pending) and time.monotonic() - self._pending_since >= self.ACK_FLUSH_SECONDS

    def flush_acks(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        for start in range(0, len(batch), self.ACK_BATCH):
            chunk = batch[start:start + self.ACK_BATCH]
            try:
                response = self.queue.delete_messages(Entries=[
                    {"Id": str(i), "ReceiptHandle": m._sqs_message.receipt_handle} for i, m in enumerate(chunk)
                ])
            except Exception:
                logger.warning("could not delete %d acknowledged message(s); they will be redelivered "
                               "and recognised as duplicates", len(chunk), exc_info=True)
                continue
            for failure in response.get("Failed", []):
                logger.warning("SQS refused to delete an acknowledged message (%s); it will be redelivered "
                               "and recognised as a duplicate", failure.get("Code"))

    def close(self) -> None:
        self.flush_acks()
        super().close()

    def __next__(self):
        with self._lock:
            due = self._flush_due()
        if due:
            self.flush_acks()
        if self.messages:
            self.misses = 0
            return self.messages.popleft()
        with self._lock:
            free = self.prefetch - self.message_refc
            if free <= 0:
                # Every slot is in a worker's hands: wait until one is freed.
                self._slot_freed.wait(timeout=max(self.wait_time_seconds, 1))
                return None
        options = {"MaxNumberOfMessages": max(1, min(free, self.prefetch)), "WaitTimeSeconds": self.wait_time_seconds}
        if self.visibility_timeout is not None:
            options["VisibilityTimeout"] = self.visibility_timeout
        for sqs_message in self.queue.receive_messages(**options):
            try:
                message = dramatiq.Message.decode(b64decode(sqs_message.body))
            except Exception:
                logger.exception("Failed to decode message: %r", sqs_message.body)
                continue
            self.messages.append(_SQSMessage(sqs_message, message))
            with self._lock:
                self.message_refc += 1
        if self.messages:
            return self.messages.popleft()
        if not self.wait_time_seconds:
            time.sleep(0.1)  # no long poll to pace an empty queue
        return None


class Broker(SQSBroker):
    """SQSBroker with our namespace, dead-lettering, visibility timeout and consumer."""

    @property
    def consumer_class(self):
        return Consumer

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
