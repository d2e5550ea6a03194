"""/api/submissions/{id}/files against the local S3 (LocalStack): presigned
POSTs sent over HTTP like a client would, verification, download, delete."""

import urllib.request

import pytest

from feedback_site.testing.api import api_as, error_of
from submissions.models import SubmissionFile
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory
from submissions.tests.s3_forms import post_presigned_form

pytestmark = pytest.mark.django_db

PYTHON = b"def top(words):\n    return sorted(words)[:10]\n"
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n"


@pytest.fixture
def submission(s3):
    assignment = AssignmentFactory(accepted_file_types=["text/x-python", "text/plain"], max_file_size=4096,
                                   max_files=2)
    return SubmissionFactory(assignment=assignment)


def files_url(submission) -> str:
    return f"/api/submissions/{submission.pk}/files"


def start(client, submission, *, name="solution.py", content=PYTHON, content_type="text/x-python"):
    return client.post(files_url(submission), {"file_name": name, "size": len(content),
                                                "content_type": content_type}, format="json")


def upload(client, submission, content=PYTHON, name="solution.py") -> dict:
    started = start(client, submission, name=name, content=content)
    assert started.status_code == 201, started.content
    upload = started.json()["upload"]
    assert post_presigned_form(upload["url"], upload["fields"], content) == 204
    completed = client.post(f"{files_url(submission)}/{started.json()['file']['id']}/complete", format="json")
    assert completed.status_code == 200, completed.content
    return completed.json()


def test_start_returns_a_pending_file_and_a_presigned_post(submission):
    response = start(api_as(submission.owner), submission)
    assert response.status_code == 201
    body = response.json()
    file = SubmissionFile.objects.get(submission=submission)
    assert (body["file"]["id"], body["file"]["status"], body["file"]["name"]) == (str(file.pk), "PENDING",
                                                                                   "solution.py")
    assert body["upload"]["max_size"] == 4096 and body["upload"]["expires_in"] > 0
    assert body["upload"]["url"].startswith("http") and "policy" in body["upload"]["fields"]
    assert response["Location"].endswith(f"{files_url(submission)}/{file.pk}")
    assert "storage_key" not in body["file"] and file.storage_key not in response.content.decode()


def test_uploaded_file_is_verified_listed_and_downloadable_as_an_attachment(submission):
    client = api_as(submission.owner)
    file = upload(client, submission)
    assert (file["status"], file["size"]) == ("READY", len(PYTHON))
    assert "python" in file["content_type"]  # sniffed from the bytes
    assert len(file["sha256"]) == 64
    listed = client.get(files_url(submission)).json()
    assert [item["id"] for item in listed["results"]] == [file["id"]]
    download = client.get(f"{files_url(submission)}/{file['id']}/download")
    assert download.status_code == 200
    with urllib.request.urlopen(download.json()["url"], timeout=10) as response:  # noqa: S310 - local S3
        assert response.read() == PYTHON
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_content_the_assignment_refuses_is_rejected_with_the_reason(submission):
    file = upload(api_as(submission.owner), submission, content=HTML, name="notes.py")
    assert file["status"] == "REJECTED"
    assert "text/html" in file["rejection_reason"]


def test_download_of_an_unverified_file_is_409(submission):
    client = api_as(submission.owner)
    file_id = start(client, submission).json()["file"]["id"]
    response = client.get(f"{files_url(submission)}/{file_id}/download")
    assert response.status_code == 409
    assert error_of(response)["code"] == "file_not_ready"


def test_start_refuses_a_file_over_the_limit_as_a_field_error(submission):
    response = api_as(submission.owner).post(
        files_url(submission), {"file_name": "big.py", "size": 5000}, format="json"
    )
    assert response.status_code == 400
    assert "size" in error_of(response)["fields"]
    assert not SubmissionFile.objects.exists()


def test_start_beyond_the_file_count_is_409(submission):
    client = api_as(submission.owner)
    assert start(client, submission).status_code == 201
    assert start(client, submission).status_code == 201
    response = start(client, submission)
    assert response.status_code == 409
    assert error_of(response)["code"] == "file_refused"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"file_name": "a.py", "size": "10"}, "size"),
        ({"file_name": "a.py", "size": 0}, "size"),
        ({"file_name": 5, "size": 10}, "file_name"),
        ({"file_name": "a.py", "size": 10, "storage_key": "submissions/x"}, "storage_key"),
        ({"file_name": "a.py", "size": 10, "status": "READY"}, "status"),
    ],
)
def test_start_refuses_wrong_types_and_server_fields(submission, body, field):
    response = api_as(submission.owner).post(files_url(submission), body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not SubmissionFile.objects.exists()


def test_delete_removes_the_file_and_a_submitted_submissions_files_stay(submission):
    client = api_as(submission.owner)
    kept = upload(client, submission)
    removed = upload(client, submission, name="other.py")
    assert client.delete(f"{files_url(submission)}/{removed['id']}").status_code == 204
    assert [item["id"] for item in client.get(files_url(submission)).json()["results"]] == [kept["id"]]
    assert client.get(f"{files_url(submission)}/{removed['id']}").status_code == 404
    assert client.post(f"/api/submissions/{submission.pk}/submit").status_code == 202
    response = client.delete(f"{files_url(submission)}/{kept['id']}")
    assert response.status_code == 409
    assert error_of(response)["code"] == "submission_locked"
    assert start(client, submission).status_code == 409


def test_someone_elses_files_are_404_everywhere(submission):
    file = upload(api_as(submission.owner), submission)
    other = api_as(UserFactory())
    base = f"{files_url(submission)}/{file['id']}"
    for response in (
        other.get(files_url(submission)),
        start(other, submission),
        other.get(base),
        other.post(f"{base}/complete", format="json"),
        other.get(f"{base}/download"),
        other.delete(base),
    ):
        assert response.status_code == 404, response.content
        assert error_of(response)["code"] == "not_found"
    assert SubmissionFile.objects.get(pk=file["id"]).status == SubmissionFile.Status.READY


def test_staff_can_download_but_not_change_a_learners_files(submission):
    file = upload(api_as(submission.owner), submission)
    staff = api_as(UserFactory(is_staff=True, is_superuser=True))
    assert staff.get(f"{files_url(submission)}/{file['id']}/download").status_code == 200
    assert staff.delete(f"{files_url(submission)}/{file['id']}").status_code == 403


@pytest.mark.parametrize("how_many", [1, 2])
def test_file_list_runs_a_constant_number_of_queries(submission, how_many, django_assert_num_queries):
    client = api_as(submission.owner)
    for index in range(how_many):
        assert start(client, submission, name=f"f{index}.py").status_code == 201
    # the rate limits (one statement; the token's user is remembered from the starts), submission, count, page
    with django_assert_num_queries(4):
        response = client.get(files_url(submission))
    assert response.json()["count"] == how_many
