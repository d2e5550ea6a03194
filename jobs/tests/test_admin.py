"""The jobs admin: list, search, filters, the job page, and actions through the services."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone

import jobs.admin as jobs_admin
from jobs.admin import actions as admin_actions
from jobs.admin.formatting import format_duration
from jobs.admin.paginator import JobPaginator
from jobs.models import JobAttempt, JobEvent, ScoringJob
from jobs.services import scoring_job_run
from jobs.tests.factories import queued_job
from scoring import engine
from submissions.tests.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:jobs_scoringjob_changelist"


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Admin pages name their CSS through the manifest in production; tests have none.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- helpers, shared with the dashboard and browser tests ------------------------------

def staff_in(group: str, username: str):
    """A staff user whose only rights come from one of the groups created after every migrate."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def job_in(status: str, *, code: str = "engine_crash", message: str = "boom", **submission_fields) -> ScoringJob:
    """A job brought to ``status`` by the pipeline's own transitions and services."""
    job = queued_job(**submission_fields)
    if status == ScoringJob.Status.QUEUED:
        return job
    if status == ScoringJob.Status.DONE:
        assert scoring_job_run(job_id=job.pk) == JobAttempt.Outcome.SUCCEEDED
        return ScoringJob.objects.get(pk=job.pk)
    assert ScoringJob.claim(job_id=job.pk, lease_owner="test-worker", lease_seconds=300)
    if status == ScoringJob.Status.ERROR:
        assert ScoringJob.fail(job_id=job.pk, lease_owner="test-worker", code=code, message=message)
    return ScoringJob.objects.get(pk=job.pk)


def spy_on(monkeypatch, name: str) -> list:
    """Record the calls the admin makes to one of jobs.services' functions (still running it)."""
    calls = []
    real = getattr(admin_actions, name)

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(admin_actions, name, spy)
    return calls


def bulk(client, action: str, jobs, **extra):
    data = {"action": action, "_selected_action": [str(j.pk) for j in jobs], **extra}
    return client.post(reverse(CHANGELIST), data)


@pytest.fixture
def operator(client):
    user = staff_in("Job operators", "operator")
    client.force_login(user)
    return user


@pytest.fixture
def viewer(client):
    user = staff_in("Job viewers", "viewer")
    client.force_login(user)
    return user


def _log_entries(job) -> list[LogEntry]:
    return list(LogEntry.objects.filter(object_id=str(job.pk)).order_by("id"))


# --- actions on one job -----------------------------------------------------------------

def test_retry_button_asks_for_a_reason_then_retries_through_the_service(client, operator, monkeypatch):
    job = job_in(ScoringJob.Status.ERROR)
    calls = spy_on(monkeypatch, "scoring_job_retry")
    url = reverse("admin:jobs_scoringjob_action", args=[job.pk, "retry"])

    page = client.get(url)
    assert page.status_code == 200 and b'name="reason"' in page.content
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 200 and b"This field is required" in refused.content
    assert ScoringJob.objects.get(pk=job.pk).status == ScoringJob.Status.ERROR

    response = client.post(url, {"reason": "scorer fixed in 1.4"})
    assert response.status_code == 302
    assert calls == [{"job_id": job.pk, "user": operator, "reason": "scorer fixed in 1.4"}]
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.QUEUED
    event = JobEvent.objects.filter(job=job).latest("id")
    assert (event.action, event.actor, event.reason) == (JobEvent.Action.RETRY, "operator", "scorer fixed in 1.4")
    [entry] = _log_entries(job)
    assert (entry.user, entry.action_flag) == (operator, CHANGE)
    assert "scorer fixed in 1.4" in entry.change_message


