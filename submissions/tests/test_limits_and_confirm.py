"""Refusals the learner meets before the damage: the total size limit (shown,
refused at upload start and at submit) and the confirmation page that lists
what stops a submit instead of offering a button that will fail."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from scoring import engine
from submissions.models import MAX_TOTAL_BYTES, Submission, SubmissionFile
from submissions.services import NotReady, submission_file_upload_start, submission_mark_submitted
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, SubmissionFileFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def url(name, *args):
    return reverse(f"submissions:{name}", args=args)


def text(value) -> str:
    """Sizes are formatted with a no-break space (filesizeformat)."""
    if isinstance(value, bytes):
        value = value.decode()
    return str(value).replace("\xa0", " ")


def test_the_total_limit_is_the_scorers():
    assert MAX_TOTAL_BYTES == engine.MAX_TOTAL_BYTES


def test_an_upload_that_would_exceed_the_total_is_refused_at_start(s3):
    submission = SubmissionFactory(assignment=AssignmentFactory(max_file_size=10 * MB))
    SubmissionFileFactory(submission=submission, size=int(8.6 * MB))
    with pytest.raises(ValidationError) as refused:
        submission_file_upload_start(submission_id=submission.pk, user=submission.owner, file_name="b.csv",
                                     size=int(8.6 * MB))
    message = text(" ".join(refused.value.messages))
    assert "8.6 MB" in message and "16.0 MB" in message and "in total" in message
    assert submission.files.count() == 1  # nothing registered


def test_the_presigned_post_allows_only_the_room_left(s3):
    submission = SubmissionFactory(assignment=AssignmentFactory(max_file_size=10 * MB))
    SubmissionFileFactory(submission=submission, size=15 * MB)
    SubmissionFileFactory(submission=submission, size=9 * MB, status=SubmissionFile.Status.REJECTED)  # not counted
    ticket = submission_file_upload_start(submission_id=submission.pk, user=submission.owner, file_name="a.py",
                                          size=1000)
    assert ticket.max_size == MAX_TOTAL_BYTES - 15 * MB - submission.text_size


def test_the_api_refuses_an_upload_over_the_total_with_a_clear_400(client, s3):
    submission = SubmissionFactory()
    SubmissionFileFactory(submission=submission, size=9 * MB)
    client.force_login(submission.owner)
    response = client.post(reverse("api:submission_file_list", args=[submission.pk]),
                           {"file_name": "b.csv", "size": 8 * MB}, content_type="application/json")
    assert response.status_code == 400
    assert "16.0 MB" in text(response.json()["error"]["fields"]["size"][0])


def test_submit_over_the_total_is_refused(django_capture_on_commit_callbacks):
    submission = SubmissionFactory()
    SubmissionFileFactory(submission=submission, size=int(8.6 * MB))
    SubmissionFileFactory(submission=submission, size=int(8.6 * MB))
    with pytest.raises(NotReady) as refused:
        submission_mark_submitted(submission=submission, user=submission.owner)
    assert "17.2 MB; a submission may be at most 16.0 MB in total" in text(refused.value)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS


def test_limits_are_shown_before_uploading(client):
    submission = SubmissionFactory(source_code="x = 1\n", documentation="")
    SubmissionFileFactory(submission=submission, size=2 * MB)
    client.force_login(submission.owner)
    page = text(client.get(url("submission_detail", submission.pk)).content)
    assert "each at most 10.0 MB" in page and "at most 16.0 MB" in page
    assert 'data-max-total="16777216"' in page and f'data-bytes="{2 * MB + 6}"' in page
    rules = text(client.get(url("assignment_detail", submission.assignment_id)).content)
    assert "at most 16.0 MB for a whole submission" in rules


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("rejected", "Remove the rejected file(s) before submitting: evil.py."),
        ("pending", "still pending: slow.csv"),
        ("empty", "Write some code or documentation, or attach a file"),
        ("too_big", "a submission may be at most 16.0 MB in total"),
    ],
)
def test_the_confirmation_page_refuses_instead_of_offering_a_failing_submit(client, setup, problem):
    submission = SubmissionFactory()
    if setup == "rejected":
        SubmissionFileFactory(submission=submission, original_name="evil.py", status="REJECTED",
                              rejection_reason="The file's content is text/html.")
    elif setup == "pending":
        SubmissionFileFactory(submission=submission, original_name="slow.csv", status="PENDING", size=None)
    elif setup == "empty":
        Submission.objects.filter(pk=submission.pk).update(source_code="  \n", documentation="")
    else:
        for _ in range(2):
            SubmissionFileFactory(submission=submission, size=9 * MB)
    client.force_login(submission.owner)
    page = text(client.get(url("submission_submit", submission.pk)).content)
    assert 'id="submit-problems"' in page and problem in page
    assert 'id="confirm-submit"' not in page and "Not ready to submit" in page


def test_a_ready_submission_gets_the_submit_button_and_no_problems(client):
    submission = SubmissionFactory()
    SubmissionFileFactory(submission=submission, size=3 * MB)
    client.force_login(submission.owner)
    page = client.get(url("submission_submit", submission.pk)).content.decode()
    assert 'id="confirm-submit"' in page and 'id="submit-problems"' not in page
