"""What the throughput and latency benchmarks share: submissions made ready
to submit, real worker and relay processes, and the CPU meter's groups."""

import os
import time
from pathlib import Path

from bench.common import ROOT, CpuMeter, database_name, postgres_backends, process_tree

SMALL_SOURCE = '''"""Stock helpers."""


def restock(stock, deliveries):
    """Add the delivered quantities to a copy of ``stock``."""
    result = dict(stock)
    for code, quantity in deliveries:
        result[code] = result.get(code, 0) + quantity
    return result  # variant {i}
'''
SMALL_DOCUMENTATION = """# Stock helpers

## Usage

Call `restock` with a dictionary of counts and a list of deliveries; it returns
a new dictionary and leaves its arguments unchanged.
"""


def log_dir(run: str) -> Path:
    path = ROOT / "var" / "log" / "bench" / run
    path.mkdir(parents=True, exist_ok=True)
    return path


def ready_submissions(*, run: str, count: int, owners: int = 20, users: list | None = None) -> list[tuple]:
    """``count`` small IN_PROGRESS submissions: (submission id, owner).

    A learner has at most one open submission per assignment, so the
    submissions are spread over as many assignments as that takes."""
    from django.contrib.auth import get_user_model

    from submissions.models import Assignment, Submission

    users = users or [get_user_model().objects.get_or_create(username=f"bench{i}")[0] for i in range(owners)]
    owners = len(users)
    assignments = Assignment.objects.bulk_create(
        [Assignment(title=f"{run} {count} #{a}", max_attempts=10) for a in range(-(-count // owners))]
    )
    rows = Submission.objects.bulk_create(
        [Submission(owner=users[i % owners], assignment=assignments[i // owners],
                    source_code=SMALL_SOURCE.format(i=i), documentation=SMALL_DOCUMENTATION) for i in range(count)],
        batch_size=1000,
    )
    return [(s.pk, s.owner) for s in rows]


def park_leftover_jobs() -> int:
    """Cancel QUEUED jobs left by an earlier, interrupted run: else the relay
    would send them again in the middle of this one."""
    from jobs.models import ScoringJob

    parked = 0
    for job_id in ScoringJob.objects.filter(status=ScoringJob.Status.QUEUED).values_list("pk", flat=True):
        parked += ScoringJob.cancel_queued(job_id=job_id, actor="bench", reason="left over by an earlier bench run")
    return parked


def start_workers(*, logs: Path, processes: int, threads: int, name: str = "workers"):
    from feedback_site.testing.processes import ManagedProcess

    return ManagedProcess("runworkers", "--processes", str(processes), "--threads", str(threads),
                          log_path=logs / f"{name}.log", env={})


def start_relay(*, logs: Path):
    from feedback_site.testing.processes import ManagedProcess

    return ManagedProcess("runrelay", log_path=logs / "relay.log", env={})


def wait_ready(worker, *, processes: int, timeout: float = 90.0) -> None:
    """Until every worker process consumes: the supervisor logs "worker <pid> is
    ready after ..." for each (and "is standby" for the standby, which does not)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.log().count(" is ready after ") >= processes:
            return
        if not worker.alive():
            break
        time.sleep(0.2)
    raise RuntimeError(f"workers did not start; log:\n{worker.log()[-3000:]}")


def cpu_meter(*, workers=None, relay=None) -> CpuMeter:
    """CPU of the worker tree, the relay, PostgreSQL's backends of this
    database and the local SQS endpoint (the submitting threads measure their own)."""
    from django.db import connection

    url = os.environ["DATABASE_URL"]
    groups = {
        "worker": (lambda: process_tree(workers.pid)) if workers else (lambda: []),
        "relay": (lambda: process_tree(relay.pid)) if relay else (lambda: []),
        "database": postgres_backends(url, database_name(url)),
    }
    localstack = os.environ.get("BENCH_LOCALSTACK_PID")
    groups["sqs emulator"] = (lambda: process_tree(int(localstack))) if localstack else (lambda: [])
    connection.ensure_connection()
    return CpuMeter(groups)


def database_counters() -> dict:
    """Commits and row writes of this database so far (pg_stat_database)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = current_database()"
        )
        commits, inserted, updated = cursor.fetchone()
    return {"commits": commits, "inserted": inserted, "updated": updated}
