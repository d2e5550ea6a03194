"""An assignment's staff reports on 100,000 scored attempts: the insights
page's queries and the streamed results export (time, rows per second, and the
peak of Python memory while streaming, beside the same export of a tenth of the
rows: constant memory means the two peaks are alike).

The rows are bulk-inserted with INSERT … SELECT generate_series into a database
of their own (feedback_bench_reports): 5,000 learners, 20 attempts each, every
one scored with three criteria and a few feedback items.

    bash scripts/bench.sh reports [--attempts 100000]
"""

import argparse
import time
import tracemalloc

from bench.common import (
    Figure,
    ensure_database,
    load_average,
    percentile,
    print_figures,
    run_id,
    setup_django,
    write_figures,
)
from bench.queries import _column_defaults

CRITERIA = ("'[{\"key\": \"code_quality\", \"name\": \"Code quality\", \"score\": ' || (g % 40) || ', "
            "\"max_score\": 40.0}, {\"key\": \"documentation\", \"name\": \"Documentation\", \"score\": ' || "
            "(g % 30) || ', \"max_score\": 30.0}, {\"key\": \"performance\", \"name\": \"Performance\", "
            "\"score\": ' || (g % 31) || ', \"max_score\": 30.0}]'")
FEEDBACK = ("('[{\"rule\": \"B' || (g % 7) || '\", \"criterion\": \"code_quality\", \"severity\": \"warning\", "
            "\"message\": \"m\", \"file\": \"\", \"line\": null, \"suggestion\": \"\"}, {\"rule\": \"PERF401\", "
            "\"criterion\": \"performance\", \"severity\": \"warning\", \"message\": \"m\", \"file\": \"\", "
            "\"line\": 3, \"suggestion\": \"\"}, {\"rule\": \"doc\", \"criterion\": \"documentation\", "
            "\"severity\": \"info\", \"message\": \"m\", \"file\": \"\", \"line\": null, \"suggestion\": \"\"}]')")


def database_url() -> str:
    import os

    url = os.environ.get("DATABASE_URL", "postgres://feedback:feedback@127.0.0.1:5432/feedback_bench")
    return url.rsplit("/", 1)[0] + "/feedback_bench_reports"


