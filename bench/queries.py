"""Queries on a big jobs table: the worker's claim, the relay's sweep and the
staff dashboard's queries (jobs/selectors.py), timed on 1,000,000 jobs, with
their EXPLAIN (ANALYZE) plans, each beside the floor of any query (SELECT 1
through the same Django connection), measured first in the same run.

The rows are bulk-inserted with INSERT … SELECT generate_series into a
database of their own (feedback_bench_queries), so that the other benchmarks'
relay never meets them: 1,000,000 jobs over the last 30 days, 97 % DONE (each
with its ScoreResult), 3 % ERROR, the newest 2,000 QUEUED and 200 RUNNING.
The database is kept between runs and reseeded only when it is missing or
was seeded more than an hour ago (the dashboard's windows are relative to
now), or with --reseed.

    bash scripts/bench.sh queries [--jobs 1000000] [--reseed]
"""

import argparse
import re
import time
from datetime import timedelta

from bench.common import (
    Figure,
    database_name,
    ensure_database,
    load_average,
    percentile,
    print_figures,
    run_id,
    setup_django,
    write_figures,
)

SUBMISSIONS = 10_000
QUEUED, RUNNING = 2_000, 200


def database_url() -> str:
    import os

    url = os.environ.get("DATABASE_URL", "postgres://feedback:feedback@127.0.0.1:5432/feedback_bench")
    return url.rsplit("/", 1)[0] + "/feedback_bench_queries"


def _column_defaults(model, overrides: dict[str, str]) -> tuple[list[str], list[str]]:
    """(columns, SQL expressions) for every concrete field: ``overrides`` by
    column, else a neutral value that satisfies NOT NULL (new columns added
    by later migrations are covered without touching this file)."""
    from django.db import models

    columns, values = [], []
    for f in model._meta.concrete_fields:
        columns.append(f.column)
        if f.column in overrides:
            values.append(overrides[f.column])
        elif f.null:
            values.append("NULL")
        elif isinstance(f, models.JSONField):
            values.append("'[]'::jsonb" if f.default is list else "'{}'::jsonb")
        elif isinstance(f, models.DateTimeField):
            values.append("now()")
        elif isinstance(f, models.BooleanField):
            values.append("false")
        elif isinstance(f, models.IntegerField | models.DecimalField | models.FloatField):
            values.append("0")
        elif isinstance(f, models.UUIDField):
            values.append("gen_random_uuid()")
        else:
            values.append("''")
    return columns, values


def seeded_recently() -> bool:
    from submissions.models import Assignment

    marker = Assignment.objects.filter(title="bench-queries seed").first()
    return bool(marker and marker.created_at > _now() - timedelta(hours=1))


def _now():
    from django.utils import timezone

    return timezone.now()