def test_cancel_button_cancels_a_queued_job_and_asks_a_running_ones_worker(client, operator, monkeypatch):
    calls = spy_on(monkeypatch, "scoring_job_cancel")
    queued, running = job_in(ScoringJob.Status.QUEUED), job_in(ScoringJob.Status.RUNNING)
    for job in (queued, running):
        response = client.post(reverse("admin:jobs_scoringjob_action", args=[job.pk, "cancel"]),
                               {"reason": "learner withdrew"})
        assert response.status_code == 302
    assert [c["job_id"] for c in calls] == [queued.pk, running.pk]
    queued.refresh_from_db()
    running.refresh_from_db()
    assert (queued.status, queued.error_code) == (ScoringJob.Status.ERROR, "cancelled")
    assert running.status == ScoringJob.Status.RUNNING and running.cancel_reason == "learner withdrew"
    assert JobEvent.objects.get(job=queued, action=JobEvent.Action.CANCEL).reason == "learner withdrew"
    assert JobEvent.objects.get(job=running, action=JobEvent.Action.CANCEL_REQUESTED).actor == "operator"
    assert "Cancelled (QUEUED → ERROR)" in _log_entries(queued)[0].change_message
    assert "Cancel requested" in _log_entries(running)[0].change_message


def test_rescore_button_creates_a_new_job_and_records_it_on_both(client, operator, monkeypatch):
    done = job_in(ScoringJob.Status.DONE)
    calls = spy_on(monkeypatch, "submission_rescore")
    response = client.post(reverse("admin:jobs_scoringjob_action", args=[done.pk, "rescore"]),
                           {"reason": "rubric v2"})
    assert response.status_code == 302
    assert calls == [{"submission_id": done.submission_id, "user": operator, "reason": "rubric v2"}]
    new = ScoringJob.objects.exclude(pk=done.pk).get(submission=done.submission)
    assert (new.status, new.requested_by, new.requested_by_user) == ("QUEUED", "STAFF", operator)
    assert JobEvent.objects.get(job=new, action=JobEvent.Action.CREATE).reason == "rubric v2"
    done.refresh_from_db()
    assert done.status == ScoringJob.Status.DONE  # a rescore never overwrites
    assert str(new.pk) in _log_entries(done)[0].change_message
    assert _log_entries(new)[0].action_flag == ADDITION
    # The old job's page links to the new one from its history.
    page = client.get(reverse("admin:jobs_scoringjob_change", args=[done.pk])).content.decode()
    assert "Rescored as a new job" in page
    assert reverse("admin:jobs_scoringjob_change", args=[new.pk]) in page


def test_an_action_the_state_does_not_allow_is_reported_not_forced(client, operator):
    done = job_in(ScoringJob.Status.DONE)
    response = client.post(reverse("admin:jobs_scoringjob_action", args=[done.pk, "retry"]),
                           {"reason": "why not"}, follow=True)
    assert "Only a job in ERROR can be retried" in response.content.decode()
    done.refresh_from_db()
    assert done.status == ScoringJob.Status.DONE
    assert not _log_entries(done)
    assert not JobEvent.objects.filter(job=done, action=JobEvent.Action.RETRY).exists()


# --- bulk actions ----------------------------------------------------------------------------

def test_bulk_retry_confirms_with_a_reason_then_retries_what_it_can(client, operator, monkeypatch):
    failed = [job_in(ScoringJob.Status.ERROR) for _ in range(2)]
    done = job_in(ScoringJob.Status.DONE)
    calls = spy_on(monkeypatch, "scoring_job_retry")

    confirmation = bulk(client, "retry_selected", [*failed, done], index="0")
    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert 'name="reason"' in page and "Retry 3 scoring jobs" in page and "will be skipped" in page
    assert calls == [] and ScoringJob.objects.filter(status="ERROR").count() == 2

    no_reason = bulk(client, "retry_selected", [*failed, done], confirm="yes", reason="")
    assert no_reason.status_code == 200 and calls == []

    response = bulk(client, "retry_selected", [*failed, done], confirm="yes", reason="storage outage over")
    assert response.status_code == 302
    assert sorted(str(c["job_id"]) for c in calls) == sorted(str(j.pk) for j in [*failed, done])
    assert set(ScoringJob.objects.filter(pk__in=[j.pk for j in failed]).values_list("status", flat=True)) == {"QUEUED"}
    for job in failed:
        assert JobEvent.objects.get(job=job, action=JobEvent.Action.RETRY).reason == "storage outage over"
        assert "storage outage over" in _log_entries(job)[0].change_message
    assert ScoringJob.objects.get(pk=done.pk).status == "DONE" and not _log_entries(done)
    shown = client.get(reverse(CHANGELIST)).content.decode()
    assert "Retried 2 jobs." in shown and "1 skipped" in shown


