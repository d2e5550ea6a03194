"""Contract and security tests of /api/submissions, over token authentication."""

import pytest
from rest_framework.test import APIClient

from feedback_site.testing.api import api_as, error_of
from jobs.models import ScoringJob
from submissions.models import Submission
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- create -----------------------------------------------------------------


def test_create_starts_a_submission_and_names_it_in_location():
    learner, assignment = UserFactory(), AssignmentFactory()
    response = api_as(learner).post("/api/submissions", {"assignment": assignment.pk}, format="json")
    assert response.status_code == 201
    body = response.json()
    submission = Submission.objects.get(owner=learner)
    assert body["id"] == str(submission.pk)
    assert (body["assignment"], body["owner"], body["status"], body["version"]) == (
        assignment.pk, learner.username, "IN_PROGRESS", 1,
    )
    assert response["Location"].endswith(f"/api/submissions/{submission.pk}")
    assert response["ETag"] == '"1"'


def test_create_again_returns_the_open_submission_with_200():
    learner, assignment = UserFactory(), AssignmentFactory()
    client = api_as(learner)
    first = client.post("/api/submissions/", {"assignment": assignment.pk}, format="json")
    second = client.post("/api/submissions", {"assignment": assignment.pk}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Submission.objects.filter(owner=learner).count() == 1


def test_create_for_a_missing_assignment_is_a_field_error():
    response = api_as(UserFactory()).post("/api/submissions", {"assignment": 987654}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"assignment": ["No such assignment."]}


def test_create_when_every_attempt_is_used_is_a_conflict():
    learner, assignment = UserFactory(), AssignmentFactory(max_attempts=1)
    SubmissionFactory(owner=learner, assignment=assignment)
    Submission.objects.filter(owner=learner).update(status="SUBMITTED", submitted_at="2026-01-01T00:00:00Z")
    response = api_as(learner).post("/api/submissions", {"assignment": assignment.pk}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "cannot_start"


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"assignment": "one"}, "assignment", "A valid integer is required."),
        ({"assignment": "1"}, "assignment", "A valid integer is required."),
        ({"assignment": True}, "assignment", "A valid integer is required."),
        ({"assignment": 1.5}, "assignment", "A valid integer is required."),
        ({"assignment": 2**70}, "assignment", None),
        ({}, "assignment", "This field is required."),
        ({"assignment": None}, "assignment", "This field may not be null."),
    ],
)
def test_create_refuses_wrong_types(body, field, message):
    response = api_as(UserFactory()).post("/api/submissions", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"]
    if message:
        assert error["fields"][field] == [message]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("field", ["status", "owner", "score", "created_at", "id"])
def test_create_refuses_server_fields(field):
    assignment = AssignmentFactory()
    response = api_as(UserFactory()).post(
        "/api/submissions", {"assignment": assignment.pk, field: "x"}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {field: ["This field is set by the server and cannot be written."]}
    assert not Submission.objects.exists()


def test_create_refuses_unknown_fields_instead_of_ignoring_them():
    assignment = AssignmentFactory()
    response = api_as(UserFactory()).post(
        "/api/submissions", {"assignment": assignment.pk, "colour": "red"}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"colour": ["Unknown field."]}


def test_create_refuses_a_body_that_is_not_an_object():
    response = api_as(UserFactory()).post("/api/submissions", [1, 2], format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


# --- list ------------------------------------------------------------------------


def test_list_shows_only_the_users_own_submissions():
    learner = UserFactory()
    mine = SubmissionFactory.create_batch(2, owner=learner)
    SubmissionFactory.create_batch(3)
    body = api_as(learner).get("/api/submissions").json()
    assert body["count"] == 2
    assert {item["id"] for item in body["results"]} == {str(s.pk) for s in mine}


def test_staff_list_everyones_submissions():
    SubmissionFactory.create_batch(3)
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert api_as(staff).get("/api/submissions").json()["count"] == 3


def test_list_filters_by_status_and_assignment():
    learner, assignment = UserFactory(), AssignmentFactory()
    # Submitted first: a learner has at most one open attempt per assignment.
    submitted = SubmissionFactory(owner=learner, assignment=assignment)
    Submission.objects.filter(pk=submitted.pk).update(status="SUBMITTED", submitted_at="2026-01-01T00:00:00Z")
    wanted = SubmissionFactory(owner=learner, assignment=assignment)
    SubmissionFactory(owner=learner)
    client = api_as(learner)
    by_assignment = client.get("/api/submissions", {"assignment": assignment.pk}).json()
    assert {r["id"] for r in by_assignment["results"]} == {str(wanted.pk), str(submitted.pk)}
    both = client.get("/api/submissions", {"assignment": assignment.pk, "status": "IN_PROGRESS"}).json()
    assert [r["id"] for r in both["results"]] == [str(wanted.pk)]


def test_list_is_paginated_newest_first():
    learner = UserFactory()
    created = SubmissionFactory.create_batch(5, owner=learner)
    client = api_as(learner)
    first = client.get("/api/submissions", {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    assert "page=2" in first["next"]
    last = client.get("/api/submissions", {"page_size": 2, "page": 3}).json()
    assert last["next"] is None
    assert last["results"][0]["id"] == str(created[0].pk)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "DONE"}, "status"),
        ({"status": "in_progress"}, "status"),
        ({"assignment": "x"}, "assignment"),
        ({"assignment": "0"}, "assignment"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "1e3"}, "page_size"),
    ],
)
def test_list_refuses_bad_filters_and_pagination(params, field):
    SubmissionFactory()
    response = api_as(UserFactory()).get("/api/submissions", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_list_page_past_the_end_is_not_found():
    learner = UserFactory()
    SubmissionFactory(owner=learner)
    response = api_as(learner).get("/api/submissions", {"page": 5})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("how_many", [3, 30])
def test_list_runs_a_constant_number_of_queries(how_many, django_assert_num_queries):
    learner = UserFactory()
    SubmissionFactory.create_batch(how_many, owner=learner)
    client = api_as(learner)
    # token + user, the rate limits (one statement), count, page (owner joined)
    with django_assert_num_queries(4):
        response = client.get("/api/submissions", {"page_size": 100})
    assert len(response.json()["results"]) == how_many


# --- detail -----------------------------------------------------------------------


def test_detail_returns_the_submission_with_its_etag():
    submission = SubmissionFactory(source_code="print(1)\n")
    response = api_as(submission.owner).get(f"/api/submissions/{submission.pk}")
    assert response.status_code == 200
    assert response.json()["source_code"] == "print(1)\n"
    assert response["ETag"] == f'"{submission.version}"'


def test_someone_elses_submission_is_not_found_anywhere():
    submission = SubmissionFactory(source_code="secret")
    other = api_as(UserFactory())
    url = f"/api/submissions/{submission.pk}"
    responses = [
        other.get(url),
        other.patch(url, {"source_code": "mine now", "version": 1}, format="json"),
        other.post(f"{url}/submit", format="json"),
    ]
    for response in responses:
        assert response.status_code == 404, response.content
        assert error_of(response) == {"code": "not_found", "message": "Not found.", "fields": {}}
    submission.refresh_from_db()
    assert (submission.source_code, submission.status) == ("secret", "IN_PROGRESS")
    assert not ScoringJob.objects.exists()


def test_staff_can_read_but_not_change_a_learners_submission():
    submission = SubmissionFactory()
    staff = api_as(UserFactory(is_staff=True, is_superuser=True))
    url = f"/api/submissions/{submission.pk}"
    assert staff.get(url).status_code == 200
    response = staff.patch(url, {"source_code": "x", "version": 1}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/submissions/not-a-uuid"),
        ("get", "/api/submissions/123"),
        ("patch", "/api/submissions/00000000-0000-0000-0000-00000000000g"),
        ("get", "/api/submissions/00000000-0000-0000-0000-000000000000"),
        ("post", "/api/submissions/00000000-0000-0000-0000-000000000000/submit"),
        ("post", "/api/submissions/not-a-uuid/submit"),
        ("get", "/api/nothing-here"),
    ],
)
def test_bad_or_unknown_ids_in_the_path_are_404_in_the_error_format(method, path):
    response = getattr(api_as(UserFactory()), method)(path, format="json")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_an_unsupported_method_is_405_in_the_error_format():
    submission = SubmissionFactory()
    response = api_as(submission.owner).put(f"/api/submissions/{submission.pk}", {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


# --- patch ----------------------------------------------------------------------


def test_patch_with_the_body_version_saves_and_bumps_it():
    submission = SubmissionFactory(source_code="old", documentation="docs")
    response = api_as(submission.owner).patch(
        f"/api/submissions/{submission.pk}", {"source_code": "new", "version": 1}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["source_code"], body["documentation"], body["version"]) == ("new", "docs", 2)
    assert response["ETag"] == '"2"'
    submission.refresh_from_db()
    assert (submission.source_code, submission.documentation, submission.version) == ("new", "docs", 2)


def test_patch_with_if_match_saves():
    submission = SubmissionFactory()
    response = api_as(submission.owner).patch(
        f"/api/submissions/{submission.pk}", {"documentation": "better"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    assert response.json()["documentation"] == "better"


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing():
    submission = SubmissionFactory(source_code="tab one")
    client = api_as(submission.owner)
    url = f"/api/submissions/{submission.pk}"
    assert client.patch(url, {"source_code": "first"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    response = client.patch(url, {"source_code": "second"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert error_of(response)["code"] == "precondition_failed"
    submission.refresh_from_db()
    assert submission.source_code == "first"


def test_patch_with_a_stale_body_version_is_409_and_changes_nothing():
    submission = SubmissionFactory()
    client = api_as(submission.owner)
    url = f"/api/submissions/{submission.pk}"
    client.patch(url, {"source_code": "first", "version": 1}, format="json")
    response = client.patch(url, {"source_code": "second", "version": 1}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "version_conflict"
    submission.refresh_from_db()
    assert submission.source_code == "first"


def test_patch_without_any_version_is_428():
    submission = SubmissionFactory(source_code="kept")
    response = api_as(submission.owner).patch(
        f"/api/submissions/{submission.pk}", {"source_code": "blind write"}, format="json"
    )
    assert response.status_code == 428
    assert error_of(response)["code"] == "precondition_required"
    submission.refresh_from_db()
    assert submission.source_code == "kept"


def test_patch_after_submit_is_409_and_changes_nothing():
    submission = SubmissionFactory(source_code="final")
    client = api_as(submission.owner)
    assert client.post(f"/api/submissions/{submission.pk}/submit").status_code == 202
    submission.refresh_from_db()
    response = client.patch(
        f"/api/submissions/{submission.pk}", {"source_code": "too late", "version": submission.version},
        format="json",
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "submission_locked"
    submission.refresh_from_db()
    assert submission.source_code == "final"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"source_code": 42, "version": 1}, "source_code"),
        ({"documentation": ["a"], "version": 1}, "documentation"),
        ({"source_code": None, "version": 1}, "source_code"),
        ({"source_code": "x", "version": "one"}, "version"),
        ({"source_code": "x", "version": "1"}, "version"),
        ({"source_code": "x", "version": 0}, "version"),
        ({"source_code": "a\x00b", "version": 1}, "source_code"),
        ({"source_code": "x", "version": 1, "status": "SUBMITTED"}, "status"),
        ({"source_code": "x", "version": 1, "owner": 1}, "owner"),
        ({"source_code": "x", "version": 1, "submitted_at": "2026-01-01T00:00:00Z"}, "submitted_at"),
        ({"source_code": "x", "version": 1, "score": 100}, "score"),
        ({"source_code": "x", "version": 1, "assignment": 3}, "assignment"),
    ],
)
def test_patch_refuses_wrong_types_and_server_fields(body, field):
    submission = SubmissionFactory(source_code="kept")
    response = api_as(submission.owner).patch(f"/api/submissions/{submission.pk}", body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    submission.refresh_from_db()
    assert (submission.source_code, submission.status, submission.version) == ("kept", "IN_PROGRESS", 1)


def test_patch_with_nothing_to_change_is_refused():
    submission = SubmissionFactory()
    response = api_as(submission.owner).patch(f"/api/submissions/{submission.pk}", {"version": 1}, format="json")
    assert response.status_code == 400
    assert error_of(response)["message"] == "Send source_code, documentation, or both."


# --- submit ------------------------------------------------------------------------


def test_submit_locks_the_submission_and_answers_202_with_the_job():
    submission = SubmissionFactory()
    response = api_as(submission.owner).post(f"/api/submissions/{submission.pk}/submit")
    assert response.status_code == 202
    job = ScoringJob.objects.get(submission=submission)
    body = response.json()
    assert (body["id"], body["submission"], body["status"]) == (str(job.pk), str(submission.pk), "QUEUED")
    assert (body["score"], body["result"], body["error"]) == (None, None, None)
    assert response["Location"].endswith(f"/api/scoring/{job.pk}")
    assert job.requested_by == ScoringJob.RequestedBy.API
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED


def test_submit_twice_is_409_and_creates_no_second_job():
    submission = SubmissionFactory()
    client = api_as(submission.owner)
    client.post(f"/api/submissions/{submission.pk}/submit")
    response = client.post(f"/api/submissions/{submission.pk}/submit/")
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_submitted"
    assert ScoringJob.objects.filter(submission=submission).count() == 1


def test_submit_of_an_empty_submission_is_409_and_stays_in_progress():
    submission = SubmissionFactory(source_code=" ", documentation="")
    response = api_as(submission.owner).post(f"/api/submissions/{submission.pk}/submit")
    assert response.status_code == 409
    assert error_of(response)["code"] == "not_ready"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS


def test_submit_refuses_a_body():
    submission = SubmissionFactory()
    response = api_as(submission.owner).post(
        f"/api/submissions/{submission.pk}/submit", {"status": "SUBMITTED"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in error_of(response)["fields"]
    assert not ScoringJob.objects.exists()


def test_unauthenticated_requests_are_401_in_the_error_format():
    submission = SubmissionFactory()
    for response in (
        APIClient().get("/api/submissions"),
        APIClient().get(f"/api/submissions/{submission.pk}"),
        APIClient().post("/api/submissions", {"assignment": submission.assignment_id}, format="json"),
    ):
        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/submissions")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
