"""Insights and the results export (scoring/reports.py) on known data, and
the staff pages and API endpoint that serve them."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from feedback_site.testing.api import api_as, error_of
from scoring.models import ScoreResult
from scoring.reports import ExportFilters, assignment_insights, results_csv, results_rows
from submissions.models import Submission
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def criteria(code, docs, perf):
    return [{"key": "code_quality", "name": "Code quality", "score": code, "max_score": 40.0},
            {"key": "documentation", "name": "Documentation", "score": docs, "max_score": 30.0},
            {"key": "performance", "name": "Performance", "score": perf, "max_score": 30.0}]


def item(rule, severity="warning", criterion="code_quality"):
    return {"criterion": criterion, "severity": severity, "message": "m", "suggestion": "", "file": "",
            "line": None, "rule": rule}


def attempt(owner, assignment, *, at, status=Submission.Status.SUBMITTED):
    submission = SubmissionFactory(owner=owner, assignment=assignment)
    Submission.objects.filter(pk=submission.pk).update(
        status=status, created_at=at, submitted_at=None if status == Submission.Status.IN_PROGRESS else at)
    submission.refresh_from_db()
    return submission


def result(submission, total, crit, feedback=(), *, after):
    stored = ScoreResult.objects.create(submission=submission, total=Decimal(total), criteria=crit,
                                        feedback=list(feedback), engine_version="1.0.0", input_hash="h")
    ScoreResult.objects.filter(pk=stored.pk).update(created_at=submission.submitted_at + after)
    return stored


@pytest.fixture
def known():
    """Three learners on one assignment: ada twice (the first rescored), grace
    once plus an attempt in progress, "=cmd" (a hostile username) once,
    unscored. Another assignment's result must not count."""
    assignment = AssignmentFactory(title="Word counter")
    ada, grace, evil = UserFactory(username="ada"), UserFactory(username="grace"), UserFactory(username="=cmd")
    a1 = attempt(ada, assignment, at=T0)
    result(a1, "40.0", criteria(20, 10, 10), [item("B006")], after=timedelta(seconds=2))
    result(a1, "55.0", criteria(25, 15, 15), [item("B006"), item("PERF401", criterion="performance")],
           after=timedelta(hours=2))  # the rescore: current
    a2 = attempt(ada, assignment, at=T0 + timedelta(hours=3))
    result(a2, "95.0", criteria(40, 25, 30), [item("B006"), item("docs-info", severity="info")],
           after=timedelta(milliseconds=400))
    g1 = attempt(grace, assignment, at=T0 + timedelta(hours=1))
    result(g1, "70.0", criteria(30, 20, 20), [item("PERF401", criterion="performance")],
           after=timedelta(seconds=20))
    attempt(grace, assignment, at=T0 + timedelta(hours=5), status=Submission.Status.IN_PROGRESS)
    attempt(evil, assignment, at=T0 + timedelta(hours=2))
    other = attempt(ada, AssignmentFactory(), at=T0)
    result(other, "10.0", criteria(1, 1, 1), [item("X1")], after=timedelta(seconds=1))
    return assignment, {"a1": a1, "a2": a2, "g1": g1}


def test_insights_count_each_attempts_current_result_once(known):
    assignment, _ = known
    insights = assignment_insights(assignment_id=assignment.pk)
    assert insights.results == 3  # a1 (rescored), a2, g1
    assert insights.mean == round((55 + 95 + 70) / 3, 1)
    assert insights.median == 70.0
    assert dict(insights.histogram) == {"0–9": 0, "10–19": 0, "20–29": 0, "30–39": 0, "40–49": 0, "50–59": 1,
                                        "60–69": 0, "70–79": 1, "80–89": 0, "90–100": 1}
    assert [(c.key, c.average, c.max_score, c.results) for c in insights.criteria] == [
        ("code_quality", round((25 + 40 + 30) / 3, 1), 40.0, 3),
        ("documentation", 20.0, 30.0, 3),
        ("performance", round((15 + 30 + 20) / 3, 1), 30.0, 3),
    ]
    # Warnings and errors only, most frequent first; the first scoring of a1 no longer counts.
    assert [(r.rule, r.count) for r in insights.top_rules] == [("B006", 2), ("PERF401", 2)]
    assert insights.attempts == [(1, 2), (2, 1)]  # grace and "=cmd" submitted once, ada twice
    assert dict(insights.time_to_score) == {"under 1 s": 1, "1–5 s": 0, "5–30 s": 1, "30 s–1 min": 0,
                                            "1–5 min": 0, "5 min–1 h": 0, "over 1 h": 1}


