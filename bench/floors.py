"""Floors: what the infrastructure itself carries on this machine, right now.

Every benchmark measures the floors it is compared with in the same run,
just before its own figures (this machine is shared and noisy: ratios, not
absolute times, are what can be compared between runs):

- SQS raw pipeline (boto3, no Django): producer threads send one message
  each call (as the app sends one per submitted job), consumer processes each
  receive up to 10 and delete them in one batch call; msgs/s from the first
  send to the last delete.
- SQS round trip: one message at a time, from send to a long-polling
  receive; the floor of the submit-to-result latency.
- PostgreSQL: single-row INSERT + COMMIT per statement (autocommit), from 1
  and from 8 connections (psycopg, one thread per connection).

    bash scripts/bench.sh floors
"""

import argparse
import base64
import multiprocessing
import os
import threading
import time
import uuid

import boto3
from botocore.config import Config

from bench.common import (
    DEFAULT_DATABASE_URL,
    Figure,
    ensure_database,
    load_average,
    percentile,
    print_figures,
    write_figures,
)

# About the size of a dramatiq-sqs message carrying a job id and a trace id.
BODY = base64.b64encode(os.urandom(260)).decode()


def _aws() -> dict:
    return {
        "endpoint_url": os.environ.get("AWS_ENDPOINT_URL") or None,
        "region_name": os.environ.get("AWS_REGION", "us-east-1"),
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "config": Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=50),
    }


def sqs_client():
    return boto3.client("sqs", **_aws())


def fresh_queue(client, name: str) -> str:
    return client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]


def _consume(queue_url: str, target: int, counter, ready, deadline: float) -> None:
    client = sqs_client()
    client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])  # connect before the clock starts
    ready.release()
    while counter.value < target and time.time() < deadline:
        messages = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if not messages:
            continue
        client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        with counter.get_lock():
            counter.value += len(messages)


def sqs_pipeline(*, messages: int, producers: int, consumers: int, timeout: float = 120.0) -> dict:
    """msgs/s through send → receive(10) → delete_batch, all running at once."""
    client = sqs_client()
    queue_url = fresh_queue(client, f"benchfloor{uuid.uuid4().hex[:12]}")
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: no boto3 state shared over fork
    counter, ready = spawn.Value("l", 0), spawn.Semaphore(0)
    deadline = time.time() + timeout
    workers = [spawn.Process(target=_consume, args=(queue_url, messages, counter, ready, deadline))
               for _ in range(consumers)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire(timeout=60)
    sent_at = []

    def produce(count: int) -> None:
        own = sqs_client()
        own.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        barrier.wait()
        for _ in range(count):
            own.send_message(QueueUrl=queue_url, MessageBody=BODY)
        sent_at.append(time.monotonic())

    barrier = threading.Barrier(producers + 1)
    shares = [messages // producers + (1 if i < messages % producers else 0) for i in range(producers)]
    threads = [threading.Thread(target=produce, args=(n,)) for n in shares]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.monotonic()
    while counter.value < messages and time.time() < deadline:
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    for t in threads:
        t.join()
    for w in workers:
        w.join(timeout=10)
        if w.is_alive():
            w.terminate()
    client.delete_queue(QueueUrl=queue_url)
    done = counter.value
    return {
        "messages": done,
        "seconds": round(elapsed, 2),
        "msgs_per_s": done / elapsed,
        "send_per_s": messages / (max(sent_at) - started) if sent_at else float("nan"),
        "producers": producers,
        "consumers": consumers,
    }


def sqs_round_trip(*, samples: int = 200) -> dict:
    """Send one message, wait until a long-polling consumer has it; repeat."""
    client = sqs_client()
    queue_url = fresh_queue(client, f"benchrtt{uuid.uuid4().hex[:12]}")
    received = threading.Event()
    stop = threading.Event()

    def consume() -> None:
        own = sqs_client()
        while not stop.is_set():
            got = own.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            for message in got:
                own.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                received.set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    time.sleep(0.5)
    times = []
    for _ in range(samples):
        received.clear()
        started = time.perf_counter()
        client.send_message(QueueUrl=queue_url, MessageBody=BODY)
        if not received.wait(10):
            continue
        times.append((time.perf_counter() - started) * 1000)
    stop.set()
    consumer.join(timeout=5)
    client.delete_queue(QueueUrl=queue_url)
    return {"samples": len(times), "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
            "p99_ms": percentile(times, 99)}


def pg_insert_rate(dsn: str, *, connections: int, seconds: float = 5.0) -> float:
    """Single-row INSERT + COMMIT per statement, from ``connections`` connections at once."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor_insert "
                     "(id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz DEFAULT now())")
        conn.execute("TRUNCATE bench_floor_insert")
    counts = [0] * connections
    barrier = threading.Barrier(connections + 1)
    stop = threading.Event()

    def insert(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            barrier.wait()
            while not stop.is_set():
                conn.execute("INSERT INTO bench_floor_insert (payload) VALUES (%s)", ["x" * 64])
                counts[i] += 1

    threads = [threading.Thread(target=insert, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.monotonic()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def pg_round_trip(dsn: str, *, samples: int = 500) -> dict:
    """SELECT 1 from one connection: the floor of any single query's latency."""
    import psycopg

    times = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(samples):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--producers", type=int, default=4, help="threads sending (the submitters)")
    parser.add_argument("--pg-seconds", type=float, default=5.0)
    parser.add_argument("--sqs-consumers", type=int, nargs="*", default=[1, 2],
                        help="consumer processes of each SQS pipeline floor (none: skip it; `make bench` "
                             "measures it in the throughput benchmark, right before each configuration)")
    args = parser.parse_args()

    dsn = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_database(dsn)
    context = {"load average before": load_average()}
    pg1 = pg_insert_rate(dsn, connections=1, seconds=args.pg_seconds)
    pg8 = pg_insert_rate(dsn, connections=8, seconds=args.pg_seconds)
    rtt_pg = pg_round_trip(dsn)
    sqs = [sqs_pipeline(messages=args.messages, producers=args.producers, consumers=c) for c in args.sqs_consumers]
    rtt = sqs_round_trip()
    context["load average after"] = load_average()
    figures = [
        Figure("PostgreSQL insert+commit, 1 connection", pg1, "rows/s"),
        Figure("PostgreSQL insert+commit, 8 connections", pg8, "rows/s"),
        Figure("PostgreSQL SELECT 1 round trip p95", rtt_pg["p95_ms"], "ms"),
        *[Figure(f"SQS send/receive10/delete-batch, {s['producers']} senders, {s['consumers']} consumer(s)",
                 s["msgs_per_s"], "msgs/s", note=f"its senders sent at {s['send_per_s']:,.0f}/s")
          for s in sqs],
        Figure("SQS round trip p50 (send -> long-poll receive)", rtt["p50_ms"], "ms"),
        Figure("SQS round trip p95", rtt["p95_ms"], "ms"),
    ]
    print_figures("Floors", figures, context=context)
    print(f"\nwritten to {write_figures('floors', figures, context=context, sqs=sqs, sqs_round_trip=rtt)}")


if __name__ == "__main__":
    main()
