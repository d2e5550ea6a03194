"""A new attempt pre-filled from an earlier one: text copied, verified files
copied inside S3 (LocalStack over HTTP), safe to repeat, only from the
learner's own submitted attempts of the same assignment."""

import hashlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from conftest import wait_until
from submissions import storage
from submissions.models import Submission, SubmissionFile, SubmissionFileEvent
from submissions.services import PREVIOUS_ATTEMPT, submission_start
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, SubmissionFileFactory, UserFactory
from submissions.tests.test_services import _finish, _in_own_connection, _waiting_on_a_lock

pytestmark = pytest.mark.django_db

PYTHON = b"def top(words):\n    return sorted(words)[:10]\n"
CSV = b"word,count\nthe,3\n"


def stored_file(s3, submission, name, data, content_type):
    """A READY file with its object in S3, as verification leaves it."""
    key = storage.new_object_key(submission.pk)
    s3.put_object(Bucket=settings.S3_BUCKET, Key=key, Body=data)
    return SubmissionFileFactory(submission=submission, original_name=name, storage_key=key, size=len(data),
                                 content_type=content_type, sha256=hashlib.sha256(data).hexdigest())


def read(s3, key) -> bytes:
    return s3.get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read()


@pytest.fixture
def earlier(s3):
    """A learner's submitted first attempt with two verified files and a rejected one."""
    assignment = AssignmentFactory(accepted_file_types=["text/x-python", "text/csv"], max_attempts=3)
    first = SubmissionFactory(assignment=assignment, source_code="print('v1')\n", documentation="First try.")
    stored_file(s3, first, "top.py", PYTHON, "text/x-python")
    stored_file(s3, first, "words.csv", CSV, "text/csv")
    SubmissionFileFactory(submission=first, original_name="bad.html", status=SubmissionFile.Status.REJECTED)
    first.mark_submitted(actor=first.owner)
    return first


