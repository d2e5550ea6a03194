import pytest
from django.core.exceptions import ValidationError

from submissions.models import Assignment, Submission, SubmissionEvent
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_update_text_bumps_version():
    submission = SubmissionFactory()
    assert submission.update_text(source_code="x = 1", documentation="doc", expected_version=1)
    submission.refresh_from_db()
    assert (submission.source_code, submission.version) == ("x = 1", 2)


def test_update_text_with_stale_version_changes_nothing():
    submission = SubmissionFactory()
    other_tab = Submission.objects.get(pk=submission.pk)
    assert submission.update_text(source_code="first", documentation="", expected_version=1)
    assert not other_tab.update_text(source_code="second", documentation="", expected_version=1)
    submission.refresh_from_db()
    assert submission.source_code == "first"


def test_mark_submitted_happens_once_and_is_recorded():
    submission = SubmissionFactory()
    learner = submission.owner
    stale_copy = Submission.objects.get(pk=submission.pk)
    assert submission.mark_submitted(actor=learner)
    assert not stale_copy.mark_submitted(actor=learner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.submitted_at is not None
    events = list(SubmissionEvent.objects.filter(submission=submission).values_list("from_status", "to_status"))
    assert events == [("IN_PROGRESS", "SUBMITTED")]


def test_submitted_submission_refuses_text_updates():
    submission = SubmissionFactory()
    submission.mark_submitted(actor=UserFactory())
    assert not submission.update_text(source_code="late", documentation="", expected_version=submission.version)
    submission.refresh_from_db()
    assert submission.source_code != "late"


@pytest.mark.parametrize(
    "value",
    [[1], "text/csv", {"text/csv": 1}, ["text"], ["text/"], ["*/*"], ["*/csv"], ["text/csv; charset=utf-8"],
     ["text/csv", None], [""], ["text /csv"]],
)
def test_accepted_file_types_must_be_a_list_of_mime_types(value):
    assignment = Assignment(title="T", accepted_file_types=value)
    with pytest.raises(ValidationError) as refused:
        assignment.full_clean()
    assert "accepted_file_types" in refused.value.message_dict


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ([], []),
        (None, []),
        (["text/x-python", "image/*"], ["text/x-python", "image/*"]),
        ([" Text/CSV ", "text/csv", "application/vnd.ms-excel"], ["text/csv", "application/vnd.ms-excel"]),
    ],
)
def test_accepted_file_types_are_cleaned_to_lower_case_once_each(value, stored):
    assignment = Assignment(title="T", accepted_file_types=value)
    assignment.full_clean()
    assert assignment.accepted_file_types == stored