def test_bulk_cancel_and_bulk_rescore_go_through_the_services(client, operator, monkeypatch):
    cancels, rescores = spy_on(monkeypatch, "scoring_job_cancel"), spy_on(monkeypatch, "submission_rescore")
    queued = [job_in(ScoringJob.Status.QUEUED) for _ in range(2)]
    finished = [job_in(ScoringJob.Status.DONE), job_in(ScoringJob.Status.ERROR)]

    assert bulk(client, "cancel_selected", queued, confirm="yes", reason="bad batch").status_code == 302
    assert len(cancels) == 2
    assert set(ScoringJob.objects.filter(pk__in=[j.pk for j in queued]).values_list("error_code", flat=True)) == {
        "cancelled"}

    assert bulk(client, "rescore_selected", finished, confirm="yes", reason="new engine").status_code == 302
    assert len(rescores) == 2
    for job in finished:
        new = ScoringJob.objects.filter(submission=job.submission).latest("created_at")
        assert new.pk != job.pk and new.status == "QUEUED"
        assert JobEvent.objects.get(job=new, action=JobEvent.Action.CREATE).reason == "new engine"
        assert "new engine" in _log_entries(job)[0].change_message


# --- who may do what -----------------------------------------------------------------------

def test_a_viewer_can_look_but_not_act(client, viewer, monkeypatch):
    failed = job_in(ScoringJob.Status.ERROR)
    calls = spy_on(monkeypatch, "scoring_job_retry")

    listing = client.get(reverse(CHANGELIST))
    assert listing.status_code == 200 and str(failed.pk)[:8] in listing.content.decode()
    assert b"retry_selected" not in listing.content  # no actions offered
    page = client.get(reverse("admin:jobs_scoringjob_change", args=[failed.pk]))
    assert page.status_code == 200 and b"/retry/" not in page.content
    assert client.get(reverse("admin:jobs_scoringjob_dashboard")).status_code == 200

    action_url = reverse("admin:jobs_scoringjob_action", args=[failed.pk, "retry"])
    assert client.get(action_url).status_code == 403
    assert client.post(action_url, {"reason": "sneaky"}).status_code == 403
    bulk(client, "retry_selected", [failed], confirm="yes", reason="sneaky")
    assert client.post(reverse("admin:jobs_scoringjob_dead_letters"), {"operation": "redrive_all"}).status_code == 403
    assert client.post(reverse("admin:jobs_scoringjob_dead_letters_purge"), {"confirm": "yes"}).status_code == 403

    assert calls == []
    assert ScoringJob.objects.get(pk=failed.pk).status == ScoringJob.Status.ERROR
    assert not LogEntry.objects.exists()


def test_an_operator_sees_the_actions_and_nobody_edits_a_job(client, operator):
    failed = job_in(ScoringJob.Status.ERROR)
    assert b"retry_selected" in client.get(reverse(CHANGELIST)).content
    page = client.get(reverse("admin:jobs_scoringjob_change", args=[failed.pk])).content.decode()
    assert reverse("admin:jobs_scoringjob_action", args=[failed.pk, "retry"]) in page
    assert 'name="_save"' not in page  # read-only: state changes only through the actions


