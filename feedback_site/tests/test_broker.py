import json
import uuid
from base64 import b64decode

import dramatiq
import pytest

from feedback_site.broker import (
    MAX_SQS_DELAY_MS,
    BoundedRetries,
    Broker,
    ensure_queues,
    queues_ensure,
    sqs_dead_letter_queue_name,
    sqs_queue_name,
)
from jobs.models import InfrastructureRepair


def test_queues_have_a_dead_letter_queue_and_the_configured_visibility(sqs, settings):
    urls = ensure_queues(["probe"], client=sqs)
    main_url = urls[f"{settings.SQS_QUEUE_PREFIX}_probe"]
    dlq_url = urls[sqs_dead_letter_queue_name("probe")]
    attributes = sqs.get_queue_attributes(QueueUrl=main_url, AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == settings.SQS_MAX_RECEIVE_COUNT
    assert int(attributes["VisibilityTimeout"]) == settings.SQS_VISIBILITY_TIMEOUT
    # Running it again changes nothing and raises nothing.
    assert ensure_queues(["probe"], client=sqs) == urls


def test_message_received_too_often_moves_to_the_dead_letter_queue(sqs, settings):
    settings.SQS_MAX_RECEIVE_COUNT = 1
    urls = ensure_queues(["poison"], client=sqs)
    main_url, dlq_url = urls[f"{settings.SQS_QUEUE_PREFIX}_poison"], urls[sqs_dead_letter_queue_name("poison")]
    sqs.send_message(QueueUrl=main_url, MessageBody="crashes its worker")
    first = sqs.receive_message(QueueUrl=main_url, VisibilityTimeout=1, WaitTimeSeconds=1)
    assert len(first["Messages"]) == 1  # received once, never deleted (the worker "crashed")
    moved = []
    for _ in range(10):
        sqs.receive_message(QueueUrl=main_url, WaitTimeSeconds=1)
        moved = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
        if moved:
            break
    assert [m["Body"] for m in moved] == ["crashes its worker"]


def test_broker_uses_our_visibility_timeout_and_dead_letters(settings):
    broker = dramatiq.get_broker()
    assert isinstance(broker, Broker)
    assert broker.visibility_timeout == settings.SQS_VISIBILITY_TIMEOUT < 43200
    assert broker.dead_letter is True


@pytest.mark.parametrize("asked", [None, 7 * 86400 * 1000, 1_000_000])
def test_retry_backoff_never_exceeds_what_sqs_accepts(asked):
    assert BoundedRetries(max_backoff=asked).max_backoff <= MAX_SQS_DELAY_MS


def test_configured_retries_middleware_is_bounded():
    retries = [m for m in dramatiq.get_broker().middleware if isinstance(m, BoundedRetries)]
    assert len(retries) == 1 and retries[0].max_backoff <= MAX_SQS_DELAY_MS


# --- never a bare queue: missing queues are created with their whole configuration ---


@pytest.fixture
def own_prefix(settings, sqs):
    """A queue namespace of this test's own, deleted afterwards."""
    settings.SQS_QUEUE_PREFIX = f"{settings.SQS_QUEUE_PREFIX}_bare{uuid.uuid4().hex[:6]}"
    yield settings.SQS_QUEUE_PREFIX
    for url in sqs.list_queues(QueueNamePrefix=settings.SQS_QUEUE_PREFIX).get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)


def _assert_fully_configured(sqs, queue_name: str, settings) -> None:
    main_url = sqs.get_queue_url(QueueName=sqs_queue_name(queue_name))["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=sqs_dead_letter_queue_name(queue_name))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=main_url, AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn
    assert int(attributes["VisibilityTimeout"]) == settings.SQS_VISIBILITY_TIMEOUT


def _delete(sqs, *names: str) -> None:
    for name in names:
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])


@pytest.mark.django_db  # the repair is recorded (jobs/infrastructure.py)
def test_consuming_a_missing_queue_creates_it_with_its_dead_letter_queue(sqs, settings, own_prefix):
    broker = Broker(middleware=[])
    broker.declare_queue("probe")
    consumer = broker.consume("probe", timeout=1000)  # dramatiq-sqs alone would create a bare queue here
    _assert_fully_configured(sqs, "probe", settings)
    consumer.close()
    repair = InfrastructureRepair.objects.get()
    assert repair.trigger == f"queue missing (lookup of {sqs_queue_name('probe')})"
    assert repair.changes == [f"created queue {sqs_dead_letter_queue_name('probe')}",
                              f"created queue {sqs_queue_name('probe')}"]


@pytest.mark.django_db  # the repair is recorded (jobs/infrastructure.py)
def test_sending_to_a_deleted_queue_recreates_it_fully_and_sends(sqs, settings, own_prefix):
    broker = Broker(middleware=[])
    broker.declare_queue("probe")
    broker.enqueue(dramatiq.Message(queue_name="probe", actor_name="a", args=(), kwargs={}, options={}))
    _delete(sqs, sqs_queue_name("probe"), sqs_dead_letter_queue_name("probe"))

    broker.enqueue(dramatiq.Message(queue_name="probe", actor_name="a", args=("after",), kwargs={}, options={}))

    _assert_fully_configured(sqs, "probe", settings)
    url = sqs.get_queue_url(QueueName=sqs_queue_name("probe"))["QueueUrl"]
    bodies = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(b64decode(m["Body"]))["args"] for m in bodies] == [["after"]]


@pytest.mark.django_db  # the repair is recorded (jobs/infrastructure.py)
def test_receiving_from_a_deleted_queue_recreates_it_fully(sqs, settings, own_prefix):
    broker = Broker(middleware=[])
    broker.declare_queue("probe")
    consumer = broker.consume("probe", timeout=1000)
    _delete(sqs, sqs_queue_name("probe"), sqs_dead_letter_queue_name("probe"))

    assert next(consumer) is None  # SQS said the queue does not exist: re-created, nothing received

    _assert_fully_configured(sqs, "probe", settings)
    consumer.close()


def test_queues_ensure_reports_what_it_changed_and_nothing_when_all_is_in_place(sqs, settings, own_prefix):
    first = queues_ensure(["probe"], client=sqs)
    assert first.changes == [f"created queue {sqs_dead_letter_queue_name('probe')}",
                             f"created queue {sqs_queue_name('probe')}"]
    assert queues_ensure(["probe"], client=sqs).changes == []
    main_url = first.urls[sqs_queue_name("probe")]
    sqs.set_queue_attributes(QueueUrl=main_url, Attributes={"VisibilityTimeout": "999", "RedrivePolicy": ""})

    assert queues_ensure(["probe"], client=sqs).changes == [
        f"set RedrivePolicy, VisibilityTimeout of queue {sqs_queue_name('probe')}"
    ]
    _assert_fully_configured(sqs, "probe", settings)
