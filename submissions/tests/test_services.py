import pytest
from django.core.exceptions import ValidationError

from submissions.models import Submission
from submissions.services import SubmissionConflict, submission_start, submission_update_text
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_start_continues_the_open_submission():
    learner, assignment = UserFactory(), AssignmentFactory()
    first = submission_start(user=learner, assignment=assignment)
    assert submission_start(user=learner, assignment=assignment) == first
    assert Submission.objects.filter(owner=learner).count() == 1


def test_start_refuses_beyond_the_attempt_limit():
    learner, assignment = UserFactory(), AssignmentFactory(max_attempts=1)
    done = SubmissionFactory(owner=learner, assignment=assignment)
    done.mark_submitted(actor=learner)
    with pytest.raises(ValidationError, match="1 attempt"):
        submission_start(user=learner, assignment=assignment)


def test_update_text_conflict_is_reported():
    submission = SubmissionFactory()
    submission_update_text(submission=submission, source_code="a", documentation="", expected_version=1)
    with pytest.raises(SubmissionConflict, match="changed elsewhere"):
        submission_update_text(submission=submission, source_code="b", documentation="", expected_version=1)
