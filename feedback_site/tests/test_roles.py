"""Roles end to end in the API, as in the staff console: reading other
learners' work needs the console's view permissions ("Job viewers"), acting
on jobs needs jobs.operate_scoringjob ("Job operators"); is_staff alone grants
nothing. Every staff endpoint, for each kind of account."""

import pytest

from feedback_site.testing.api import api_as, error_of
from jobs.models import ScoringJob
from jobs.tests.factories import queued_job
from jobs.tests.test_admin import job_in, staff_in
from submissions.tests.factories import SubmissionFileFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["learner", "bare staff", "viewer", "operator", "superuser"]
MAY_READ = {"viewer", "operator", "superuser"}
MAY_OPERATE = {"operator", "superuser"}


def account(role: str):
    return {
        "learner": lambda: UserFactory(username="other-learner"),
        "bare staff": lambda: UserFactory(username="bare-staff", is_staff=True),
        "viewer": lambda: staff_in("Job viewers", "viewer"),
        "operator": lambda: staff_in("Job operators", "operator"),
        "superuser": lambda: UserFactory(username="root", is_staff=True, is_superuser=True),
    }[role]()


def retry():
    job = job_in(ScoringJob.Status.ERROR)
    return f"/api/scoring/{job.pk}/retry", 202


def cancel():
    job = queued_job()
    return f"/api/scoring/{job.pk}/cancel", 200


def rescore():
    job = job_in(ScoringJob.Status.DONE)
    return f"/api/submissions/{job.submission_id}/rescore", 202


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", [retry, cancel, rescore], ids=lambda a: a.__name__)
def test_staff_actions_need_the_operate_permission(role, action):
    path, ok = action()
    response = api_as(account(role)).post(path, {"reason": "role test"}, format="json")
    if role in MAY_OPERATE:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code == 403, response.content
        assert error_of(response)["code"] == "permission_denied"


@pytest.mark.parametrize("role", ROLES)
def test_reading_another_learners_work_needs_the_view_permission(role):
    job = job_in(ScoringJob.Status.DONE)
    submission = job.submission
    file = SubmissionFileFactory(submission=submission)
    client = api_as(account(role))
    paths = [
        f"/api/submissions/{submission.pk}",
        f"/api/scoring/{job.pk}",
        f"/api/submissions/{submission.pk}/files",
        f"/api/submissions/{submission.pk}/files/{file.pk}",
    ]
    expected = 200 if role in MAY_READ else 404  # never confirm that it exists
    assert {path: client.get(path).status_code for path in paths} == dict.fromkeys(paths, expected)
    listed = client.get("/api/submissions").json()["results"]
    assert (str(submission.pk) in {s["id"] for s in listed}) == (role in MAY_READ)
    jobs = client.get("/api/scoring").json()["results"]
    assert (str(job.pk) in {j["id"] for j in jobs}) == (role in MAY_READ)
