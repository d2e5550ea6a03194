"""End-to-end throughput: N small submissions submitted through the service
layer (jobs.services.submission_submit, from several threads, as web workers
would) while real worker processes score them through SQS with the real
engine; once with 1 worker process, once with 2 (each with several threads).

Each configuration is preceded by its floor, measured in the same run: the raw
SQS pipeline (boto3 send, receive 10, delete batch) with as many sending
threads as submitting threads and as many consumer processes as worker
processes. Prints jobs/s, the ratio to that floor, and the CPU spent per job
by the submitting threads (web), the workers, PostgreSQL's backends, the relay
and the local SQS endpoint (read from /proc).

    bash scripts/bench.sh throughput [--jobs 5000] [--processes 1 2] [--threads 4]
"""

import argparse
import threading
import time

from bench.common import Figure, load_average, print_figures, run_id, setup_django, write_figures
from bench.floors import sqs_pipeline
from bench.pipeline import (
    cpu_meter,
    database_counters,
    log_dir,
    park_leftover_jobs,
    ready_submissions,
    start_relay,
    start_workers,
    wait_ready,
)


def submit_all(pairs: list[tuple], *, threads: int) -> tuple[float, float]:
    """Submit every (submission id, owner) from ``threads`` threads; returns (wall seconds, CPU seconds)."""
    from django.db import connection

    from jobs.services import submission_submit

    cpu = [0.0] * threads
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            for submission_id, owner in pairs[i::threads]:
                submission_submit(submission_id=submission_id, user=owner)
        except BaseException as exc:  # reported below; the run is void
            errors.append(exc)
        finally:
            connection.close()
            cpu[i] = time.thread_time()

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if errors:
        raise errors[0]
    return time.monotonic() - started, sum(cpu)


def run_config(*, run: str, jobs: int, processes: int, threads: int, submitters: int, timeout: float,
               watch=None) -> dict:
    """One configuration. ``watch(workers)``, if given, is called once the
    workers are ready and returns a function called when the jobs are done
    (the profiler uses it)."""
    from django.db.models import Count, Max

    from jobs.models import JobAttempt, ScoringJob
    from scoring.models import ScoreResult

    logs = log_dir(run)
    pairs = ready_submissions(run=f"{run} p{processes}", count=jobs)
    assignment_filter = {"submission__assignment__title__startswith": f"{run} p{processes} {jobs} #"}
    workers = start_workers(logs=logs, processes=processes, threads=threads, name=f"workers-p{processes}")
    relay = start_relay(logs=logs)
    try:
        wait_ready(workers, processes=processes)
        unwatch = watch(workers) if watch else None
        meter = cpu_meter(workers=workers, relay=relay)
        before = database_counters()
        meter.start()
        started_wall = time.time()
        submitted = {}

        def submit() -> None:
            submitted["seconds"], submitted["cpu"] = submit_all(pairs, threads=submitters)

        submitter = threading.Thread(target=submit)
        submitter.start()
        job_rows = ScoringJob.objects.filter(**assignment_filter)
        terminal = [ScoringJob.Status.DONE, ScoringJob.Status.ERROR]
        deadline = time.monotonic() + timeout
        last_print = 0.0
        while time.monotonic() < deadline:
            finished = job_rows.filter(status__in=terminal).count()
            if time.monotonic() - last_print > 5:
                print(f"  [{time.time() - started_wall:5.1f}s] {processes} process(es): "
                      f"{finished}/{jobs} finished; load {load_average()}", flush=True)
                last_print = time.monotonic()
            if finished >= jobs:
                break
            time.sleep(0.25)
        submitter.join()
        cpu = meter.stop()
        after = database_counters()
        if unwatch:
            unwatch()
    finally:
        workers.stop()
        relay.stop()
    last_finished = job_rows.aggregate(last=Max("finished_at"))["last"]
    elapsed = last_finished.timestamp() - started_wall
    counts = dict(job_rows.order_by().values_list("status").annotate(n=Count("pk")))
    done = counts.get("DONE", 0)
    results = ScoreResult.objects.filter(**assignment_filter).count()
    cpu["web"] = submitted["cpu"]
    per_job_ms = {group: seconds * 1000 / jobs for group, seconds in cpu.items()}
    return {
        "processes": processes,
        "threads": threads,
        "submitters": submitters,
        "jobs": jobs,
        "done": done,
        "error": counts.get("ERROR", 0),
        "unfinished": jobs - done - counts.get("ERROR", 0),
        "duplicate_results": results - done,
        "attempts_over_one": job_rows.filter(attempts__gt=1).count(),
        "lost_attempts": JobAttempt.objects.filter(job__in=job_rows, outcome="LOST").count(),
        "seconds": round(elapsed, 2),
        "jobs_per_s": jobs / elapsed,
        "submit_seconds": round(submitted["seconds"], 2),
        "submit_per_s": jobs / submitted["seconds"],
        "cpu_ms_per_job": {k: round(v, 2) for k, v in per_job_ms.items()},
        "db_commits_per_job": round((after["commits"] - before["commits"]) / jobs, 2),
        "db_rows_written_per_job": round(
            (after["inserted"] + after["updated"] - before["inserted"] - before["updated"]) / jobs, 2),
        "logs": str(logs),
    }


