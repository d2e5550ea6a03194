"""Reads for staff about an assignment's scored work: insights and the results export.

A submission's *current* result is its newest ScoreResult (a rescore adds a
newer one; the older stays as history). Every figure here counts current
results only. The aggregations run in the database (the feedback and criteria
JSON is unpacked there, not in Python), so 100,000 results cost a few queries;
the export is a server-side cursor streamed row by row.
"""

import csv
import io
import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Floor, Least

from scoring.engine.types import INFO
from scoring.models import ScoreResult
from scoring.selectors import rubric_spec_for_assignment
from submissions.models import Submission

EXPORT_CHUNK = 2000
INSIGHTS_CACHE_SECONDS = 24 * 3600
INSIGHTS_VERSION = 1  # bump when AssignmentInsights changes shape
TOP_RULES = 10
# Time from submit to the current result, in buckets people read at a glance.
TIME_BUCKETS = [(1, "under 1 s"), (5, "1–5 s"), (30, "5–30 s"), (60, "30 s–1 min"), (300, "1–5 min"),
                (3600, "5 min–1 h")]
TIME_OVER = "over 1 h"


def can_read_results(user) -> bool:
    """Staff who may view results and submissions (the console's viewer and operator groups)."""
    return bool(user.is_staff and user.has_perm("scoring.view_scoreresult")
                and user.has_perm("submissions.view_submission"))


def current_results(*, assignment_id):
    """Each scored submission's newest result, for one assignment: the results
    no newer result of the same submission replaces (an anti-join the database
    answers in one pass, not a lookup per row)."""
    newer = ScoreResult.objects.filter(submission_id=OuterRef("submission_id")).filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id"))
    )
    # order_by(): the model's default ordering would sort every use of it for nothing.
    return ScoreResult.objects.filter(submission__assignment_id=assignment_id).filter(~Exists(newer)).order_by()


@dataclass(frozen=True)
class CriterionAverage:
    key: str
    name: str
    average: float
    max_score: float
    results: int


@dataclass(frozen=True)
class RuleCount:
    rule: str
    criterion: str
    count: int
    example_submission_id: str


@dataclass(frozen=True)
class AssignmentInsights:
    results: int
    mean: float | None
    median: float | None
    histogram: list[tuple[str, int]]  # ten bands of 10 points: ("0–9", n) … ("90–100", n)
    criteria: list[CriterionAverage]
    top_rules: list[RuleCount]
    attempts: list[tuple[int, int]]  # (attempts submitted, learners who submitted that many)
    time_to_score: list[tuple[str, int]]


def assignment_insights(*, assignment_id) -> AssignmentInsights:
    """The figures, computed again only when the assignment's results changed
    (kept in the cache under the newest result's id and the count)."""
    state = ScoreResult.objects.filter(submission__assignment_id=assignment_id).aggregate(
        newest=Max("id"), n=Count("id"))
    key = f"insights:{INSIGHTS_VERSION}:{assignment_id}:{state['newest']}:{state['n']}"
    insights = cache.get(key)
    if insights is None:
        insights = _insights(assignment_id)
        cache.set(key, insights, INSIGHTS_CACHE_SECONDS)
    return insights


