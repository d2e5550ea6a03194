"""The scoring queue seen from the staff console: depths and the dead-letter queue.

One module for the SQS calls the admin and /metrics make. A message in the
dead-letter queue is what dramatiq-sqs sent there when the actor gave up on it:
the base64 of dramatiq's JSON message, whose args are ``[job_id]``.

Peeking receives messages with a short visibility timeout (so paging through
the queue does not see the same message twice) and then makes them visible
again at once. Redriving sends the body back to the scoring queue unchanged and
deletes it from the dead-letter queue; the worker then claims the job only if
it is QUEUED, so for a job in ERROR the way back is a staff retry (which sends
a fresh message), not a redrive.
"""

import base64
import functools
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from feedback_site import aws
from feedback_site.broker import SCORING_QUEUE, sqs_dead_letter_queue_name, sqs_queue_name

logger = logging.getLogger(__name__)

PEEK_LIMIT = 100
REDRIVE_LIMIT = 10_000
# Long enough to page through PEEK_LIMIT messages; they are made visible again at the end.
PEEK_VISIBILITY_SECONDS = 30
_BATCH = 10  # SQS's maximum per receive/send/delete call


class QueueUnavailable(Exception):
    """SQS did not answer (or refused): the console shows it instead of failing."""


@dataclass
class QueueDepth:
    name: str
    visible: int
    in_flight: int
    delayed: int


@dataclass
class DeadLetter:
    message_id: str
    job_id: str | None
    body: str
    sent_at: datetime | None
    receive_count: int


# --- client ------------------------------------------------------------------------

def client():
    # The app's boto3 config retries five times with 30 s reads: right for a
    # worker, far too slow for a page or a scrape when SQS is unwell.
    return aws.client("sqs", quick=True)


@functools.lru_cache(maxsize=16)
def _queue_url(sqs, name: str) -> str:
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def queue_names() -> tuple[str, str]:
    """(scoring queue name, dead-letter queue name) in SQS."""
    return sqs_queue_name(SCORING_QUEUE), sqs_dead_letter_queue_name(SCORING_QUEUE)


def queue_urls() -> tuple[str, str]:
    """(scoring queue URL, dead-letter queue URL)."""
    sqs = client()
    main, dead = queue_names()
    return _queue_url(sqs, main), _queue_url(sqs, dead)


def _guarded(operation):
    @functools.wraps(operation)
    def wrapper(*args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except QueueUnavailable:
            raise
        except Exception as exc:  # botocore's ClientError, connection and timeout errors alike
            logger.warning("SQS %s failed: %s", operation.__name__, exc)
            _queue_url.cache_clear()  # a deleted and recreated queue gets a new URL
            raise QueueUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return wrapper


# --- depths ------------------------------------------------------------------------

@_guarded
def queue_depths() -> dict[str, QueueDepth]:
    """Approximate message counts of the scoring queue ("main") and its dead-letter queue ("dead")."""
    sqs = client()
    depths = {}
    for key, url in zip(("main", "dead"), queue_urls(), strict=True):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                            "ApproximateNumberOfMessagesDelayed"],
        )["Attributes"]
        depths[key] = QueueDepth(
            name=url.rsplit("/", 1)[-1],
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )
    return depths


# --- the dead-letter queue ------------------------------------------------------------

def job_id_of(body: str) -> str | None:
    """The job a dramatiq-sqs message body names, or None if it is not one of ours."""
    try:
        message = json.loads(base64.b64decode(body, validate=True))
        job_id = message["args"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return job_id if isinstance(job_id, str) else None


def _dead_letter(message: dict) -> DeadLetter:
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        job_id=job_id_of(message["Body"]),
        body=message["Body"],
        sent_at=datetime.fromtimestamp(int(sent) / 1000, tz=UTC) if sent else None,
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
    )