def test_non_staff_users_are_sent_to_the_login(client):
    client.force_login(UserFactory(username="learner-x"))
    for name in ("admin:jobs_scoringjob_changelist", "admin:jobs_scoringjob_dashboard",
                 "admin:jobs_scoringjob_dead_letters"):
        assert client.get(reverse(name)).status_code == 302


# --- the list: search, filters, query count ------------------------------------------------------

def _listed(client, **params) -> set:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {str(job.pk) for job in response.context["cl"].result_list}


def test_search_by_learner_job_id_and_submission_id(client, operator):
    alice = job_in(ScoringJob.Status.QUEUED, owner=UserFactory(username="alice"))
    alicia = job_in(ScoringJob.Status.DONE, owner=UserFactory(username="alicia"))
    bob = job_in(ScoringJob.Status.ERROR, owner=UserFactory(username="bob"))
    assert _listed(client, q="alic") == {str(alice.pk), str(alicia.pk)}
    assert _listed(client, q="BOB") == {str(bob.pk)}
    assert _listed(client, q=str(alicia.pk)) == {str(alicia.pk)}
    assert _listed(client, q=str(bob.submission_id)) == {str(bob.pk)}
    assert _listed(client, q=str(uuid.uuid4())) == set()


def test_filters_by_status_assignment_requested_by_and_date(client, operator):
    essay, quiz = AssignmentFactory(title="Essay"), AssignmentFactory(title="Quiz")
    queued = job_in(ScoringJob.Status.QUEUED, assignment=essay)
    failed = job_in(ScoringJob.Status.ERROR, assignment=quiz)
    done = job_in(ScoringJob.Status.DONE, assignment=quiz)
    ScoringJob.objects.filter(pk=done.pk).update(requested_by=ScoringJob.RequestedBy.API,
                                                 created_at=timezone.now() - timedelta(days=40))

    assert _listed(client, status__exact="ERROR") == {str(failed.pk)}
    assert _listed(client, submission__assignment__id__exact=quiz.pk) == {str(failed.pk), str(done.pk)}
    assert _listed(client, requested_by__exact="API") == {str(done.pk)}
    # What the filter's own "Past 7 days" link sends.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since, tomorrow = str(today - timedelta(days=7)), str(today + timedelta(days=1))
    assert _listed(client, created_at__gte=since, created_at__lt=tomorrow) == {str(queued.pk), str(failed.pk)}
    assert _listed(client, status__exact="ERROR", submission__assignment__id__exact=essay.pk) == set()
    assert _listed(client, status__exact="ERROR", error_code="engine_crash") == {str(failed.pk)}


def test_list_shows_badge_attempts_duration_age_learner_and_assignment(client, operator):
    done = job_in(ScoringJob.Status.DONE, owner=UserFactory(username="carol"),
                  assignment=AssignmentFactory(title="Linked lists"))
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert 'class="job-badge job-badge-done"' in page
    assert "1 of 3" in page and "carol" in page and "Linked lists" in page
    assert format_duration(done.duration) in page


def _jobs(n: int) -> None:
    for i in range(n):
        job_in(ScoringJob.Status.QUEUED, owner=UserFactory(username=f"q{n}-{i}"))


@pytest.mark.parametrize("n", [5, 50])
def test_changelist_query_count_does_not_grow_with_the_page(client, operator, django_assert_num_queries, n):
    _jobs(n)
    client.get(reverse(CHANGELIST))  # warm the session and permission caches the same way for both
    # session, user, permissions (user + groups), count, page, assignment filter choices
    with django_assert_num_queries(7):
        response = client.get(reverse(CHANGELIST), {"status__exact": "QUEUED"})
    assert len(response.context["cl"].result_list) == min(n, jobs_admin.ScoringJobAdmin.list_per_page)


