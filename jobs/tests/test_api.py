"""Contract and security tests of /api/scoring and the staff job actions."""

import uuid

import pytest
from django.utils import timezone

from feedback_site.testing.api import api_as, error_of
from jobs.models import ScoringJob
from jobs.services import scoring_job_run, submission_submit
from submissions.models import Submission
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def submitted_job(**submission_fields) -> ScoringJob:
    submission = SubmissionFactory(**submission_fields)
    return submission_submit(submission_id=submission.pk, user=submission.owner)


def done_job(**submission_fields) -> ScoringJob:
    job = submitted_job(**submission_fields)
    scoring_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.DONE
    return job


def failed_job(*, code: str, message: str) -> ScoringJob:
    job = submitted_job()
    ScoringJob.objects.filter(pk=job.pk).update(
        status=ScoringJob.Status.ERROR, error_code=code, error_message=message, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


# --- POST /api/scoring ----------------------------------------------------------


def test_request_for_an_in_progress_submission_submits_it_and_answers_202():
    submission = SubmissionFactory()
    response = api_as(submission.owner).post("/api/scoring", {"submission": str(submission.pk)}, format="json")
    assert response.status_code == 202
    job = ScoringJob.objects.get(submission=submission)
    assert response.json()["id"] == str(job.pk)
    assert response.json()["status"] == "QUEUED"
    assert response["Location"].endswith(f"/api/scoring/{job.pk}")
    assert job.requested_by == ScoringJob.RequestedBy.API
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED


def test_a_second_request_returns_the_active_job_and_creates_nothing():
    submission = SubmissionFactory()
    client = api_as(submission.owner)
    first = client.post("/api/scoring", {"submission": str(submission.pk)}, format="json")
    second = client.post("/api/scoring/", {"submission": str(submission.pk)}, format="json")
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    assert ScoringJob.objects.filter(submission=submission).count() == 1


def test_a_request_after_the_job_ended_returns_it_with_200():
    job = done_job()
    response = api_as(job.submission.owner).post(
        "/api/scoring", {"submission": str(job.submission_id)}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (str(job.pk), "DONE")
    assert ScoringJob.objects.filter(submission=job.submission).count() == 1


def test_request_for_someone_elses_or_a_missing_submission_is_404():
    submission = SubmissionFactory()
    client = api_as(UserFactory())
    for target in (submission.pk, uuid.uuid4()):
        response = client.post("/api/scoring", {"submission": str(target)}, format="json")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
    assert not ScoringJob.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"submission": "not-a-uuid"}, "submission"),
        ({"submission": 12}, "submission"),
        ({}, "submission"),
        ({"submission": str(uuid.UUID(int=1)), "status": "DONE"}, "status"),
        ({"submission": str(uuid.UUID(int=1)), "score": 100}, "score"),
        ({"submission": str(uuid.UUID(int=1)), "priority": "high"}, "priority"),
    ],
)
def test_request_refuses_bad_and_server_fields(body, field):
    response = api_as(UserFactory()).post("/api/scoring", body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_request_for_an_empty_submission_is_409():
    submission = SubmissionFactory(source_code="", documentation="")
    response = api_as(submission.owner).post("/api/scoring", {"submission": str(submission.pk)}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "not_ready"
    assert not ScoringJob.objects.exists()


# --- GET /api/scoring/{id} ------------------------------------------------------------


def test_poll_of_a_queued_job_has_status_attempts_and_no_result():
    job = submitted_job()
    body = api_as(job.submission.owner).get(f"/api/scoring/{job.pk}").json()
    assert (body["status"], body["attempts"], body["result"], body["score"]) == ("QUEUED", 0, None, None)
    assert body["created_at"] and body["started_at"] is None and body["finished_at"] is None


def test_poll_of_a_done_job_has_the_score_criteria_feedback_and_summary():
    job = done_job(source_code="def f(x):\n    return x * 2\n")
    body = api_as(job.submission.owner).get(f"/api/scoring/{job.pk}").json()
    assert body["status"] == "DONE" and body["attempts"] == 1
    assert body["started_at"] and body["finished_at"]
    result = body["result"]
    assert result["score"] == float(job.result.total) == body["score"]
    assert result["criteria"] == job.result.criteria and result["criteria"]
    assert result["feedback"] == job.result.feedback
    assert result["summary"] == job.result.summary
    assert result["engine_version"] == job.result.engine_version


def test_each_feedback_item_carries_its_points_and_they_add_up_to_the_criterion_scores():
    source = "def f(words):\n    out = []\n    for w in words:\n        out = out + [w]\n    return out\n"
    job = done_job(source_code=source)
    result = api_as(job.submission.owner).get(f"/api/scoring/{job.pk}").json()["result"]
    assert result["feedback"] and all(isinstance(item["points"], float) for item in result["feedback"])
    for criterion in result["criteria"]:
        charged = sum(item["points"] for item in result["feedback"] if item["criterion"] == criterion["key"])
        assert round(criterion["max_score"] - charged, 1) == criterion["score"]
    copy = next(item for item in result["feedback"] if item["rule"] == "copies.concat-in-loop")
    assert (copy["line"], copy["points"]) == (4, 4.5)


def test_a_result_stored_before_points_per_item_shows_them_as_unknown():
    job = done_job(source_code="def f(x):\n    return x * 2\n")
    old = [{key: value for key, value in item.items() if key != "points"} for item in job.result.feedback]
    old.append({"severity": "warning", "message": "odd", "line": "n/a"})
    type(job.result).objects.filter(pk=job.result.pk).update(feedback=old)
    response = api_as(job.submission.owner).get(f"/api/scoring/{job.pk}")
    assert response.status_code == 200
    items = response.json()["result"]["feedback"]
    assert [item["points"] for item in items] == [None] * len(old)
    assert items[-1] == {"criterion": "", "severity": "warning", "message": "odd", "suggestion": "", "file": "",
                         "line": None, "rule": "", "points": None}


def test_internal_error_text_is_shown_to_staff_only():
    job = failed_job(code="attempts_exhausted", message="OperationalError: could not reach db.internal")
    learner_view = api_as(job.submission.owner).get(f"/api/scoring/{job.pk}").json()
    assert learner_view["error"]["code"] == "attempts_exhausted"
    assert "db.internal" not in learner_view["error"]["message"]
    staff_view = api_as(UserFactory(is_staff=True, is_superuser=True)).get(f"/api/scoring/{job.pk}").json()
    assert "db.internal" in staff_view["error"]["message"]


def test_someone_elses_job_is_404():
    job = submitted_job()
    response = api_as(UserFactory()).get(f"/api/scoring/{job.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api_as(UserFactory(is_staff=True, is_superuser=True)).get(f"/api/scoring/{job.pk}").status_code == 200


# --- GET /api/scoring --------------------------------------------------------------


def test_list_shows_only_jobs_of_the_users_submissions():
    mine = submitted_job()
    submitted_job()
    body = api_as(mine.submission.owner).get("/api/scoring").json()
    assert [item["id"] for item in body["results"]] == [str(mine.pk)]
    assert "result" not in body["results"][0]


def test_list_filters_by_status_and_submission():
    learner = UserFactory()
    queued = submitted_job(owner=learner)
    done = done_job(owner=learner)
    client = api_as(learner)
    by_status = client.get("/api/scoring", {"status": "DONE"}).json()
    assert [item["id"] for item in by_status["results"]] == [str(done.pk)]
    assert by_status["results"][0]["score"] == float(done.result.total)
    by_submission = client.get("/api/scoring", {"submission": str(queued.submission_id)}).json()
    assert [item["id"] for item in by_submission["results"]] == [str(queued.pk)]


@pytest.mark.parametrize(
    "params, field",
    [({"status": "FINISHED"}, "status"), ({"submission": "nope"}, "submission"), ({"page_size": "-3"}, "page_size")],
)
def test_list_refuses_bad_filters(params, field):
    response = api_as(UserFactory()).get("/api/scoring", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("how_many", [2, 12])
def test_list_runs_a_constant_number_of_queries(how_many, django_assert_num_queries):
    learner = UserFactory()
    for _ in range(how_many):
        done_job(owner=learner)
    client = api_as(learner)
    # token + user, the rate limits (one statement), count, page (result joined)
    with django_assert_num_queries(4):
        response = client.get("/api/scoring", {"page_size": 50})
    assert [item["status"] for item in response.json()["results"]] == ["DONE"] * how_many


# --- staff actions ---------------------------------------------------------------------


def test_staff_actions_are_403_for_learners_even_on_their_own_jobs():
    job = failed_job(code="boom", message="x")
    client = api_as(job.submission.owner)
    for url in (f"/api/scoring/{job.pk}/retry", f"/api/scoring/{job.pk}/cancel",
                f"/api/submissions/{job.submission_id}/rescore", f"/api/scoring/{uuid.uuid4()}/retry"):
        response = client.post(url, {}, format="json")
        assert response.status_code == 403, url
        assert error_of(response)["code"] == "permission_denied"
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.ERROR


def test_staff_retry_sends_a_failed_job_back_to_queued():
    job = failed_job(code="boom", message="x")
    response = api_as(UserFactory(is_staff=True, is_superuser=True)).post(
        f"/api/scoring/{job.pk}/retry", {"reason": "engine fixed"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "QUEUED"
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.QUEUED


def test_staff_retry_of_a_job_that_did_not_fail_is_409():
    job = submitted_job()
    response = api_as(UserFactory(is_staff=True, is_superuser=True)).post(f"/api/scoring/{job.pk}/retry", format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "job_conflict"


def test_staff_cancel_ends_a_queued_job_and_refuses_a_finished_one():
    staff = api_as(UserFactory(is_staff=True, is_superuser=True))
    job = submitted_job()
    response = staff.post(f"/api/scoring/{job.pk}/cancel", {"reason": "duplicate"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error"]["code"]) == ("ERROR", "cancelled")
    again = staff.post(f"/api/scoring/{job.pk}/cancel", format="json")
    assert again.status_code == 409


def test_staff_rescore_creates_a_new_job_and_keeps_the_old_result():
    job = done_job()
    response = api_as(UserFactory(is_staff=True, is_superuser=True)).post(
        f"/api/submissions/{job.submission_id}/rescore", {"reason": "rubric changed"}, format="json"
    )
    assert response.status_code == 202
    new_id = response.json()["id"]
    assert new_id != str(job.pk)
    assert response["Location"].endswith(f"/api/scoring/{new_id}")
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.DONE and job.result is not None
    assert ScoringJob.objects.filter(submission=job.submission).count() == 2


def test_staff_rescore_of_an_in_progress_submission_is_409():
    submission = SubmissionFactory()
    staff = api_as(UserFactory(is_staff=True, is_superuser=True))
    response = staff.post(f"/api/submissions/{submission.pk}/rescore", format="json")
    assert response.status_code == 409
    assert not ScoringJob.objects.exists()


def test_staff_action_with_unknown_fields_is_400():
    job = failed_job(code="boom", message="x")
    response = api_as(UserFactory(is_staff=True, is_superuser=True)).post(
        f"/api/scoring/{job.pk}/retry", {"status": "QUEUED"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in error_of(response)["fields"]
    job.refresh_from_db()
    assert job.status == ScoringJob.Status.ERROR