def _insights(assignment_id) -> AssignmentInsights:
    current = current_results(assignment_id=assignment_id)
    summary = current.aggregate(n=Count("id"), mean=Avg("total"))
    n = summary["n"]
    median = None
    if n:
        middle = current.order_by("total").values_list("total", flat=True)
        median = float(middle[(n - 1) // 2]) if n % 2 else (float(middle[n // 2 - 1]) + float(middle[n // 2])) / 2
    return AssignmentInsights(
        results=n,
        mean=round(float(summary["mean"]), 1) if summary["mean"] is not None else None,
        median=median,
        histogram=_histogram(current),
        criteria=_criterion_averages(current, assignment_id),
        top_rules=_top_rules(current),
        attempts=_attempts_per_learner(assignment_id),
        time_to_score=_time_to_score(current),
    )


def _histogram(current) -> list[tuple[str, int]]:
    bands = dict(current.annotate(band=Least(Floor(F("total") / 10), Value(9), output_field=IntegerField()))
                 .values("band").annotate(n=Count("id")).values_list("band", "n"))
    return [(f"{b * 10}–{b * 10 + 9}" if b < 9 else "90–100", bands.get(b, 0)) for b in range(10)]


def _json_elements_sql(column: str) -> tuple[str, str]:
    """FROM-clause unpacking a JSON array column, and how to read a member of an element."""
    if connection.vendor == "postgresql":
        return f"CROSS JOIN LATERAL jsonb_array_elements(r.{column}) AS e", "e.value->>'{}'"
    return f", json_each(r.{column}) AS e", "json_extract(e.value, '$.{}')"


def _over_current(current, select: str, unpack: str, where: str, group: str, order: str, limit: int | None):
    # Every piece of the text is this module's constant SQL; the values are bound parameters.
    ids_sql, params = current.values("id").query.sql_with_params()
    table = ScoreResult._meta.db_table
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    sql = f"SELECT {select} FROM {table} r {unpack} WHERE r.id IN ({ids_sql}) {where} GROUP BY {group} ORDER BY {order}{limit_sql}"  # noqa: E501, S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _criterion_averages(current, assignment_id) -> list[CriterionAverage]:
    unpack, member = _json_elements_sql("criteria")
    number = "CAST({} AS double precision)" if connection.vendor == "postgresql" else "CAST({} AS REAL)"
    rows = _over_current(
        current,
        select=(f"{member.format('key')}, MAX({member.format('name')}), AVG({number.format(member.format('score'))}), "
                f"MAX({number.format(member.format('max_score'))}), COUNT(*)"),
        unpack=unpack, where="", group="1", order="1", limit=None,
    )
    found = {key: CriterionAverage(key, name, round(avg, 1), round(top, 1), count)
             for key, name, avg, top, count in rows}
    # The rubric's order first (today's criteria), then any only older results have.
    order = [c.key for c in rubric_spec_for_assignment(assignment_id=assignment_id).criteria]
    return [found[k] for k in order if k in found] + [v for k, v in found.items() if k not in order]


def _top_rules(current) -> list[RuleCount]:
    unpack, member = _json_elements_sql("feedback")
    example = "MIN(CAST(r.submission_id AS text))" if connection.vendor == "postgresql" else "MIN(r.submission_id)"
    rows = _over_current(
        current,
        select=f"{member.format('rule')}, {member.format('criterion')}, COUNT(*), {example}",
        unpack=unpack,
        where=f"AND COALESCE({member.format('rule')}, '') <> '' AND {member.format('severity')} <> '{INFO}'",
        group="1, 2", order="3 DESC, 1", limit=TOP_RULES,
    )
    return [RuleCount(rule, criterion, count, str(uuid.UUID(str(example_id))))
            for rule, criterion, count, example_id in rows]


def _attempts_per_learner(assignment_id) -> list[tuple[int, int]]:
    per_learner = (Submission.objects.filter(assignment_id=assignment_id)
                   .exclude(status=Submission.Status.IN_PROGRESS)
                   .values("owner_id").annotate(n=Count("id")).values_list("n", flat=True))
    return sorted(Counter(per_learner).items())


def _time_to_score(current) -> list[tuple[str, int]]:
    waited = ExpressionWrapper(F("created_at") - F("submission__submitted_at"), output_field=DurationField())
    cases = [When(waited__lt=timedelta(seconds=limit), then=Value(label)) for limit, label in TIME_BUCKETS]
    counted = dict(current.filter(submission__submitted_at__isnull=False)
                   .annotate(waited=waited, bucket=Case(*cases, default=Value(TIME_OVER)))
                   .values("bucket").annotate(n=Count("id")).values_list("bucket", "n"))
    return [(label, counted.get(label, 0)) for _, label in TIME_BUCKETS] + [(TIME_OVER, counted.get(TIME_OVER, 0))]


# --- the export -----------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    learner: str = ""  # a username, exactly
    scored_only: bool = False


def results_rows(*, assignment_id, filters: ExportFilters = ExportFilters()) -> Iterator[list]:
    """The header, then one row per submitted attempt: learner, attempt number,
    status, score, each criterion's score, submitted and scored times. Learners
    in username order, each one's attempts in order. Streams (constant memory)."""
    criteria = list(rubric_spec_for_assignment(assignment_id=assignment_id).criteria)
    yield (["learner", "attempt", "status", "score"]
           + [f"{c.name} (/{c.weight})" for c in criteria]
           + ["submitted_at", "scored_at", "submission_id", "engine_version", "rubric_version"])
    submissions = (
        Submission.objects.filter(assignment_id=assignment_id)
        .annotate(username=F("owner__username"))
        .order_by("owner__username", "owner_id", "created_at", "id")
        .values_list("owner_id", "username", "status", "submitted_at", "pk")
    )
    if filters.learner:
        submissions = submissions.filter(owner__username=filters.learner)
    owner, attempt = None, 0
    rows = submissions.iterator(chunk_size=EXPORT_CHUNK)
    while chunk := list(itertools.islice(rows, EXPORT_CHUNK)):
        # The chunk's current results in one query.
        results = {row[0]: row[1:] for row in current_results(assignment_id=assignment_id).filter(
            submission_id__in=[r[-1] for r in chunk]
        ).values_list("submission_id", "total", "criteria", "created_at", "engine_version", "rubric_version_label")}
        for owner_id, username, status, submitted_at, pk in chunk:
            # Numbered over every attempt, before the filters: attempt 3 stays 3 in a filtered export.
            attempt = attempt + 1 if owner_id == owner else 1
            owner = owner_id
            score, scored, scored_at, engine_version, rubric_version = results.get(pk, (None,) * 5)
            if status == Submission.Status.IN_PROGRESS or not _wanted(filters, submitted_at, score):
                continue
            by_key = {c.get("key"): c.get("score") for c in _as_list(scored)}
            yield ([username, attempt, status, "" if score is None else f"{score:.1f}"]
                   + ["" if by_key.get(c.key) is None else f"{by_key[c.key]:.1f}" for c in criteria]
                   + [_iso(submitted_at), _iso(scored_at), str(pk), engine_version or "", rubric_version or ""])


def _wanted(filters: ExportFilters, submitted_at, score) -> bool:
    if filters.scored_only and score is None:
        return False
    if filters.submitted_from and (submitted_at is None or submitted_at < filters.submitted_from):
        return False
    return not (filters.submitted_to and (submitted_at is None or submitted_at >= filters.submitted_to))


def _as_list(value) -> list:
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def results_csv(*, assignment_id, filters: ExportFilters = ExportFilters()) -> Iterator[str]:
    """results_rows as CSV text, a line at a time, with spreadsheet formulas
    defused (a cell a learner controls never starts with = + - @)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in results_rows(assignment_id=assignment_id, filters=filters):
        writer.writerow([_defused(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _defused(cell):
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell
