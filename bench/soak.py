"""Soak: N jobs through 2 supervised worker processes while a chaos loop kills
workers (-9) and restarts the relay. Prints submitted, DONE, ERROR, lost,
duplicate results, repeat executions and completion-time percentiles.

    bash scripts/bench.sh soak --jobs 2000

Lost = jobs not DONE/ERROR when the run ends; it must be 0, as must duplicate
results. Some jobs are slow (scripted by feedback_site/testing/chaos.py) so that
kills land in the middle of a run.
"""

import argparse
import random
import signal
import tempfile
import threading
import time
from pathlib import Path

from bench.common import children, percentile, print_table, setup_django, write_json


class Chaos(threading.Thread):
    """Kill a random worker process every few seconds; restart the relay now and then."""

    def __init__(self, workers, start_relay, *, kill_every: float, relay_every: float):
        super().__init__(daemon=True)
        self.workers, self.start_relay = workers, start_relay
        self.kill_every, self.relay_every = kill_every, relay_every
        self.relay = start_relay()
        self.stop = threading.Event()
        self.kills = self.relay_restarts = 0

    def run(self) -> None:
        import os

        next_relay = time.monotonic() + self.relay_every
        while not self.stop.wait(self.kill_every * random.uniform(0.5, 1.5)):  # noqa: S311
            supervisor = random.choice(self.workers)  # noqa: S311
            # The worker processes (and the standby) are runworkers' children.
            victims = children(supervisor.pid)
            if victims:
                os.kill(random.choice(victims), signal.SIGKILL)  # noqa: S311
                self.kills += 1
            if time.monotonic() > next_relay:
                if random.random() < 0.5:  # noqa: S311
                    self.relay.kill()
                else:
                    self.relay.stop()
                self.relay = self.start_relay()
                self.relay_restarts += 1
                next_relay = time.monotonic() + self.relay_every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=6.0, help="seconds between worker kills (jittered)")
    parser.add_argument("--relay-every", type=float, default=20.0, help="seconds between relay restarts")
    parser.add_argument("--slow-fraction", type=float, default=0.1, help="share of jobs that take --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    run = time.strftime("soak%Y%m%d%H%M%S")
    setup_django(queue_prefix=run)

    from django.contrib.auth import get_user_model
    from django.db.models import Count, F, Sum

    from feedback_site.testing.processes import ManagedProcess
    from jobs.models import JobAttempt, ScoringJob
    from jobs.services import submission_submit
    from scoring.models import ScoreResult
    from submissions.models import Assignment, Submission

    logs = Path(tempfile.mkdtemp(prefix=f"{run}-"))
    env = {"SCORER": "feedback_site.testing.chaos.ChaosScorer", "CHAOS_STATE_DIR": str(logs / "chaos")}
    workers = [
        ManagedProcess("runworkers", "--processes", "1", "--threads", str(args.threads),
                       log_path=logs / f"worker-{i}.log", env=env)
        for i in range(args.workers)
    ]
    relay_count = [0]

    def start_relay():
        relay_count[0] += 1
        return ManagedProcess("runrelay", log_path=logs / f"relay-{relay_count[0]}.log",
                              env={"RELAY_INTERVAL_SECONDS": "1"})

    chaos = Chaos(workers, start_relay, kill_every=args.kill_every, relay_every=args.relay_every)
    owner, _ = get_user_model().objects.get_or_create(username="soak")
    assignment = Assignment.objects.create(title=run, max_attempts=args.jobs + 1)
    started = time.monotonic()
    chaos.start()
    for i in range(args.jobs):
        slow = random.random() < args.slow_fraction  # noqa: S311
        code = (f"# chaos: sleep={args.slow_seconds}\n" if slow else "") + f"def f{i}(x):\n    return x + {i}\n"
        submission = Submission.objects.create(owner=owner, assignment=assignment, source_code=code)
        submission_submit(submission_id=submission.pk, user=owner)
    submit_seconds = time.monotonic() - started
    jobs = ScoringJob.objects.filter(submission__assignment=assignment)
    terminal = (ScoringJob.Status.DONE, ScoringJob.Status.ERROR)
    while time.monotonic() - started < args.timeout:
        open_jobs = jobs.exclude(status__in=terminal).count()
        print(f"[{time.monotonic() - started:6.1f}s] open {open_jobs:5d}  kills {chaos.kills}  "
              f"relay restarts {chaos.relay_restarts}", flush=True)
        if open_jobs == 0:
            break
        time.sleep(5)
    elapsed = time.monotonic() - started
    chaos.stop.set()
    chaos.join()
    for process in [*workers, chaos.relay]:
        process.stop()

    counts = dict(jobs.values_list("status").annotate(n=Count("pk")))
    done, error = counts.get("DONE", 0), counts.get("ERROR", 0)
    results = ScoreResult.objects.filter(submission__assignment=assignment).count()
    attempts = jobs.aggregate(total=Sum("attempts"))["total"] or 0
    completion = [
        (finished - created).total_seconds()
        for created, finished in jobs.filter(status="DONE").values_list("created_at", "finished_at")
    ]
    report = {
        "submitted": args.jobs,
        "done": done,
        "error": error,
        "lost": args.jobs - done - error,
        "duplicate_results": results - done,
        "repeat_executions": attempts - (done + error),
        "lost_attempts (worker killed)": JobAttempt.objects.filter(job__in=jobs, outcome="LOST").count(),
        "jobs_with_more_than_one_attempt": jobs.filter(attempts__gt=1).count(),
        "worker_kills": chaos.kills,
        "relay_restarts": chaos.relay_restarts,
        "submit_seconds": round(submit_seconds, 1),
        "elapsed_seconds": round(elapsed, 1),
        "completion_p50_s": round(percentile(completion, 50), 2),
        "completion_p99_s": round(percentile(completion, 99), 2),
        "completion_max_s": round(max(completion, default=float("nan")), 2),
        "errors_by_code": dict(jobs.filter(status="ERROR").values_list("error_code").annotate(n=Count("pk"))),
        "attempts_over_limit": jobs.filter(attempts__gt=F("max_attempts")).count(),
        "logs": str(logs),
    }
    print_table(f"Soak {run}: {args.jobs} jobs, {args.workers} workers x {args.threads} threads", list(report.items()))
    print(f"\nwritten to {write_json('soak', {'args': vars(args), **report})}")
    ok = report["lost"] == 0 and report["duplicate_results"] == 0
    print("RESULT:", "PASS (lost = 0, duplicate results = 0)" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
