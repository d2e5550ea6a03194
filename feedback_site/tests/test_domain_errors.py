"""Every domain error code (feedback_site/errors.py), from a real state, through
both translations: the API's status and error body, and the message a page
shows (the learner pages, or the staff console for the job actions)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback_site.testing.api import api_as, error_of
from jobs.models import ScoringJob
from jobs.tests.test_admin import job_in, staff_in
from submissions.models import SubmissionFile
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, SubmissionFileFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    user: object
    api: tuple  # (method, path, body)
    page: tuple | None  # (method, url name, kwargs, body): the page a learner or staff member would use
    message: str


def submitted(submission):
    submission.mark_submitted(actor=submission.owner)
    return submission


def cannot_start_after_the_deadline():
    assignment = AssignmentFactory(deadline=timezone.now() - timedelta(minutes=1))
    return Case(UserFactory(), ("post", "/api/submissions", {"assignment": assignment.pk}),
                ("post", "submissions:submission_start", {"pk": assignment.pk}, {}), "deadline")


def cannot_start_beyond_the_attempts():
    done = submitted(SubmissionFactory(assignment=AssignmentFactory(max_attempts=1)))
    return Case(done.owner, ("post", "/api/submissions", {"assignment": done.assignment_id}),
                ("post", "submissions:submission_start", {"pk": done.assignment_id}, {}), "1 attempt(s)")


def submission_locked():
    done = submitted(SubmissionFactory())
    file = SubmissionFileFactory(submission=done)
    return Case(done.owner, ("patch", f"/api/submissions/{done.pk}", {"source_code": "late", "version": done.version}),
                ("post", "submissions:file_delete", {"pk": done.pk, "file_id": file.pk}, {}),
                "can no longer be changed")


def version_conflict():
    submission = SubmissionFactory()
    submission.update_text(source_code="elsewhere", documentation="", expected_version=1)
    return Case(submission.owner, ("patch", f"/api/submissions/{submission.pk}", {"source_code": "x", "version": 1}),
                ("post", "submissions:submission_detail", {"pk": submission.pk},
                 {"source_code": "x", "documentation": "", "version": 1}), "changed elsewhere")


def already_submitted():
    done = submitted(SubmissionFactory())
    return Case(done.owner, ("post", f"/api/submissions/{done.pk}/submit", {}),
                ("post", "submissions:submission_submit", {"pk": done.pk}, {}), "already been submitted")


def not_ready():
    submission = SubmissionFactory()
    SubmissionFileFactory(submission=submission, status=SubmissionFile.Status.PENDING, original_name="late.csv")
    return Case(submission.owner, ("post", f"/api/submissions/{submission.pk}/submit", {}),
                ("post", "submissions:submission_submit", {"pk": submission.pk}, {}), "still pending: late.csv")


def file_refused():
    submission = SubmissionFactory(assignment=AssignmentFactory(max_files=1))
    SubmissionFileFactory(submission=submission)
    body = {"file_name": "b.py", "size": 5}
    return Case(submission.owner, ("post", f"/api/submissions/{submission.pk}/files", body),
                ("post_json", "submissions:file_start", {"pk": submission.pk}, {"name": "b.py", "size": 5}),
                "at most 1 file")


def file_not_ready():
    file = SubmissionFileFactory(status=SubmissionFile.Status.PENDING)
    return Case(file.submission.owner, ("get", f"/api/submissions/{file.submission_id}/files/{file.pk}/download", None),
                ("get", "submissions:file_download", {"pk": file.submission_id, "file_id": file.pk}, None),
                "passed verification")


def job_conflict():
    done = job_in(ScoringJob.Status.DONE)
    return Case(staff_in("Job operators", "operator"), ("post", f"/api/scoring/{done.pk}/retry", {"reason": "x"}),
                ("post", "admin:jobs_scoringjob_action", {"object_id": done.pk, "action": "retry"}, {"reason": "x"}),
                "Only a job in ERROR can be retried")


def not_submitted():
    # No page can ask for it: the console rescores a job, whose submission is always submitted.
    submission = SubmissionFactory()
    return Case(staff_in("Job operators", "operator"),
                ("post", f"/api/submissions/{submission.pk}/rescore", {"reason": "x"}), None,
                "Only a submitted submission can be rescored")


CASES = {
    "cannot_start": [cannot_start_after_the_deadline, cannot_start_beyond_the_attempts],
    "submission_locked": [submission_locked],
    "version_conflict": [version_conflict],
    "already_submitted": [already_submitted],
    "not_ready": [not_ready],
    "file_refused": [file_refused],
    "file_not_ready": [file_not_ready],
    "job_conflict": [job_conflict],
    "not_submitted": [not_submitted],
}


@pytest.mark.parametrize("code, make", [(code, make) for code, makes in CASES.items() for make in makes],
                         ids=lambda value: getattr(value, "__name__", value))
def test_domain_error_in_the_api_and_on_the_page(client, code, make):
    case = make()
    method, path, body = case.api
    response = getattr(api_as(case.user), method)(path, body, format="json")
    assert response.status_code == 409, response.content
    error = error_of(response)
    assert error["code"] == code and case.message in error["message"]

    if case.page is None:
        return
    method, name, kwargs, data = case.page
    client.force_login(case.user)
    if method == "post_json":  # the upload script's JSON endpoint
        page = client.post(reverse(name, kwargs=kwargs), data, content_type="application/json")
        assert (page.status_code, page.json()["status"]) == (409, code)
    else:
        page = getattr(client, method)(reverse(name, kwargs=kwargs), data, follow=True)
    assert case.message in page.content.decode(), page.content.decode()[:2000]