def test_an_unfiltered_list_of_a_big_table_uses_the_planner_estimate(monkeypatch):
    _jobs(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jobs_scoringjob")
    monkeypatch.setattr(JobPaginator, "ESTIMATE_ABOVE", 0)
    paginator = JobPaginator(ScoringJob.objects.order_by("-created_at"), 50)
    assert paginator.count == 3  # pg_class.reltuples, exact right after ANALYZE
    filtered = JobPaginator(ScoringJob.objects.filter(status="DONE"), 50)
    assert filtered.count == 0  # filtered lists are always counted


# --- the job page ----------------------------------------------------------------------------

def test_job_page_shows_timeline_history_result_and_sibling_jobs(client, operator, monkeypatch):
    first = job_in(ScoringJob.Status.DONE)
    # A later job of the same submission, whose only attempt was rejected.
    client.post(reverse("admin:jobs_scoringjob_action", args=[first.pk, "rescore"]), {"reason": "again"})
    second = ScoringJob.objects.filter(submission=first.submission).exclude(pk=first.pk).get()
    monkeypatch.setattr("jobs.services.scoring_evaluate",
                        lambda **kw: (_ for _ in ()).throw(engine.ScoringRejected("too_big", "input too large")))
    assert scoring_job_run(job_id=second.pk) == JobAttempt.Outcome.REJECTED

    page = client.get(reverse("admin:jobs_scoringjob_change", args=[first.pk])).content.decode()
    result = first.result
    assert result.engine_version in page and result.input_hash in page
    attempt = JobAttempt.objects.get(job=first)
    assert attempt.worker_id in page and "Succeeded" in page
    assert "Claimed by a worker" in page and "Finished" in page
    assert reverse("admin:jobs_scoringjob_change", args=[second.pk]) in page and "later" in page
    assert reverse("admin:submissions_submission_change", args=[first.submission_id]) in page

    page = client.get(reverse("admin:jobs_scoringjob_change", args=[second.pk])).content.decode()
    assert "Rejected (permanent)" in page and "input too large" in page
    assert reverse("admin:jobs_scoringjob_change", args=[first.pk]) in page and "earlier" in page
    assert "No result" in page


def test_a_traceback_is_folded_away_on_the_job_page(client, operator):
    job = job_in(ScoringJob.Status.ERROR)
    JobAttempt.objects.create(
        job=job, number=1, worker_id="w1", started_at=job.started_at, finished_at=timezone.now(),
        outcome=JobAttempt.Outcome.EXHAUSTED, error_class="builtins.RuntimeError", error_message="kaput",
        traceback="Traceback (most recent call last):\n  File \"x.py\", line 1\nRuntimeError: kaput",
    )
    page = client.get(reverse("admin:jobs_scoringjob_change", args=[job.pk])).content.decode()
    assert "<details><summary>Traceback</summary><pre>Traceback (most recent call last):" in page
    assert "builtins.RuntimeError" in page


def test_a_deep_page_finds_its_ids_first_and_lists_the_same_jobs(client, operator, monkeypatch,
                                                                 django_assert_max_num_queries):
    _jobs(7)
    monkeypatch.setattr(jobs_admin.ScoringJobAdmin, "list_per_page", 3)
    expected = [str(pk) for pk in ScoringJob.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)]
    monkeypatch.setattr(JobPaginator, "DEFERRED_JOIN_FROM", 3)
    pages = []
    for p in (1, 2, 3):
        response = client.get(reverse(CHANGELIST), {"p": p})
        pages.append([str(job.pk) for job in response.context["cl"].result_list])
    assert pages == [expected[0:3], expected[3:6], expected[6:7]]
    assert isinstance(response.context["cl"].result_list, list)  # the deferred join ran
    with django_assert_max_num_queries(9):  # ids, then the rows with learner and assignment joined
        page = client.get(reverse(CHANGELIST), {"p": 2}).content.decode()
    assert page.count("q7-") == 3  # learners shown without a query per row