def test_insights_are_computed_again_once_a_result_is_added(known):
    assignment, s = known
    assert assignment_insights(assignment_id=assignment.pk).results == 3
    result(s["a2"], "20.0", criteria(5, 5, 10), after=timedelta(hours=1))  # a rescore of a2
    again = assignment_insights(assignment_id=assignment.pk)
    assert again.results == 3 and again.mean == round((55 + 20 + 70) / 3, 1)


def test_insights_of_an_assignment_without_results():
    insights = assignment_insights(assignment_id=AssignmentFactory().pk)
    assert (insights.results, insights.mean, insights.median, insights.criteria, insights.top_rules) == (
        0, None, None, [], [])


def test_the_export_has_one_row_per_submitted_attempt_numbered_over_all_attempts(known):
    assignment, s = known
    rows = list(results_rows(assignment_id=assignment.pk))
    assert rows[0][:7] == ["learner", "attempt", "status", "score", "Code quality (/40)", "Documentation (/30)",
                           "Performance (/30)"]
    assert [row[:7] for row in rows[1:]] == [
        ["=cmd", 1, "SUBMITTED", "", "", "", ""],
        ["ada", 1, "SUBMITTED", "55.0", "25.0", "15.0", "15.0"],
        ["ada", 2, "SUBMITTED", "95.0", "40.0", "25.0", "30.0"],
        ["grace", 1, "SUBMITTED", "70.0", "30.0", "20.0", "20.0"],
    ]
    assert rows[2][7] == s["a1"].submitted_at.isoformat() and rows[2][9] == str(s["a1"].pk)
    # Filtered: attempt numbers stay what they are.
    later = list(results_rows(assignment_id=assignment.pk, filters=ExportFilters(
        submitted_from=T0 + timedelta(hours=2, minutes=30), learner="ada")))
    assert [row[:2] for row in later[1:]] == [["ada", 2]]
    scored = list(results_rows(assignment_id=assignment.pk, filters=ExportFilters(scored_only=True)))
    assert [row[0] for row in scored[1:]] == ["ada", "ada", "grace"]


def test_the_csv_defuses_spreadsheet_formulas(known):
    assignment, _ = known
    parsed = list(csv.reader(io.StringIO("".join(results_csv(assignment_id=assignment.pk)))))
    assert parsed[1][0] == "'=cmd"
    assert len(parsed) == 5


# --- who may see them -----------------------------------------------------------------


def viewer():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Job viewers"))
    return user


def test_staff_viewers_export_through_the_api_and_others_are_refused(known):
    assignment, _ = known
    response = api_as(viewer()).get(f"/api/assignments/{assignment.pk}/results", {"scored": "true"},
                                    HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("learner,attempt,status,score") and len(lines) == 4
    learner = api_as(UserFactory()).get(f"/api/assignments/{assignment.pk}/results", HTTP_ACCEPT="text/csv")
    assert learner.status_code == 403 and learner["Content-Type"] == "application/json"
    assert error_of(learner)["code"] == "permission_denied"
    assert api_as(UserFactory(is_staff=True)).get(f"/api/assignments/{assignment.pk}/results").status_code == 403


def test_the_api_export_refuses_bad_filters_and_unknown_assignments(known):
    assignment, _ = known
    client = api_as(viewer())
    bad = client.get(f"/api/assignments/{assignment.pk}/results", {"submitted_from": "yesterday"})
    assert bad.status_code == 400 and "submitted_from" in error_of(bad)["fields"]
    backwards = client.get(f"/api/assignments/{assignment.pk}/results",
                           {"submitted_from": "2026-01-02T00:00:00Z", "submitted_to": "2026-01-01T00:00:00Z"})
    assert backwards.status_code == 400
    assert client.get("/api/assignments/999999/results").status_code == 404


def test_the_insights_page_and_the_admin_export(known, django_assert_max_num_queries):
    assignment, _ = known
    client = Client()
    client.force_login(viewer())
    with django_assert_max_num_queries(20):
        page = client.get(f"/admin/scoring/scoreresult/assignment/{assignment.pk}/insights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="results-count">3<' in html and "PERF401" in html and "<svg" in html
    export = client.get(f"/admin/scoring/scoreresult/assignment/{assignment.pk}/results.csv", {"learner": "grace"})
    assert export.status_code == 200
    assert b"".join(export.streaming_content).decode().count("\n") == 2
    assert client.get(f"/admin/scoring/scoreresult/assignment/{assignment.pk}/results.csv",
                      {"submitted_to": "soon"}).status_code == 400
    bare = Client()
    bare.force_login(UserFactory(is_staff=True))
    assert bare.get(f"/admin/scoring/scoreresult/assignment/{assignment.pk}/insights/").status_code == 403
    listing = client.get("/admin/submissions/assignment/")
    assert f"/admin/scoring/scoreresult/assignment/{assignment.pk}/insights/" in listing.content.decode()
