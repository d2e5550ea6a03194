"""Submit-to-result latency on an idle system: 200 submissions one after the
other, each submitted through the service layer and waited for until its job
is DONE, with one worker process (default threads) waiting on an empty queue.

Latency = the job's finished_at minus the moment submission_submit was
called (same clock). Also splits it: the submit call, the wait until a worker
claimed the job, and the run. The floor, measured first in the same run, is
the raw SQS round trip (boto3 send until a long-polling receive has it).

    bash scripts/bench.sh latency [--samples 200]
"""

import argparse
import time

from bench.common import Figure, load_average, percentile, print_figures, run_id, setup_django, write_figures
from bench.floors import sqs_round_trip
from bench.pipeline import log_dir, park_leftover_jobs, ready_submissions, start_relay, start_workers, wait_ready


def measure(pairs: list[tuple], *, gap: float = 0.05, timeout: float = 30.0) -> dict[str, list[float]]:
    from jobs.models import ScoringJob
    from jobs.services import submission_submit

    out = {"total": [], "submit": [], "queue": [], "run": []}
    for submission_id, owner in pairs:
        time.sleep(gap)  # idle between submissions: every one meets a waiting worker
        started = time.time()
        job = submission_submit(submission_id=submission_id, user=owner)
        submitted = time.time()
        deadline = time.monotonic() + timeout
        row = None
        while time.monotonic() < deadline:
            row = ScoringJob.objects.filter(pk=job.pk).values("status", "started_at", "finished_at").first()
            if row["status"] in (ScoringJob.Status.DONE, ScoringJob.Status.ERROR):
                break
            time.sleep(0.005)
        if row["status"] != ScoringJob.Status.DONE:
            raise RuntimeError(f"job {job.pk} ended {row['status']}")
        finished = row["finished_at"].timestamp()
        out["total"].append((finished - started) * 1000)
        out["submit"].append((submitted - started) * 1000)
        out["queue"].append((row["started_at"].timestamp() - submitted) * 1000)
        out["run"].append((finished - row["started_at"].timestamp()) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="worker threads (default: WORKER_THREADS)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds of idleness before each submission")
    parser.add_argument("--long-idle", type=int, default=5,
                        help="extra submissions, each after --long-idle-gap seconds of idleness")
    parser.add_argument("--long-idle-gap", type=float, default=12.0)
    args = parser.parse_args()

    run = run_id("lat")
    setup_django(queue_prefix=run)
    from django.conf import settings

    threads = args.threads or settings.WORKER_THREADS
    park_leftover_jobs()
    context = {"load average at start": load_average()}
    floor = sqs_round_trip(samples=args.samples)
    logs = log_dir(run)
    pairs = ready_submissions(run=run, count=args.samples + 5 + args.long_idle)
    workers = start_workers(logs=logs, processes=1, threads=threads)
    relay = start_relay(logs=logs)
    try:
        wait_ready(workers, processes=1)
        measure(pairs[:5])  # warm-up: first imports and connections of the worker
        times = measure(pairs[5:args.samples + 5], gap=args.gap)
        long_idle = measure(pairs[args.samples + 5:], gap=args.long_idle_gap)["total"]
    finally:
        workers.stop()
        relay.stop()
    context["load average at end"] = load_average()
    floor_name = "raw SQS round trip (send -> long-poll receive)"
    figures = []
    for p in (50, 95, 99):
        value = percentile(times["total"], p)
        figures.append(Figure(
            f"submit-to-result p{p}, idle, 1 worker process x {threads} threads", value, "ms",
            floor=floor[f"p{p}_ms"], floor_name=floor_name,
            target="< 1000 ms" if p == 95 else "", met=(value < 1000) if p == 95 else None,
            note=("p50/p95 of its parts: submit call {:.0f}/{:.0f} ms, wait for a worker {:.0f}/{:.0f} ms, "
                  "run {:.0f}/{:.0f} ms").format(*(percentile(times[k], q) for k in ("submit", "queue", "run")
                                                  for q in (50, 95))) if p == 50 else ""))
    if long_idle:
        figures.append(Figure(
            f"submit-to-result max after {args.long_idle_gap:.0f} s idle ({len(long_idle)} samples)",
            max(long_idle), "ms", floor=floor["p99_ms"], floor_name="raw SQS round trip p99",
            target="< 1000 ms", met=max(long_idle) < 1000,
            note="a worker that has polled an empty queue for a while must still answer at once"))
    print_figures(f"Submit-to-result latency ({len(times['total'])} sequential submissions)", figures,
                  context=context)
    path = write_figures("latency", figures, context=context, args=vars(args), floor=floor, long_idle=long_idle,
                         parts={k: {f"p{q}": percentile(v, q) for q in (50, 95, 99)} for k, v in times.items()})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
