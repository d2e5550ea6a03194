import pytest
from django.urls import reverse

from jobs.models import ScoringJob
from submissions.models import Submission
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_pages_require_login(client):
    response = client.get(reverse("submissions:assignment_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_someone_elses_submission_is_not_found(client):
    submission = SubmissionFactory()
    client.force_login(UserFactory())
    assert client.get(reverse("submissions:submission_detail", args=[submission.pk])).status_code == 404
    submit = client.post(reverse("submissions:submission_submit", args=[submission.pk]))
    assert submit.status_code == 404
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS


def test_learner_starts_edits_and_submits(client, django_capture_on_commit_callbacks):
    learner, assignment = UserFactory(), AssignmentFactory()
    client.force_login(learner)
    started = client.post(reverse("submissions:submission_start", args=[assignment.pk]))
    submission = Submission.objects.get(owner=learner)
    detail = reverse("submissions:submission_detail", args=[submission.pk])
    assert started["Location"] == detail
    saved = client.post(detail, {"source_code": "x = 1\n", "documentation": "Sets x.", "version": 1})
    assert saved.status_code == 302
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("submissions:submission_submit", args=[submission.pk]))
    submission.refresh_from_db()
    assert (submission.status, submission.source_code) == (Submission.Status.SUBMITTED, "x = 1\n")
    page = client.get(detail)
    assert ScoringJob.objects.get(submission=submission).status == ScoringJob.Status.QUEUED
    assert b'id="job-status">Queued' in page.content


def test_stale_tab_gets_a_conflict_not_an_overwrite(client):
    submission = SubmissionFactory(source_code="original")
    client.force_login(submission.owner)
    detail = reverse("submissions:submission_detail", args=[submission.pk])
    client.post(detail, {"source_code": "tab one", "documentation": "", "version": 1})
    response = client.post(detail, {"source_code": "tab two", "documentation": "", "version": 1})
    assert b"changed elsewhere" in response.content
    submission.refresh_from_db()
    assert submission.source_code == "tab one"


def test_editing_after_submit_is_refused(client, django_capture_on_commit_callbacks):
    submission = SubmissionFactory(source_code="final")
    client.force_login(submission.owner)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("submissions:submission_submit", args=[submission.pk]))
    submission.refresh_from_db()
    detail = reverse("submissions:submission_detail", args=[submission.pk])
    response = client.post(detail, {"source_code": "late", "documentation": "", "version": submission.version})
    assert b"can no longer be changed" in response.content
    submission.refresh_from_db()
    assert submission.source_code == "final"


def test_health_answers_without_login(client):
    assert client.get("/health").json() == {"status": "ok"}