def _receive_all(sqs, url: str, *, limit: int, wanted: set[str] | None = None) -> list[dict]:
    """Up to ``limit`` distinct messages, each held invisible until released or deleted.

    With ``wanted``, stops as soon as every message named there has been seen.
    """
    expected = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                   ["Attributes"]["ApproximateNumberOfMessages"])
    seen: dict[str, dict] = {}
    empty_polls = 0
    # Short polls may answer empty while messages exist (AWS samples its
    # servers); two empty answers in a row, or as many as SQS counted, end it.
    while len(seen) < min(limit, max(expected, 1)) and empty_polls < 2:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(_BATCH, limit - len(seen)),
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS, WaitTimeSeconds=0,
            MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        empty_polls = 0 if messages else empty_polls + 1
        for message in messages:
            seen.setdefault(message["MessageId"], message)
        if wanted is not None and wanted <= seen.keys():
            break
    return list(seen.values())


def _release(sqs, url: str, messages: list[dict]) -> None:
    """Make received messages visible again at once: a peek must not hide them."""
    for start in range(0, len(messages), _BATCH):
        batch = messages[start:start + _BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                     for i, m in enumerate(batch)],
        )


@_guarded
def peek(*, limit: int = PEEK_LIMIT) -> list[DeadLetter]:
    """The messages in the dead-letter queue (up to ``limit``), oldest first, left in place."""
    sqs = client()
    _, dead_url = queue_urls()
    messages = _receive_all(sqs, dead_url, limit=limit)
    try:
        letters = [_dead_letter(m) for m in messages]
    finally:
        _release(sqs, dead_url, messages)
    return sorted(letters, key=lambda letter: (letter.sent_at or datetime.min.replace(tzinfo=UTC), letter.message_id))


def _move(sqs, main_url: str, dead_url: str, messages: list[dict]) -> list[DeadLetter]:
    """Send each message to the scoring queue, then delete it from the dead-letter queue."""
    moved = []
    for start in range(0, len(messages), _BATCH):
        batch = messages[start:start + _BATCH]
        sent = sqs.send_message_batch(
            QueueUrl=main_url, Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(batch)]
        )
        ok = [batch[int(entry["Id"])] for entry in sent.get("Successful", [])]
        if ok:
            # Deleted only once sent: a failure in between leaves a copy in
            # both queues, which the claim makes harmless; never none.
            sqs.delete_message_batch(
                QueueUrl=dead_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ok)],
            )
        moved.extend(_dead_letter(m) for m in ok)
    return moved


@_guarded
def redrive(*, message_ids: set[str] | None = None) -> list[DeadLetter]:
    """Move the named messages (None: all, up to REDRIVE_LIMIT) back to the scoring queue."""
    sqs = client()
    main_url, dead_url = queue_urls()
    if message_ids is None:
        moved: list[DeadLetter] = []
        while len(moved) < REDRIVE_LIMIT:
            batch = _receive_all(sqs, dead_url, limit=min(PEEK_LIMIT, REDRIVE_LIMIT - len(moved)))
            if not batch:
                break
            moved.extend(_move(sqs, main_url, dead_url, batch))
        return moved
    messages = _receive_all(sqs, dead_url, limit=REDRIVE_LIMIT, wanted=message_ids)
    chosen = [m for m in messages if m["MessageId"] in message_ids]
    try:
        return _move(sqs, main_url, dead_url, chosen)
    finally:
        _release(sqs, dead_url, [m for m in messages if m["MessageId"] not in message_ids])


@_guarded
def purge() -> int:
    """Empty the dead-letter queue; returns how many messages SQS counted in it.

    SQS allows one purge per queue per minute and may take up to a minute to
    finish; a second purge inside that minute is refused (QueueUnavailable).
    """
    sqs = client()
    _, dead_url = queue_urls()
    count = int(sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["ApproximateNumberOfMessages"])
                ["Attributes"]["ApproximateNumberOfMessages"])
    sqs.purge_queue(QueueUrl=dead_url)
    return count