def seed(jobs: int) -> float:
    """Bulk-insert the rows; returns seconds taken."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from jobs.models import JobAttempt, JobEvent, ScoringJob
    from scoring.models import ScoreResult
    from submissions.models import Assignment, Submission

    started = time.monotonic()
    with connection.cursor() as cursor:
        for model in (JobEvent, JobAttempt, ScoringJob, ScoreResult, Submission, Assignment):
            cursor.execute(f'TRUNCATE "{model._meta.db_table}" CASCADE')
    user, _ = get_user_model().objects.get_or_create(username="bench-queries")
    assignment = Assignment.objects.create(title="bench-queries seed")
    span = 30 * 86400 / jobs  # seconds between two jobs: 30 days in all
    first_queued, first_running = jobs - QUEUED - RUNNING, jobs - RUNNING
    done = f"(g <= {first_queued} AND g % 33 <> 0)"
    created = f"(now() - make_interval(secs => ({jobs} - g) * {span}))"
    sub_cols, sub_vals = _column_defaults(Submission, {
        "id": "gen_random_uuid()", "owner_id": str(user.pk), "assignment_id": str(assignment.pk),
        "status": "'SUBMITTED'", "submitted_at": "now()", "source_code": "'x = 1'", "version": "1",
    })
    res_cols, res_vals = _column_defaults(ScoreResult, {
        "id": "g", "submission_id": "s.id", "total": "80.0", "engine_version": "'bench'",
        "input_hash": "'seed'", "created_at": f"{created} + interval '1.2 seconds'",
    })
    job_cols, job_vals = _column_defaults(ScoringJob, {
        "id": "gen_random_uuid()",
        "submission_id": "s.id",
        "status": f"CASE WHEN g > {first_running} THEN 'RUNNING' WHEN g > {first_queued} THEN 'QUEUED' "
                  f"WHEN g % 33 = 0 THEN 'ERROR' ELSE 'DONE' END",
        "attempts": f"CASE WHEN g > {first_queued} AND g <= {first_running} THEN 0 ELSE 1 END",
        "max_attempts": "3",
        "requested_by": "'LEARNER'",
        "requested_by_user_id": str(user.pk),
        "trace_id": "md5(g::text)",
        # QUEUED jobs were sent recently (the relay has nothing to resend) and
        # RUNNING ones hold live leases (nothing to expire): the sweep's
        # queries still scan what they would scan.
        "available_at": f"CASE WHEN g > {first_queued} THEN now() - interval '10 seconds' ELSE {created} END",
        "dispatched_at": f"CASE WHEN g > {first_queued} THEN now() - interval '10 seconds' ELSE {created} END",
        "lease_owner": f"CASE WHEN g > {first_running} THEN 'bench:' || g ELSE '' END",
        "lease_expires_at": f"CASE WHEN g > {first_running} THEN now() + interval '1 hour' END",
        "started_at": f"CASE WHEN g <= {first_queued} OR g > {first_running} THEN {created} + interval '1 second' END",
        "finished_at": f"CASE WHEN g <= {first_queued} THEN {created} + interval '1.2 seconds' "
                       f"+ make_interval(secs => (g % 100) / 100.0) END",
        "error_code": f"CASE WHEN g <= {first_queued} AND g % 33 = 0 "
                      f"THEN (ARRAY['timeout','syntax','too_large','attempts_exhausted'])[1 + g % 4] ELSE '' END",
        "result_id": f"CASE WHEN {done} THEN g END",
        "created_at": created,
        "updated_at": created,
    })
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_subs (n int PRIMARY KEY, id uuid NOT NULL)")
        cursor.execute(
            f"INSERT INTO \"{Submission._meta.db_table}\" ({', '.join(sub_cols)}) "  # noqa: S608 (our own SQL)
            f"SELECT {', '.join(sub_vals)} FROM generate_series(1, {SUBMISSIONS}) g"
        )
        cursor.execute(
            f"INSERT INTO bench_subs SELECT row_number() OVER (ORDER BY id) - 1, id "  # noqa: S608 (our own SQL)
            f"FROM \"{Submission._meta.db_table}\" WHERE assignment_id = %s", [assignment.pk]
        )
        # Each job's submission: g % SUBMISSIONS, so the newest QUEUED/RUNNING
        # jobs (fewer than SUBMISSIONS) each have their own (one active job each).
        join = f"FROM generate_series(1, {jobs}) g JOIN bench_subs s ON s.n = g % {SUBMISSIONS}"
        cursor.execute(
            f"INSERT INTO \"{ScoreResult._meta.db_table}\" ({', '.join(res_cols)}) "
            f"SELECT {', '.join(res_vals)} {join} WHERE {done}"
        )
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{ScoreResult._meta.db_table}\"', 'id'), {jobs} + 1)"
        )
        cursor.execute(
            f"INSERT INTO \"{ScoringJob._meta.db_table}\" ({', '.join(job_cols)}) "
            f"SELECT {', '.join(job_vals)} {join}"
        )
        for model in (Submission, ScoreResult, ScoringJob):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return time.monotonic() - started


def refresh_active_jobs() -> None:
    """On a kept seed: the QUEUED jobs sent just now, the RUNNING ones under live
    leases, as after seeding (else the relay's sweep would find them stale and
    send them all again, and time SQS instead of its queries)."""
    from django.db import connection
    from django.db.models.functions import Now

    from jobs.models import ScoringJob

    recent = Now() - timedelta(seconds=10)
    ScoringJob.objects.filter(status=ScoringJob.Status.QUEUED).update(available_at=recent, dispatched_at=recent)
    ScoringJob.objects.filter(status=ScoringJob.Status.RUNNING).update(lease_expires_at=Now() + timedelta(hours=1))
    with connection.cursor() as cursor:  # as autovacuum would, before the timings: no dead row versions
        cursor.execute(f'VACUUM ANALYZE "{ScoringJob._meta.db_table}"')


def timed(fn, *, runs: int, rollback: bool = False) -> list[float]:
    """Milliseconds of each call; inside a rolled-back transaction if it writes."""
    from django.db import transaction

    times = []
    for i in range(runs):
        started = time.perf_counter()
        if rollback:
            with transaction.atomic():
                fn(i)
                transaction.set_rollback(True)
        else:
            fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def plans(fn, *, writes: bool) -> list[tuple[str, str]]:
    """(SQL, EXPLAIN ANALYZE plan) of every statement one call of ``fn`` runs."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        fn(0)
        transaction.set_rollback(True)
    out = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not re.match(r"\s*(SELECT|UPDATE|INSERT|DELETE|WITH)", sql, re.I):
            continue  # SAVEPOINT, RELEASE…
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        out.append((sql, plan))
    return out


