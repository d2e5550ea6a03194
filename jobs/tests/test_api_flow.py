"""The whole flow through the API with a token, as an LMS script would run it:
create → edit → upload to S3 → verify → submit → poll until DONE → feedback,
with a real worker process, PostgreSQL and the local S3/SQS endpoint."""

import time

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from submissions.tests.factories import AssignmentFactory, UserFactory
from submissions.tests.s3_forms import post_presigned_form

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DATA = b"name,score\nada,3\ngrace,5\n"


def test_the_full_flow_over_the_api(s3, scoring_queue_url, start_worker):
    learner = UserFactory()
    assignment = AssignmentFactory(accepted_file_types=["text/csv", "text/plain"], max_file_size=4096)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=learner).key}")

    created = client.post("/api/submissions", {"assignment": assignment.pk}, format="json",
                          HTTP_IDEMPOTENCY_KEY="lms-run-1")
    assert created.status_code == 201
    url = created["Location"].removeprefix("http://testserver")

    edited = client.patch(url, {"source_code": "def mean(xs):\n    return sum(xs) / len(xs)\n",
                                "documentation": "# Mean\nReturns the average of a list."},
                          format="json", HTTP_IF_MATCH=created["ETag"])
    assert edited.status_code == 200

    started = client.post(f"{url}/files", {"file_name": "scores.csv", "size": len(DATA),
                                           "content_type": "text/csv"}, format="json")
    assert started.status_code == 201
    upload = started.json()["upload"]
    assert post_presigned_form(upload["url"], upload["fields"], DATA) == 204
    verified = client.post(f"{url}/files/{started.json()['file']['id']}/complete", format="json")
    assert verified.json()["status"] == "READY", verified.json()

    submitted = client.post(f"{url}/submit", format="json")
    assert submitted.status_code == 202
    poll_url = submitted["Location"].removeprefix("http://testserver")

    worker = start_worker()
    deadline, job = time.monotonic() + 60, submitted.json()
    while job["status"] in ("QUEUED", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = client.get(poll_url).json()
    assert job["status"] == "DONE", f"job: {job}\nworker log:\n{worker.log()}"

    assert 0 <= job["result"]["score"] <= 100 and job["score"] == job["result"]["score"]
    assert job["result"]["criteria"] and isinstance(job["result"]["feedback"], list)
    assert job["result"]["summary"]
    # The learner's list shows the scored job; a new scoring request returns it.
    listed = client.get("/api/scoring", {"status": "DONE"}).json()
    assert [item["id"] for item in listed["results"]] == [job["id"]]
    again = client.post("/api/scoring", {"submission": created.json()["id"]}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, job["id"])
