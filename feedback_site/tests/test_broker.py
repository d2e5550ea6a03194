import json

import dramatiq
import pytest

from feedback_site.broker import MAX_SQS_DELAY_MS, BoundedRetries, Broker, ensure_queues, sqs_dead_letter_queue_name


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
