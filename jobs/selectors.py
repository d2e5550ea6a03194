"""Reads of scoring jobs that join or aggregate: the staff console and /metrics.

Every query here is bounded by an index (see ScoringJob.Meta.indexes) or by a
time window, so the dashboard stays fast on a table of hundreds of thousands
of jobs. Percentiles are computed by PostgreSQL (percentile_cont); on SQLite,
used only by the local `make run`, they are computed in Python over the window.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Field, Max, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from jobs.models import JobAttempt, JobEvent, ScoringJob

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def latest_job_for_submission(*, submission_id) -> ScoringJob | None:
    return (
        ScoringJob.objects.filter(submission_id=submission_id)
        .select_related("result")
        .order_by("-created_at")
        .first()
    )


def latest_job_status_for_owner(*, submission_id, owner) -> str | None:
    """The status of the latest job of the owner's submission, in one query that
    reads no text or result columns: what the result page polls for."""
    return (
        ScoringJob.objects.filter(submission_id=submission_id, submission__owner=owner)
        .order_by("-created_at")
        .values_list("status", flat=True)
        .first()
    )


def latest_result_job_before(*, job: ScoringJob) -> ScoringJob | None:
    """The newest DONE job of the same submission created before ``job``:
    the result a rescore replaces (or, if the rescore fails, still stands)."""
    return (
        ScoringJob.objects.filter(
            submission_id=job.submission_id, status=ScoringJob.Status.DONE, created_at__lt=job.created_at
        )
        .select_related("result")
        .order_by("-created_at")
        .first()
    )


# --- building blocks -----------------------------------------------------------

class PercentilesCont(Aggregate):
    """PostgreSQL's ``percentile_cont(ARRAY[p, ...]) WITHIN GROUP (ORDER BY expr)``.

    Several percentiles from one sort of the input. Over an interval it
    returns an array of intervals, which psycopg reads as a list of timedelta.
    """

    function = "percentile_cont"
    name = "PercentilesCont"
    template = "%(function)s(ARRAY[%(fractions)s]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = Field()

    def __init__(self, expression, fractions: tuple[float, ...], **extra):
        if not fractions or not all(0 <= f <= 1 for f in fractions):
            raise ValueError("percentiles are fractions between 0 and 1")
        # Rendered into the SQL, so they are floats we formatted, never user input.
        super().__init__(expression, fractions=", ".join(repr(float(f)) for f in fractions), **extra)


def _run_duration():
    """The last attempt's run time: a job's started_at is its latest claim."""
    return ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())


def _percentile(values: list[timedelta], fraction: float) -> timedelta | None:
    """Linear interpolation between closest ranks, as percentile_cont does."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- dashboard -------------------------------------------------------------------

@dataclass
class WindowStats:
    """Jobs that ended inside a time window."""

    done: int = 0
    error: int = 0
    p50: timedelta | None = None
    p95: timedelta | None = None

    @property
    def finished(self) -> int:
        return self.done + self.error


@dataclass
class ErrorGroup:
    code: str
    count: int
    last_at: datetime


@dataclass
class Dashboard:
    now: datetime
    counts: dict[str, int]
    windows: dict[str, WindowStats]
    hourly: list[dict]
    oldest_queued_at: datetime | None
    error_groups: list[ErrorGroup] = field(default_factory=list)
    recent_errors: list[ScoringJob] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def oldest_queued_age(self) -> timedelta | None:
        return self.now - self.oldest_queued_at if self.oldest_queued_at else None


def job_counts_by_status() -> dict[str, int]:
    """Every status, zero included. One GROUP BY over the (status, created_at) index."""
    counts = dict.fromkeys(ScoringJob.Status.values, 0)
    rows = ScoringJob.objects.order_by().values_list("status").annotate(n=Count("pk"))
    counts.update({status: n for status, n in rows})
    return counts


def job_window_stats(*, now: datetime) -> dict[str, WindowStats]:
    """Throughput and p50/p95 run time of DONE jobs, for each window, in one query."""
    widest = max(WINDOWS.values())
    ended = ScoringJob.objects.filter(finished_at__gte=now - widest, finished_at__lte=now)
    done, error = Q(status=ScoringJob.Status.DONE), Q(status=ScoringJob.Status.ERROR)
    aggregates = {}
    for name, span in WINDOWS.items():
        inside = Q(finished_at__gte=now - span)
        aggregates[f"{name}_done"] = Count("pk", filter=inside & done)
        aggregates[f"{name}_error"] = Count("pk", filter=inside & error)
        if connection.vendor == "postgresql":
            aggregates[f"{name}_pct"] = PercentilesCont(_run_duration(), (0.5, 0.95), filter=inside & done)
    row = ended.aggregate(**aggregates)
    stats = {}
    for name in WINDOWS:
        p50, p95 = row.get(f"{name}_pct") or (None, None)
        stats[name] = WindowStats(done=row[f"{name}_done"], error=row[f"{name}_error"], p50=p50, p95=p95)
    if connection.vendor != "postgresql":
        _python_percentiles(stats, ended, now)
    return stats


def _python_percentiles(stats: dict[str, WindowStats], ended, now: datetime) -> None:
    rows = list(
        ended.filter(status=ScoringJob.Status.DONE, started_at__isnull=False).values_list("finished_at", "started_at")
    )
    for name, span in WINDOWS.items():
        values = [finished - started for finished, started in rows if finished >= now - span]
        stats[name].p50, stats[name].p95 = _percentile(values, 0.5), _percentile(values, 0.95)


