"""Staff console on 100,000 jobs: the jobs changelist (plain and filtered), the
job page, the dashboard and /metrics, each beside the admin index page measured
in the same run (the floor: a staff page that touches no job).

    bash scripts/bench.sh console [--jobs 100000] [--runs 15]

Its own database (feedback_bench_console), filled once and kept: a later run
reuses it when it already holds the jobs. Target: every page < 300 ms median.
"""

import argparse
import statistics
import time
from datetime import timedelta

from bench.common import Figure, database_name, load_average, print_figures, run_id, setup_django, write_figures


def fill(jobs: int) -> None:
    """Users, assignments, submissions and jobs in realistic proportions, with attempts."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from jobs.models import ScoringJob
    from scoring.models import ScoreResult
    from submissions.models import Assignment, Submission

    with connection.cursor() as c:
        c.execute("TRUNCATE jobs_jobevent, jobs_jobattempt, jobs_scoringjob, scoring_scoreresult, "
                  "submissions_submissionevent, submissions_submissionfile, submissions_submission, "
                  "submissions_assignment CASCADE")
    users_n, submissions_n = max(jobs // 50, 1), max(jobs * 4 // 5, 1)
    user_model = get_user_model()
    unusable = "!"  # an unusable password hash: nobody logs in as these
    user_model.objects.bulk_create([user_model(username=f"bench{i:06d}", password=unusable) for i in range(users_n)],
                                   ignore_conflicts=True)
    users = list(user_model.objects.filter(username__startswith="bench").order_by("id"))
    assignments = Assignment.objects.bulk_create([Assignment(title=f"Bench assignment {i}") for i in range(20)])
    now = timezone.now()
    subs = Submission.objects.bulk_create(
        [Submission(owner=users[i % len(users)], assignment=assignments[i % 20], status="SUBMITTED",
                    submitted_at=now, source_code="x = 1\n") for i in range(submissions_n)],
        batch_size=5000,
    )
    queued, running, done = jobs * 3 // 100, jobs * 2 // 100, jobs * 85 // 100
    active = queued + running  # one active job per submission: the first ones get them
    results = ScoreResult.objects.bulk_create(
        [ScoreResult(submission=subs[i % submissions_n], total=70, engine_version="bench",
                     rubric_version_label="default v1", input_hash="0" * 64) for i in range(done)],
        batch_size=5000,
    )
    rows = []
    for i in range(jobs):
        status = ("QUEUED" if i < queued else "RUNNING" if i < active else
                  "DONE" if i < active + done else "ERROR")
        sub = subs[i] if i < active else subs[active + (i * 7919) % (submissions_n - active)]
        rows.append(ScoringJob(
            submission=sub, status=status, attempts=0 if status == "QUEUED" else 1, max_attempts=3,
            requested_by=("LEARNER", "API", "STAFF")[i % 3], trace_id=f"bench{i}",
            result=results[i - active] if status == "DONE" else None,
            error_code=("timeout", "engine_crash", "too_large", "cancelled")[i % 4] if status == "ERROR" else "",
            error_message="bench" if status == "ERROR" else "",
        ))
    with transaction.atomic():
        ScoringJob.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as c:
        # Created over ten days; runs of 0.2–5 s; one attempt row per ended job.
        c.execute("UPDATE jobs_scoringjob SET created_at = now() - random() * interval '10 days'")
        c.execute("UPDATE jobs_scoringjob SET available_at = created_at, dispatched_at = created_at, "
                  "started_at = CASE WHEN status = 'QUEUED' THEN NULL "
                  "ELSE created_at + random() * interval '3 seconds' END")
        c.execute("UPDATE jobs_scoringjob SET finished_at = CASE WHEN status IN ('DONE', 'ERROR') "
                  "THEN started_at + (0.2 + random() * 4.8) * interval '1 second' END, "
                  "lease_owner = CASE WHEN status = 'RUNNING' THEN 'bench' ELSE '' END, "
                  "lease_expires_at = CASE WHEN status = 'RUNNING' THEN now() + interval '1 day' END")
        c.execute("INSERT INTO jobs_jobattempt (job_id, number, worker_id, started_at, finished_at, outcome, "
                  "error_class, error_message, traceback) SELECT id, 1, 'bench', started_at, finished_at, "
                  "CASE WHEN status = 'DONE' THEN 'SUCCEEDED' ELSE 'REJECTED' END, '', '', '' "
                  "FROM jobs_scoringjob WHERE status IN ('DONE', 'ERROR')")
        for table in ("jobs_scoringjob", "jobs_jobattempt", "submissions_submission", "auth_user"):
            c.execute(f"VACUUM ANALYZE {table}")


def timed(client, url: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, headers={"Authorization": "Bearer bench"})  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers={"Authorization": "Bearer bench"})
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers={"Authorization": "Bearer bench"})
    return statistics.median(times), max(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import os

    base = os.environ.get("DATABASE_URL", "postgres://feedback:feedback@127.0.0.1:5432/feedback_bench")
    url = base.rsplit("/", 1)[0] + "/feedback_bench_console"
    os.environ["LOG_LEVEL"] = "WARNING"
    setup_django(queue_prefix=run_id("console"), database_url=url)

    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from django.utils import timezone

    from jobs.models import ScoringJob
    from submissions.models import Assignment

    if ScoringJob.objects.count() != args.jobs:
        started = time.monotonic()
        fill(args.jobs)
        print(f"filled {database_name(url)} with {args.jobs:,} jobs in {time.monotonic() - started:.0f}s")
    staff, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(staff)
    failed = ScoringJob.objects.filter(status="ERROR").select_related("submission__owner").first()
    assignment = Assignment.objects.order_by("id").first()
    week_ago = (timezone.now() - timedelta(days=7)).strftime("%Y-%m-%d")
    pages = {
        "changelist": "/admin/jobs/scoringjob/",
        "changelist status=ERROR": "/admin/jobs/scoringjob/?status__exact=ERROR",
        "changelist by assignment": f"/admin/jobs/scoringjob/?submission__assignment__id__exact={assignment.pk}",
        "changelist last 7 days": f"/admin/jobs/scoringjob/?created_at__gte={week_ago}",
        "changelist search learner": f"/admin/jobs/scoringjob/?q={failed.submission.owner.username}",
        "changelist page 500": "/admin/jobs/scoringjob/?p=500",
        "job page": f"/admin/jobs/scoringjob/{failed.pk}/change/",
        "dashboard": "/admin/jobs/scoringjob/dashboard/",
        "/metrics": "/metrics",
    }
    storages = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    figures = []
    with override_settings(STORAGES=storages, DEBUG=False, METRICS_TOKEN="bench",  # noqa: S106
                           ALLOWED_HOSTS=["testserver"]):
        floor, _, floor_queries = timed(client, "/admin/", args.runs)
        for name, page in pages.items():
            median, worst, queries = timed(client, page, args.runs)
            figures.append(Figure(
                name=f"{name} (median)", value=median, unit="ms", floor=floor,
                floor_name=f"admin index ({floor_queries} queries)", target="< 300 ms", met=median < 300,
                note=f"max {worst:.0f} ms, {queries} queries",
            ))
    print_figures(f"Staff console on {args.jobs:,} jobs ({args.runs} runs each)", figures,
                  context={"load average": load_average()})
    print(f"written to {write_figures('console', figures, jobs=args.jobs)}")


if __name__ == "__main__":
    main()
