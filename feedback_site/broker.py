"""The Dramatiq broker on Amazon SQS, configured in one place.

dramatiq-sqs has sharp edges that this module files down:
- its default visibility timeout is 12 hours and never extended: we set it
  from SQS_VISIBILITY_TIMEOUT so a killed worker's message returns quickly;
- ``nack`` deletes the message unless ``dead_letter=True``: we turn it on;
- it creates a missing queue bare (no RedrivePolicy, its own retention):
  ``Broker`` never lets it; a missing queue is created by ``ensure_queues``
  with its whole configuration (dead-letter queue, redrive policy,
  visibility timeout), at start and whenever SQS says the queue does not
  exist (on send and on receive), so a message that keeps crashing its
  worker ends in the dead-letter queue instead of looping until retention ends;
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
from collections.abc import Callable
from dataclasses import dataclass, field

import dramatiq
from botocore.exceptions import ClientError
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


# What SQS answers for a queue that does not exist (the JSON and the query protocol).
MISSING_QUEUE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


def is_missing_queue(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in MISSING_QUEUE_CODES


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

    # Seconds to wait after a failed repair before receiving again.
    REPAIR_PAUSE_SECONDS = 1.0

    def __init__(self, *args, repair_queues: Callable[[str], object] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.repair_queues = repair_queues
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

    def _repair(self) -> None:
        # The queue was deleted under us: re-create it (same name, same URL)
        # with its whole configuration, then receive again.
        try:
            self.repair_queues("receive")
        except Exception as exc:
            logger.warning("the scoring queue is missing and could not be re-created (%s: %s); trying again",
                           type(exc).__name__, exc)
            time.sleep(self.REPAIR_PAUSE_SECONDS)

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
        try:
            received = self.queue.receive_messages(**options)
        except ClientError as exc:
            if not is_missing_queue(exc) or self.repair_queues is None:
                raise
            self._repair()
            return None
        for sqs_message in received:
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


def _ensure_queues_unrecorded(queue_names: list[str], trigger: str) -> "QueuesState":
    return queues_ensure(queue_names)


# Called by the broker when a queue is missing: ``(dramatiq queue names,
# trigger) -> QueuesState``. The jobs app installs one that also records the
# repair (jobs/infrastructure.py); this package knows no app.
_queue_repair: Callable[[list[str], str], object] = _ensure_queues_unrecorded


def set_queue_repair(repair: Callable[[list[str], str], object] | None) -> None:
    """Install what the broker calls to re-create missing queues (None: the default, unrecorded)."""
    global _queue_repair
    _queue_repair = repair or _ensure_queues_unrecorded


class Broker(SQSBroker):
    """SQSBroker with our namespace, dead-lettering, visibility timeout and
    consumer, which never creates a queue itself: a missing queue is created
    with its whole configuration by ``ensure_queues`` (through the installed
    repair), on consume, on send and on receive."""

    @property
    def consumer_class(self):
        return Consumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 20_000):
        consumer = super().consume(queue_name, prefetch, timeout)
        consumer.repair_queues = lambda trigger: self.repair_queues(f"{trigger} on {queue_name}")
        return consumer

    def enqueue(self, message, *, delay=None):
        try:
            return super().enqueue(message, delay=delay)
        except ClientError as exc:
            if not is_missing_queue(exc):
                raise
        # Deleted under us: re-create it with its configuration and send once more.
        self.repair_queues(f"send on {message.queue_name}")
        return super().enqueue(message, delay=delay)

    def repair_queues(self, trigger: str):
        """Create whatever is missing of this broker's queues, fully configured."""
        return _queue_repair(sorted(self.queue_names), trigger)

    def _get_or_create_sqs_queue(self, sqs_queue_name: str, *, message_retention_period: int, tags=None):
        # dramatiq-sqs would create a bare queue here (no RedrivePolicy, no
        # visibility timeout): look it up only, and if it is missing, let
        # ensure_queues create the whole set first.
        not_found = self.sqs.meta.client.exceptions.QueueDoesNotExist
        try:
            return self.sqs.get_queue_by_name(QueueName=sqs_queue_name)
        except not_found:
            self.repair_queues(f"lookup of {sqs_queue_name}")
        return self.sqs.get_queue_by_name(QueueName=sqs_queue_name)

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


# Fourteen days, SQS's maximum: a job's message outlives any outage we can ride out.
RETENTION_SECONDS = 14 * 86400


@dataclass
class QueuesState:
    """What ``queues_ensure`` found and did: each queue's URL by SQS name, and
    a line per change (a queue created, attributes put right)."""

    urls: dict[str, str] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


def desired_dead_letter_attributes() -> dict[str, str]:
    return {"MessageRetentionPeriod": str(RETENTION_SECONDS)}


def desired_queue_attributes(*, dead_letter_arn: str) -> dict[str, str]:
    return {
        "MessageRetentionPeriod": str(RETENTION_SECONDS),
        "VisibilityTimeout": str(settings.SQS_VISIBILITY_TIMEOUT),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(settings.SQS_MAX_RECEIVE_COUNT)}
        ),
    }


def _same_attribute(name: str, actual: str | None, desired: str) -> bool:
    if actual is None:
        return False
    if name == "RedrivePolicy":  # JSON: SQS may answer maxReceiveCount as a number
        try:
            actual_policy = json.loads(actual)
        except ValueError:
            return False
        return {k: str(v) for k, v in actual_policy.items()} == {k: str(v) for k, v in json.loads(desired).items()}
    return str(actual) == desired


def _ensure_queue(client, name: str, attributes: dict[str, str], changes: list[str]) -> str:
    """One queue with these attributes: created with them if missing (never
    bare, not even for a moment), put right if they differ."""
    try:
        url = client.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if not is_missing_queue(exc):
            raise
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        changes.append(f"created queue {name}")
        return url
    actual = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    wrong = {key: value for key, value in attributes.items() if not _same_attribute(key, actual.get(key), value)}
    if wrong:
        client.set_queue_attributes(QueueUrl=url, Attributes=wrong)
        changes.append(f"set {', '.join(sorted(wrong))} of queue {name}")
    return url


def queues_ensure(queue_names: list[str], client=None) -> QueuesState:
    """Each queue and its dead-letter queue, with the configuration above.

    Idempotent, and safe to run from several processes at once (creating a
    queue that exists with the same attributes is a no-op). Existing queues
    have their attributes put right, so a changed visibility timeout or
    receive count takes effect at the next start.
    """
    client = client or aws.client("sqs")
    state = QueuesState()
    for name in queue_names:
        dlq_name = sqs_dead_letter_queue_name(name)
        dlq_url = _ensure_queue(client, dlq_name, desired_dead_letter_attributes(), state.changes)
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        main_name = sqs_queue_name(name)
        state.urls[main_name] = _ensure_queue(
            client, main_name, desired_queue_attributes(dead_letter_arn=dlq_arn), state.changes
        )
        state.urls[dlq_name] = dlq_url
    return state


def ensure_queues(queue_names: list[str], client=None) -> dict[str, str]:
    """``queues_ensure``, returning the queue URLs by SQS name."""
    return queues_ensure(queue_names, client=client).urls