def seed(attempts: int, learners: int) -> tuple[int, int]:
    """Two assignments: the big one, and one with a tenth of its attempts."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from scoring.models import ScoreResult
    from submissions.models import Assignment, Submission

    with connection.cursor() as cursor:
        for model in (ScoreResult, Submission, Assignment):
            cursor.execute(f'TRUNCATE "{model._meta.db_table}" CASCADE')
        users = get_user_model()._meta.db_table
        cursor.execute(f'DELETE FROM "{users}" WHERE username LIKE %s', ["bench-r-%"])  # noqa: S608
    user_cols, user_vals = _column_defaults(get_user_model(), {
        "id": "DEFAULT", "username": "'bench-r-' || g", "password": "'!'", "is_active": "true",
        "date_joined": "now()",
    })
    user_cols, user_vals = zip(*[(c, v) for c, v in zip(user_cols, user_vals, strict=True) if v != "DEFAULT"],
                               strict=True)
    ids = []
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{get_user_model()._meta.db_table}" ({", ".join(user_cols)}) '  # noqa: S608
                       f"SELECT {', '.join(user_vals)} FROM generate_series(1, {learners}) g")
        cursor.execute(f'SELECT min(id) FROM "{users}" WHERE username LIKE %s', ["bench-r-%"])  # noqa: S608
        first_user = cursor.fetchone()[0]
        for n in (attempts, attempts // 10):
            assignment = Assignment.objects.create(title=f"bench-reports {n}")
            ids.append(assignment.pk)
            sub_cols, sub_vals = _column_defaults(Submission, {
                "id": "gen_random_uuid()", "owner_id": f"{first_user} + g % {learners}",
                "assignment_id": str(assignment.pk), "status": "'SUBMITTED'", "source_code": "'x = 1'",
                "version": "1", "created_at": "now() - make_interval(secs => g)",
                "submitted_at": "now() - make_interval(secs => g)",
            })
            cursor.execute("DROP TABLE IF EXISTS bench_r_subs")
            cursor.execute("CREATE TEMP TABLE bench_r_subs (n int PRIMARY KEY, id uuid NOT NULL, at timestamptz)")
            cursor.execute(f'INSERT INTO "{Submission._meta.db_table}" ({", ".join(sub_cols)}) '  # noqa: S608
                           f"SELECT {', '.join(sub_vals)} FROM generate_series(1, {n}) g")
            cursor.execute(f"INSERT INTO bench_r_subs SELECT row_number() OVER (ORDER BY id), id, submitted_at "  # noqa: S608
                           f'FROM "{Submission._meta.db_table}" WHERE assignment_id = %s', [assignment.pk])
            res_cols, res_vals = _column_defaults(ScoreResult, {
                "id": "DEFAULT", "submission_id": "s.id", "total": "(g % 101)::numeric",
                "criteria": f"({CRITERIA})::jsonb", "feedback": f"{FEEDBACK}::jsonb", "engine_version": "'bench'",
                "input_hash": "'seed'", "created_at": "s.at + make_interval(secs => (g % 50) / 10.0)",
            })
            res_cols, res_vals = zip(*[(c, v) for c, v in zip(res_cols, res_vals, strict=True) if v != "DEFAULT"],
                                     strict=True)
            cursor.execute(f'INSERT INTO "{ScoreResult._meta.db_table}" ({", ".join(res_cols)}) '  # noqa: S608
                           f"SELECT {', '.join(res_vals)} FROM generate_series(1, {n}) g "
                           "JOIN bench_r_subs s ON s.n = g")
        for model in (Submission, ScoreResult):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return ids[0], ids[1]


def export(assignment_id, *, traced: bool) -> tuple[float, int, int]:
    """Seconds, rows and (``traced``) the peak of Python memory in bytes of one
    full CSV export. tracemalloc slows Python down severalfold: timings come
    from untraced runs."""
    from django.db import transaction

    from scoring.reports import results_csv

    if traced:
        tracemalloc.start()
    started, rows = time.perf_counter(), 0
    with transaction.atomic():  # the server-side cursor of .iterator() lives in a transaction
        for _line in results_csv(assignment_id=assignment_id):
            rows += 1
    seconds = time.perf_counter() - started
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return seconds, rows - 1, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=5_000)
    args = parser.parse_args()
    ensure_database(database_url())
    setup_django(queue_prefix=run_id("bench_reports_"), database_url=database_url())
    started = time.monotonic()
    big, small = seed(args.attempts, args.learners)
    print(f"seeded {args.attempts:,} + {args.attempts // 10:,} scored attempts in {time.monotonic() - started:.1f} s",
          flush=True)

    from django.core.cache import cache

    from scoring.reports import assignment_insights

    computed_ms, cached_ms = [], []
    for _ in range(3):
        cache.clear()
        t = time.perf_counter()
        insights = assignment_insights(assignment_id=big)
        computed_ms.append((time.perf_counter() - t) * 1000)
    for _ in range(5):
        t = time.perf_counter()
        assignment_insights(assignment_id=big)
        cached_ms.append((time.perf_counter() - t) * 1000)
    assert insights.results == args.attempts, insights.results
    export(small, traced=False)  # warm
    small_s, small_rows, _ = export(small, traced=False)
    big_s, big_rows, _ = export(big, traced=False)
    assert big_rows == args.attempts, big_rows
    _, _, small_peak = export(small, traced=True)
    _, _, big_peak = export(big, traced=True)
    figures = [
        Figure("insights, computed (p50 of 3)", percentile(computed_ms, 50), "ms"),
        Figure("insights, unchanged results (cached; p50 of 5)", percentile(cached_ms, 50), "ms"),
        Figure(f"export of {big_rows:,} rows", big_s, "s"),
        Figure("export rate", big_rows / big_s, "rows/s"),
        Figure(f"export peak Python memory, {big_rows:,} rows", big_peak / 1e6, "MB", floor=small_peak / 1e6,
               floor_name=f"the same export of {small_rows:,} rows", target="ratio < 2 (constant memory)",
               met=big_peak < 2 * small_peak),
    ]
    print_figures("reports", figures, context={"load average": load_average(),
                                                f"export of {small_rows:,} rows": f"{small_s:.2f} s"})
    write_figures("reports", figures)


if __name__ == "__main__":
    main()