def job_hourly_throughput(*, now: datetime, hours: int = 24) -> list[dict]:
    """Jobs ended per hour over the last ``hours`` hours, oldest first, empty hours included."""
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    rows = (
        ScoringJob.objects.filter(finished_at__gte=first, finished_at__lte=now)
        .annotate(hour=TruncHour("finished_at"))
        .order_by()
        .values("hour")
        .annotate(
            done=Count("pk", filter=Q(status=ScoringJob.Status.DONE)),
            error=Count("pk", filter=Q(status=ScoringJob.Status.ERROR)),
        )
    )
    by_hour = {row["hour"]: row for row in rows}
    series = []
    for i in range(hours):
        hour = first + timedelta(hours=i)
        row = by_hour.get(hour, {})
        series.append({"hour": hour, "done": row.get("done", 0), "error": row.get("error", 0)})
    return series


def oldest_queued_at() -> datetime | None:
    return (
        ScoringJob.objects.filter(status=ScoringJob.Status.QUEUED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def job_error_groups(*, since: datetime, limit: int = 10) -> list[ErrorGroup]:
    """Jobs that ended in ERROR since ``since``, grouped by error code, most frequent first."""
    rows = (
        ScoringJob.objects.filter(status=ScoringJob.Status.ERROR, finished_at__gte=since)
        .order_by()
        .values("error_code")
        .annotate(n=Count("pk"), last_at=Max("finished_at"))
        .order_by("-n", "-last_at")[:limit]
    )
    return [ErrorGroup(code=row["error_code"] or "(none)", count=row["n"], last_at=row["last_at"]) for row in rows]


def recent_error_jobs(*, limit: int = 10) -> list[ScoringJob]:
    return list(
        ScoringJob.objects.filter(status=ScoringJob.Status.ERROR, finished_at__isnull=False)
        .order_by("-finished_at")
        .only("pk", "error_code", "error_message", "finished_at", "attempts", "max_attempts")[:limit]
    )


def job_dashboard(*, now: datetime | None = None) -> Dashboard:
    """Everything the staff dashboard shows from the database: seven queries."""
    now = now or timezone.now()
    return Dashboard(
        now=now,
        counts=job_counts_by_status(),
        windows=job_window_stats(now=now),
        hourly=job_hourly_throughput(now=now),
        oldest_queued_at=oldest_queued_at(),
        error_groups=job_error_groups(since=now - WINDOWS["day"]),
        recent_errors=recent_error_jobs(),
    )


# --- one job -------------------------------------------------------------------------

@dataclass
class JobDetail:
    job: ScoringJob
    attempts: list[JobAttempt]
    events: list[JobEvent]
    siblings: list[ScoringJob]

    @property
    def earlier(self) -> list[ScoringJob]:
        return [j for j in self.siblings if (j.created_at, str(j.pk)) < (self.job.created_at, str(self.job.pk))]

    @property
    def later(self) -> list[ScoringJob]:
        return [j for j in self.siblings if (j.created_at, str(j.pk)) > (self.job.created_at, str(self.job.pk))]


def job_detail(*, job: ScoringJob) -> JobDetail:
    """The job page's timeline, history and the other jobs of the same submission."""
    return JobDetail(
        job=job,
        attempts=list(JobAttempt.objects.filter(job=job).order_by("number")),
        events=list(JobEvent.objects.filter(job=job).order_by("created_at", "id")),
        siblings=list(
            ScoringJob.objects.filter(submission_id=job.submission_id)
            .exclude(pk=job.pk)
            .order_by("created_at", "pk")
            .only("pk", "status", "created_at", "requested_by", "finished_at")
        ),
    )


def jobs_by_id(job_ids) -> dict[str, ScoringJob]:
    """Jobs named by (possibly invalid) ids, keyed by their string id."""
    valid = []
    for job_id in job_ids:
        try:
            valid.append(ScoringJob._meta.pk.to_python(job_id))
        except Exception:  # noqa: S112 (a dead letter may name anything)
            continue
    jobs = ScoringJob.objects.filter(pk__in=valid).select_related("submission__owner", "submission__assignment")
    return {str(job.pk): job for job in jobs}


# --- /metrics ------------------------------------------------------------------------

def attempt_duration_histogram(buckets: tuple[float, ...]) -> dict[str, dict]:
    """Ended attempts by outcome: count, total seconds and cumulative bucket counts.

    JobAttempt rows are append-only, so these only ever grow: valid Prometheus
    counters and histograms, whichever process ran the attempts.
    """
    aggregates = {"n": Count("pk"), "total": Sum("duration")}
    for i, upper in enumerate(buckets):
        aggregates[f"le{i}"] = Count("pk", filter=Q(duration__lte=timedelta(seconds=upper)))
    rows = (
        JobAttempt.objects.alias(duration=ExpressionWrapper(F("finished_at") - F("started_at"),
                                                            output_field=DurationField()))
        .order_by()
        .values("outcome")
        .annotate(**aggregates)
    )
    return {
        row["outcome"]: {
            "count": row["n"],
            "sum": row["total"].total_seconds() if row["total"] else 0.0,
            "buckets": [row[f"le{i}"] for i in range(len(buckets))],
        }
        for row in rows
    }