def test_a_new_attempt_from_the_previous_one_copies_text_and_files_in_s3(
    s3, earlier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        second, created = submission_start(user=earlier.owner, assignment=earlier.assignment,
                                           copy_from=PREVIOUS_ATTEMPT)
    assert created and second.pk != earlier.pk and second.is_editable
    assert (second.source_code, second.documentation) == ("print('v1')\n", "First try.")
    copies = {f.original_name: f for f in second.files.all()}
    assert set(copies) == {"top.py", "words.csv"}  # the rejected file stays behind
    originals = {f.original_name: f for f in earlier.files.filter(status="READY")}
    for name, copy in copies.items():
        original = originals[name]
        assert copy.status == SubmissionFile.Status.READY
        assert copy.storage_key != original.storage_key and copy.storage_key.startswith(f"submissions/{second.pk}/")
        assert (copy.size, copy.content_type, copy.sha256) == (original.size, original.content_type, original.sha256)
        assert hashlib.sha256(read(s3, copy.storage_key)).hexdigest() == copy.sha256
        assert read(s3, original.storage_key) == read(s3, copy.storage_key)  # the earlier attempt keeps its own
    event = SubmissionFileEvent.objects.get(file=copies["top.py"], to_status="READY")
    assert str(earlier.pk) in event.reason


def test_copying_files_into_an_attempt_then_removing_one_leaves_the_earlier_attempt_whole(
    s3, earlier, django_capture_on_commit_callbacks
):
    from submissions.services import submission_file_delete

    with django_capture_on_commit_callbacks(execute=True):
        second, _ = submission_start(user=earlier.owner, assignment=earlier.assignment, copy_from=str(earlier.pk))
    copy = second.files.get(original_name="top.py")
    with django_capture_on_commit_callbacks(execute=True):
        submission_file_delete(submission_id=second.pk, file_id=copy.pk, user=earlier.owner)
    original = earlier.files.get(original_name="top.py")
    assert read(s3, original.storage_key) == PYTHON
    assert storage.object_size(copy.storage_key) is None


def test_starting_again_returns_the_open_attempt_and_copies_nothing_twice(
    s3, earlier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        second, created = submission_start(user=earlier.owner, assignment=earlier.assignment,
                                           copy_from=PREVIOUS_ATTEMPT)
        again, created_again = submission_start(user=earlier.owner, assignment=earlier.assignment,
                                                copy_from=PREVIOUS_ATTEMPT)
    assert (created, created_again) == (True, False) and again.pk == second.pk
    assert second.files.count() == 2
    assert Submission.objects.filter(owner=earlier.owner, assignment=earlier.assignment).count() == 2


def test_a_blank_start_copies_nothing(earlier):
    second, _ = submission_start(user=earlier.owner, assignment=earlier.assignment)
    assert (second.source_code, second.documentation, second.files.count()) == ("", "", 0)


def test_files_the_assignment_no_longer_allows_are_not_copied(s3, earlier, django_capture_on_commit_callbacks):
    earlier.assignment.accepted_file_types = ["text/x-python"]
    earlier.assignment.save()
    with django_capture_on_commit_callbacks(execute=True):
        second, _ = submission_start(user=earlier.owner, assignment=earlier.assignment, copy_from=PREVIOUS_ATTEMPT)
    assert list(second.files.values_list("original_name", "status")) == [("top.py", "READY")]


@pytest.mark.parametrize(
    "copy_from",
    ["someone_else", "other_assignment", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "open_attempt"],
)
def test_only_the_learners_own_submitted_attempt_of_this_assignment_can_be_copied(earlier, copy_from):
    learner, assignment = earlier.owner, earlier.assignment
    values = {
        "someone_else": lambda: SubmissionFactory(assignment=assignment).pk,
        "other_assignment": lambda: submitted(SubmissionFactory(owner=learner)).pk,
        "open_attempt": lambda: submission_start(user=learner, assignment=assignment)[0].pk,
    }
    value = str(values[copy_from]()) if copy_from in values else copy_from
    count = Submission.objects.count()
    with pytest.raises(ValidationError) as refused:
        submission_start(user=learner, assignment=assignment, copy_from=value)
    assert "submitted attempts of this assignment" in refused.value.message_dict["copy_from"][0]
    assert Submission.objects.count() == count


def test_previous_without_an_earlier_attempt_is_refused():
    learner, assignment = UserFactory(), AssignmentFactory()
    with pytest.raises(ValidationError, match="no earlier attempt"):
        submission_start(user=learner, assignment=assignment, copy_from=PREVIOUS_ATTEMPT)
    assert not Submission.objects.filter(owner=learner).exists()


def submitted(submission):
    submission.mark_submitted(actor=submission.owner)
    return submission


# --- the page and the API ------------------------------------------------------


def test_the_assignment_page_offers_the_last_attempt_or_blank_and_starts_from_it(
    client, earlier, django_capture_on_commit_callbacks
):
    client.force_login(earlier.owner)
    page = client.get(reverse("submissions:assignment_detail", args=[earlier.assignment_id])).content.decode()
    assert 'name="copy_from" value="previous" checked' in page and 'name="copy_from" value=""' in page
    assert "from your last attempt (#1)" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("submissions:submission_start", args=[earlier.assignment_id]),
                               {"copy_from": "previous"}, follow=True)
    second = Submission.objects.get(owner=earlier.owner, status="IN_PROGRESS")
    assert response.redirect_chain[-1][0] == reverse("submissions:submission_detail", args=[second.pk])
    assert "starts from your last one" in response.content.decode()
    assert second.source_code == "print('v1')\n" and second.files.filter(status="READY").count() == 2


def test_the_page_refuses_a_tampered_copy_from_with_a_message(client, earlier):
    client.force_login(earlier.owner)
    response = client.post(reverse("submissions:submission_start", args=[earlier.assignment_id]),
                           {"copy_from": "../../etc"}, follow=True)
    assert "submitted attempts of this assignment" in response.content.decode()
    assert not Submission.objects.filter(owner=earlier.owner, status="IN_PROGRESS").exists()


def test_the_api_starts_from_the_previous_attempt_and_is_safe_to_repeat(client, earlier):
    client.force_login(earlier.owner)
    body = {"assignment": earlier.assignment_id, "copy_from": "previous"}
    first = client.post(reverse("api:submission_list"), body, content_type="application/json")
    assert first.status_code == 201, first.json()
    assert first.json()["source_code"] == "print('v1')\n"
    second = Submission.objects.get(pk=first.json()["id"])
    # The copies are registered with the attempt (their objects follow on commit, as tested above).
    assert second.files.count() == 2
    again = client.post(reverse("api:submission_list"), body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == str(second.pk)
    assert second.files.count() == 2


@pytest.mark.parametrize("copy_from", ["nope", 7, "", None])
def test_the_api_answers_400_to_a_bad_copy_from(client, earlier, copy_from):
    client.force_login(earlier.owner)
    response = client.post(reverse("api:submission_list"),
                           {"assignment": earlier.assignment_id, "copy_from": copy_from},
                           content_type="application/json")
    assert response.status_code == 400
    assert "copy_from" in response.json()["error"]["fields"]
    assert not Submission.objects.filter(owner=earlier.owner, status="IN_PROGRESS").exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_makes_one_attempt_with_one_set_of_copies(s3):
    learner = UserFactory()
    assignment = AssignmentFactory(accepted_file_types=["text/x-python"], max_attempts=3)
    first = SubmissionFactory(owner=learner, assignment=assignment)
    stored_file(s3, first, "top.py", PYTHON, "text/x-python")
    submitted(first)
    with transaction.atomic():
        # Holding the learner's row makes both starts wait inside the race window.
        get_user_model().objects.select_for_update().get(pk=learner.pk)
        starts = [
            _in_own_connection(
                lambda: submission_start(user=learner, assignment=assignment, copy_from=PREVIOUS_ATTEMPT)
            )
            for _ in "ab"
        ]
        wait_until(lambda: any(_waiting_on_a_lock(o["pid"]) for _, o in starts), timeout=10,
                   message="a start to be waiting")
    (a, _), (b, _) = _finish(*starts)
    assert a.pk == b.pk
    assert Submission.objects.filter(owner=learner, assignment=assignment).count() == 2
    assert list(SubmissionFile.objects.filter(submission=a).values_list("original_name", "status")) == [
        ("top.py", "READY")
    ]