def figures_for(result: dict, floor: dict) -> list[Figure]:
    p, cpu = result["processes"], result["cpu_ms_per_job"]
    app_cpu = cpu["web"] + cpu["worker"] + cpu["database"]
    floor_name = f"raw SQS pipeline, {floor['producers']} senders, {floor['consumers']} consumer(s)"
    ok = result["done"] == result["jobs"] and result["duplicate_results"] == 0
    return [
        Figure(f"e2e throughput, {p} worker process(es) x {result['threads']} threads", result["jobs_per_s"],
               "jobs/s", floor=floor["msgs_per_s"], floor_name=floor_name,
               target=">= 70% of floor, >= 50 jobs/s",
               met=ok and result["jobs_per_s"] >= 50 and result["jobs_per_s"] >= 0.7 * floor["msgs_per_s"],
               note=(f"{result['done']}/{result['jobs']} DONE, {result['duplicate_results']} duplicate results, "
                     f"submitted at {result['submit_per_s']:.0f}/s; CPU ms/job: web {cpu['web']:.1f}, "
                     f"worker {cpu['worker']:.1f}, database {cpu['database']:.1f}, relay {cpu['relay']:.1f}, "
                     f"sqs emulator {cpu['sqs emulator']:.1f}; {result['db_commits_per_job']} commits/job")),
        Figure(f"CPU per job (web+worker+database), {p} process(es)", app_cpu, "ms",
               note="the floor's CPU per message is not measured; the emulator's share is in the note above"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--submitters", type=int, default=4, help="threads submitting through the service layer")
    parser.add_argument("--floor-messages", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=300.0, help="per configuration")
    args = parser.parse_args()

    run = run_id("tput")
    setup_django(queue_prefix=run)
    parked = park_leftover_jobs()
    context = {"load average at start": load_average(), "leftover jobs parked": parked}
    figures, results = [], []
    for processes in args.processes:
        floor = sqs_pipeline(messages=args.floor_messages, producers=args.submitters, consumers=processes)
        print(f"  floor: raw SQS pipeline {floor['msgs_per_s']:.0f} msgs/s "
              f"({args.submitters} senders, {processes} consumer(s)); load {load_average()}", flush=True)
        result = run_config(run=run, jobs=args.jobs, processes=processes, threads=args.threads,
                            submitters=args.submitters, timeout=args.timeout)
        result["floor"] = floor
        result["load_average_after"] = load_average()
        results.append(result)
        figures += figures_for(result, floor)
    context["load average at end"] = load_average()
    print_figures(f"End-to-end throughput ({args.jobs} jobs per configuration)", figures, context=context)
    path = write_figures("throughput", figures, context=context, args=vars(args), results=results)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
