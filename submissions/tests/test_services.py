from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from submissions.models import Submission
from submissions.services import (
    SubmissionConflict,
    SubmissionLocked,
    submission_lock,
    submission_start,
    submission_update_text,
)
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


def test_update_text_after_submit_is_locked_even_from_a_stale_object():
    submission = SubmissionFactory()
    stale = Submission.objects.get(pk=submission.pk)
    submission.mark_submitted(actor=submission.owner)
    with pytest.raises(SubmissionLocked, match="can no longer be changed"):
        submission_update_text(submission=stale, source_code="late", documentation="", expected_version=1)
    submission.refresh_from_db()
    assert submission.source_code != "late"


def test_start_refuses_a_new_attempt_after_the_deadline_but_continues_an_open_one():
    learner = UserFactory()
    assignment = AssignmentFactory(deadline=timezone.now() + timedelta(hours=1))
    open_one = submission_start(user=learner, assignment=assignment)
    assignment.deadline = timezone.now() - timedelta(seconds=1)
    assignment.save()
    assert submission_start(user=learner, assignment=assignment) == open_one
    open_one.mark_submitted(actor=learner)
    with pytest.raises(ValidationError, match="deadline"):
        submission_start(user=learner, assignment=assignment)


def test_submit_after_the_deadline_is_refused():
    submission = SubmissionFactory(assignment=AssignmentFactory(deadline=timezone.now() - timedelta(seconds=1)))
    with pytest.raises(ValidationError, match="deadline"):
        submission_lock(submission=submission, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
