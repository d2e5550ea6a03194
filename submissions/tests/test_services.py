import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conftest import wait_until
from submissions.models import Submission
from submissions.services import (
    CannotStart,
    NotReady,
    SubmissionLocked,
    SubmissionStale,
    submission_mark_submitted,
    submission_start,
    submission_update_text,
)
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_start_continues_the_open_submission():
    learner, assignment = UserFactory(), AssignmentFactory()
    first, created = submission_start(user=learner, assignment=assignment)
    assert created and submission_start(user=learner, assignment=assignment) == (first, False)
    assert Submission.objects.filter(owner=learner).count() == 1


def test_start_refuses_beyond_the_attempt_limit():
    learner, assignment = UserFactory(), AssignmentFactory(max_attempts=1)
    done = SubmissionFactory(owner=learner, assignment=assignment)
    done.mark_submitted(actor=learner)
    with pytest.raises(CannotStart, match="1 attempt") as refused:
        submission_start(user=learner, assignment=assignment)
    assert refused.value.code == "cannot_start"


def test_update_text_conflict_is_reported():
    submission = SubmissionFactory()
    submission_update_text(submission=submission, source_code="a", documentation="", expected_version=1)
    with pytest.raises(SubmissionStale, match="changed elsewhere"):
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
    open_one, _ = submission_start(user=learner, assignment=assignment)
    assignment.deadline = timezone.now() - timedelta(seconds=1)
    assignment.save()
    assert submission_start(user=learner, assignment=assignment) == (open_one, False)
    open_one.mark_submitted(actor=learner)
    with pytest.raises(CannotStart, match="deadline"):
        submission_start(user=learner, assignment=assignment)


def test_submit_after_the_deadline_is_refused():
    submission = SubmissionFactory(assignment=AssignmentFactory(deadline=timezone.now() - timedelta(seconds=1)))
    with pytest.raises(NotReady, match="deadline"):
        submission_mark_submitted(submission=submission, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS


# --- concurrent starts: real PostgreSQL connections, one per thread -------------


def _in_own_connection(call):
    """Run ``call`` in a thread, which Django gives a database connection of
    its own; returns the thread and a dict with its backend ``pid`` and the
    ``result`` or ``error``."""
    outcome, connected = {}, threading.Event()

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            connected.set()
            outcome["result"] = call()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connected.set()
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert connected.wait(10) and "pid" in outcome, outcome
    return thread, outcome


def _waiting_on_a_lock(pid) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid])
        return cursor.fetchone()[0]


def _finish(*threads):
    for thread, outcome in threads:
        thread.join(15)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome["error"]
    return [outcome["result"] for _, outcome in threads]


@pytest.mark.django_db(transaction=True)
def test_parallel_starts_make_one_attempt_not_two():
    learner, assignment = UserFactory(), AssignmentFactory(max_attempts=1)
    with transaction.atomic():
        # Holding the learner's row makes each start's INSERT wait (its
        # foreign-key check needs a share lock on it), after it has counted:
        # both starts are inside the race window at once.
        get_user_model().objects.select_for_update().get(pk=learner.pk)
        starts = [_in_own_connection(lambda: submission_start(user=learner, assignment=assignment)) for _ in "ab"]
        wait_until(lambda: all(_waiting_on_a_lock(o["pid"]) for _, o in starts), timeout=10,
                   message="both starts to be waiting")
    (first, _), (second, _) = _finish(*starts)
    assert first.pk == second.pk
    assert list(Submission.objects.filter(owner=learner, assignment=assignment).values_list("pk", flat=True)) == [
        first.pk
    ]


@pytest.mark.django_db(transaction=True)
def test_start_continues_an_open_attempt_another_writer_inserts_meanwhile():
    learner, assignment = UserFactory(), AssignmentFactory()
    with transaction.atomic():
        # Inserted without the service's lock and not yet committed: only the
        # unique index can stop the start from adding a second open attempt.
        theirs = SubmissionFactory(owner=learner, assignment=assignment)
        start = _in_own_connection(lambda: submission_start(user=learner, assignment=assignment))
        wait_until(lambda: _waiting_on_a_lock(start[1]["pid"]), timeout=10,
                   message="the start's INSERT to wait on the unique index")
    [(continued, created)] = _finish(start)
    assert not created
    assert continued.pk == theirs.pk
    assert Submission.objects.filter(owner=learner, assignment=assignment).count() == 1


def test_the_database_refuses_a_second_open_attempt():
    first = SubmissionFactory()
    with pytest.raises(IntegrityError, match="submission_one_open_attempt"), transaction.atomic():
        SubmissionFactory(owner=first.owner, assignment=first.assignment)
    first.mark_submitted(actor=first.owner)
    SubmissionFactory(owner=first.owner, assignment=first.assignment)  # a new attempt once the first is submitted