def scans_whole_table(plan: str) -> bool:
    from jobs.models import ScoringJob

    return f"Seq Scan on {ScoringJob._meta.db_table}" in plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--plans", action="store_true", help="print every plan in full")
    args = parser.parse_args()

    url = database_url()
    ensure_database(url)
    setup_django(queue_prefix=run_id("qry"), database_url=url)
    from django.db import connection

    from jobs import relay, selectors
    from jobs.models import ScoringJob

    context = {"load average at start": load_average(), "database": database_name(url)}
    count = ScoringJob.objects.count()
    if args.reseed or count != args.jobs or not seeded_recently():
        print(f"seeding {args.jobs:,} jobs (found {count:,})…", flush=True)
        context["seeded in"] = f"{seed(args.jobs):.0f} s"
    else:
        context["seeded in"] = "reused (seeded within the hour)"
        refresh_active_jobs()
    context["jobs"] = f"{ScoringJob.objects.count():,}"

    def select_one(_):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    floor = timed(select_one, runs=500)
    queued = list(ScoringJob.objects.filter(status=ScoringJob.Status.QUEUED).values_list("pk", flat=True)[:500])
    now = _now()
    cases = [
        ("claim (worker: QUEUED -> RUNNING + event)", True,
         lambda i: ScoringJob.claim(job_id=queued[i % len(queued)], lease_owner="bench:claim", lease_seconds=30)),
        ("relay sweep (3 queries: leases, unsent, stale)", True, lambda i: relay.relay_sweep()),
        ("dashboard: jobs per status", False, lambda i: selectors.job_counts_by_status()),
        ("dashboard: hour/day throughput and p50/p95", False, lambda i: selectors.job_window_stats(now=now)),
        ("dashboard: hourly series (24 h)", False, lambda i: selectors.job_hourly_throughput(now=now)),
        ("dashboard: oldest queued job", False, lambda i: selectors.oldest_queued_at()),
        ("dashboard: error groups (day)", False,
         lambda i: selectors.job_error_groups(since=now - timedelta(days=1))),
        ("dashboard: recent errors", False, lambda i: selectors.recent_error_jobs()),
        ("dashboard: all of it (job_dashboard)", False, lambda i: selectors.job_dashboard(now=now)),
    ]
    figures, explained = [], {}
    floor_p95 = percentile(floor, 95)
    for name, writes, fn in cases:
        fn(0) if not writes else timed(fn, runs=1, rollback=True)  # warm-up
        times = timed(fn, runs=args.runs if "all of it" not in name else max(10, args.runs // 5), rollback=writes)
        statements = plans(fn, writes=writes)
        seq = [sql for sql, plan in statements if scans_whole_table(plan)]
        explained[name] = [{"sql": sql, "plan": plan} for sql, plan in statements]
        p95 = percentile(times, 95)
        figures.append(Figure(
            f"{name} p95", p95, "ms", floor=floor_p95, floor_name="SELECT 1 p95 (same connection)",
            target="< 5 ms, indexed", met=p95 < 5 and not seq,
            note=(f"p50 {percentile(times, 50):.2f} ms; {len(statements)} statement(s); "
                  + (f"SEQ SCAN in {len(seq)} of them" if seq else "no sequential scan of the jobs table"))))
    context["load average at end"] = load_average()
    print("\nEXPLAIN (ANALYZE) of each statement, on the seeded table:")
    for name, statements in explained.items():
        print(f"\n## {name}")
        for s in statements:
            print(f"-- {s['sql'][:300]}")
            lines = s["plan"].splitlines()
            print("\n".join("   " + line for line in (lines if args.plans else lines[:14])))
            if not args.plans and len(lines) > 14:
                print(f"   … ({len(lines) - 14} more lines; --plans prints them all)")
    print_figures(f"Queries on a {context['jobs']}-row jobs table", figures, context=context)
    path = write_figures("queries", figures, context=context, args=vars(args), plans=explained)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
