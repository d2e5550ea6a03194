"""Uploads straight to S3 (LocalStack, signatures and POST policies enforced)
and the server's verification of what was stored. No mocks: each test sends
the presigned form over HTTP like a browser and reads the bucket back."""

import base64
import hashlib
import io
import json
import time
import urllib.request
import uuid
from datetime import timedelta

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from conftest import database_url_of_test_db
from feedback_site.testing.outages import unreachable_file_storage
from jobs.services import submission_submit
from submissions import storage
from submissions.models import PendingObjectDeletion, Submission, SubmissionFile, SubmissionFileEvent
from submissions.services import (
    FileRefused,
    FileVerifying,
    NotReady,
    SubmissionLocked,
    submission_file_delete,
    submission_file_download_url,
    submission_file_upload_complete,
    submission_file_upload_start,
)
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory
from submissions.tests.s3_forms import post_presigned_form

pytestmark = pytest.mark.django_db

PYTHON = b"import collections\n\n\ndef top(words):\n    return collections.Counter(words).most_common(10)\n"
HTML = b"<!DOCTYPE html>\n<html><body><script>document.location='//evil'</script></body></html>\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 400
ACCEPTED = ["text/x-python", "text/plain", "text/csv", "application/json"]


@pytest.fixture
def submission(s3):
    assignment = AssignmentFactory(accepted_file_types=ACCEPTED, max_file_size=4096, max_files=3)
    return SubmissionFactory(assignment=assignment)


def start(submission, name="solution.py", size=None, content=PYTHON, content_type="text/x-python"):
    return submission_file_upload_start(
        submission_id=submission.pk,
        user=submission.owner,
        file_name=name,
        size=len(content) if size is None else size,
        content_type=content_type,
    )


def after_commit():
    """Run what the code under test defers to its commit (S3 deletions), as
    a real commit would; the test's own transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def complete(submission, ticket):
    with after_commit():
        return submission_file_upload_complete(
            submission_id=submission.pk, file_id=ticket.file.pk, user=submission.owner
        )


def delete(submission, file):
    with after_commit():
        return submission_file_delete(submission_id=submission.pk, file_id=file.pk, user=submission.owner)


def upload(submission, content=PYTHON, name="solution.py"):
    ticket = start(submission, name=name, content=content)
    assert post_presigned_form(ticket.url, ticket.fields, content) == 204
    return ticket, complete(submission, ticket)


def exists(s3, bucket, key) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def test_upload_straight_to_s3_then_verified_ready(s3, settings, submission):
    ticket, file = upload(submission)
    assert file.status == SubmissionFile.Status.READY
    assert file.size == len(PYTHON)
    assert file.sha256 == hashlib.sha256(PYTHON).hexdigest()
    assert file.content_type == "text/x-script.python"
    stored = s3.get_object(Bucket=settings.S3_BUCKET, Key=file.storage_key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == file.sha256
    # The browser wrote to the incoming key; only the verified copy remains.
    assert ticket.fields["key"] == storage.incoming_key_for(file.storage_key)
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])
    assert list(SubmissionFileEvent.objects.filter(file=file).values_list("from_status", "to_status")) == [
        ("PENDING", "READY")
    ]


def test_policy_pins_size_range_content_type_and_key(submission):
    ticket = start(submission)
    policy = json.loads(base64.b64decode(ticket.fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 4096] in conditions
    assert {"Content-Type": "text/x-python"} in conditions
    assert {"key": ticket.fields["key"]} in conditions
    assert ticket.expires_in == 300


def test_s3_itself_refuses_a_body_over_the_policy_size(s3, settings, submission):
    ticket = start(submission, size=100)
    status = post_presigned_form(ticket.url, ticket.fields, b"x" * 4097)
    assert status == 400  # EntityTooLarge, from S3, not from us
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])
    file = complete(submission, ticket)
    assert file.status == SubmissionFile.Status.REJECTED
    assert "did not arrive" in file.rejection_reason


def test_s3_itself_refuses_an_expired_form(s3, settings, submission):
    settings.S3_PRESIGNED_EXPIRY_SECONDS = 1
    ticket = start(submission)
    time.sleep(2.2)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 403
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])


def test_s3_itself_refuses_another_content_type_or_key(s3, settings, submission):
    ticket = start(submission)
    other_type = {**ticket.fields, "Content-Type": "text/html"}
    assert post_presigned_form(ticket.url, other_type, HTML) == 403
    other_key = {**ticket.fields, "key": f"submissions/{submission.pk}/chosen-by-client"}
    assert post_presigned_form(ticket.url, other_key, PYTHON) == 403
    assert not exists(s3, settings.S3_BUCKET, other_key["key"])


@pytest.mark.parametrize(
    ("content", "name", "sniffed"),
    [(HTML, "solution.py", "text/html"), (ELF, "helper.py", "application/")],
    ids=["html-posing-as-python", "renamed-executable"],
)
def test_content_that_is_not_an_accepted_type_is_rejected_and_deleted(s3, settings, submission, content, name, sniffed):
    ticket, file = upload(submission, content=content, name=name)
    assert file.status == SubmissionFile.Status.REJECTED
    assert file.content_type.startswith(sniffed)
    assert "does not accept" in file.rejection_reason
    assert file.sha256 == hashlib.sha256(content).hexdigest()
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])


def test_server_checks_the_real_size_not_the_policy(s3, settings, submission):
    # The policy allowed 4 KiB; the rule is tightened before the upload is
    # completed: the stored object's real size is what counts.
    content = b"# notes\n" + b"x = 1\n" * 300
    ticket = start(submission, content=content)
    assert post_presigned_form(ticket.url, ticket.fields, content) == 204
    submission.assignment.max_file_size = 1000
    submission.assignment.save()
    file = complete(submission, ticket)
    assert file.status == SubmissionFile.Status.REJECTED
    assert file.size == len(content)
    assert "limit" in file.rejection_reason
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)


def test_path_traversal_name_is_neutralised_never_a_key_and_rejected(s3, settings, submission):
    ticket, file = upload(submission, name="../../../etc/cron.d/job.py")
    assert file.original_name == "job.py"
    assert file.storage_key.startswith(f"submissions/{submission.pk}/")
    assert ".." not in file.storage_key and "cron" not in file.storage_key and "job" not in file.storage_key
    assert file.status == SubmissionFile.Status.REJECTED
    assert "folder path" in file.rejection_reason
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])


def test_replaying_the_form_cannot_change_a_verified_file(s3, settings, submission):
    ticket, file = upload(submission)
    # The form is still valid: S3 accepts it, but only into the incoming key.
    assert post_presigned_form(ticket.url, ticket.fields, HTML) == 204
    again = complete(submission, ticket)
    assert again.status == SubmissionFile.Status.READY
    stored = s3.get_object(Bucket=settings.S3_BUCKET, Key=file.storage_key)["Body"].read()
    assert stored == PYTHON


def test_download_url_is_short_lived_attachment_with_the_neutralised_name(s3, settings, submission):
    _, file = upload(submission, name="report\u202eyp.exe\x07.py")
    assert file.original_name == "reportyp.exe.py"
    url = submission_file_download_url(submission_id=submission.pk, file_id=file.pk, user=submission.owner)
    assert "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the local S3 endpoint
        assert response.headers["Content-Disposition"] == 'attachment; filename="reportyp.exe.py"'
        assert response.read() == PYTHON


def test_download_of_unicode_name_uses_rfc5987(s3, submission):
    _, file = upload(submission, name="résumé données.py")
    url = submission_file_download_url(submission_id=submission.pk, file_id=file.pk, user=submission.owner)
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        assert response.headers["Content-Disposition"].startswith("attachment; filename*=utf-8''r%C3%A9sum%C3%A9")


def test_delete_removes_the_object_and_keeps_the_history(s3, settings, submission):
    _, file = upload(submission)
    delete(submission, file)
    file.refresh_from_db()
    assert file.status == SubmissionFile.Status.DELETED
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)
    assert [e.to_status for e in file.events.all()] == ["READY", "DELETED"]
    with pytest.raises(SubmissionFile.DoesNotExist):
        submission_file_download_url(submission_id=submission.pk, file_id=file.pk, user=submission.owner)


def test_a_pending_upload_can_be_cancelled_and_deleted(s3, submission):
    ticket = start(submission)
    submission_file_delete(submission_id=submission.pk, file_id=ticket.file.pk, user=submission.owner)
    assert SubmissionFile.objects.get(pk=ticket.file.pk).status == SubmissionFile.Status.DELETED
    # A late upload with the old form lands in the incoming area, and complete
    # does not bring the deleted file back.
    post_presigned_form(ticket.url, ticket.fields, PYTHON)
    with pytest.raises(SubmissionFile.DoesNotExist):
        complete(submission, ticket)


def test_start_refuses_a_declared_size_over_the_limit_and_too_many_files(submission):
    with pytest.raises(ValidationError, match="limit is 4.0"):
        start(submission, size=5000)
    with pytest.raises(ValidationError, match="empty"):
        start(submission, size=0)
    for n in range(3):
        start(submission, name=f"f{n}.py")
    with pytest.raises(FileRefused, match="at most 3 file"):
        start(submission, name="one-too-many.py")
    assert submission.files.count() == 3


def test_start_and_delete_loops_are_bounded(submission):
    # max_files is 3 here: 30 uploads may be started in all, deleted ones included.
    for _ in range(30):
        delete(submission, start(submission).file)
    with pytest.raises(FileRefused, match="Too many uploads"):
        start(submission)
    assert submission.files.count() == 30


def test_files_of_someone_else_are_not_found(submission):
    ticket = start(submission)
    stranger = UserFactory()
    with pytest.raises(Submission.DoesNotExist):
        submission_file_upload_start(submission_id=submission.pk, user=stranger, file_name="x.py", size=10)
    for service in (submission_file_upload_complete, submission_file_delete, submission_file_download_url):
        with pytest.raises(ObjectDoesNotExist):
            service(submission_id=submission.pk, file_id=ticket.file.pk, user=stranger)
    assert SubmissionFile.objects.get(pk=ticket.file.pk).status == SubmissionFile.Status.PENDING


def test_submit_is_refused_while_a_file_is_pending(submission, django_capture_on_commit_callbacks):
    start(submission, name="late.py")
    with pytest.raises(NotReady, match="still pending: late.py"):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
    assert not submission.scoring_jobs.exists()


def test_submit_is_refused_until_a_rejected_file_is_removed(s3, submission, django_capture_on_commit_callbacks):
    _, rejected = upload(submission, content=HTML, name="page.py")
    with pytest.raises(NotReady, match="rejected file"):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    submission_file_delete(submission_id=submission.pk, file_id=rejected.pk, user=submission.owner)
    with django_capture_on_commit_callbacks(execute=False):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED


def test_files_alone_are_enough_to_submit(s3, django_capture_on_commit_callbacks):
    submission = SubmissionFactory(source_code="", documentation="  ")
    with pytest.raises(NotReady, match="Write some code"):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    upload(submission)
    with django_capture_on_commit_callbacks(execute=False):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.SUBMITTED


def test_after_submit_uploads_and_deletes_are_refused(s3, settings, submission, django_capture_on_commit_callbacks):
    _, ready = upload(submission)
    with django_capture_on_commit_callbacks(execute=False):
        submission_submit(submission_id=submission.pk, user=submission.owner)
    with pytest.raises(SubmissionLocked, match="can no longer be changed"):
        start(submission, name="more.py")
    with pytest.raises(SubmissionLocked, match="can no longer be changed"):
        submission_file_delete(submission_id=submission.pk, file_id=ready.pk, user=submission.owner)
    ready.refresh_from_db()
    assert ready.status == SubmissionFile.Status.READY
    assert exists(s3, settings.S3_BUCKET, ready.storage_key)
    assert submission.files.count() == 1
    # Still downloadable, read-only.
    assert submission_file_download_url(submission_id=submission.pk, file_id=ready.pk, user=submission.owner)


# --- storage failing half-way -------------------------------------------------------


def test_a_verification_cut_short_by_storage_is_verified_again_not_rejected(s3, settings, submission, monkeypatch):
    ticket = start(submission)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 204
    # The copy succeeds, then the first read of it fails at the network.
    real_object_size, failures = storage.object_size, []

    def object_size_failing_once(key):
        if not failures:
            failures.append(key)
            raise EndpointConnectionError(endpoint_url=settings.AWS_ENDPOINT_URL)
        return real_object_size(key)

    monkeypatch.setattr(storage, "object_size", object_size_failing_once)
    with pytest.raises(EndpointConnectionError):
        complete(submission, ticket)
    assert SubmissionFile.objects.get(pk=ticket.file.pk).status == SubmissionFile.Status.PENDING
    # "Check again":
    file = complete(submission, ticket)
    assert file.status == SubmissionFile.Status.READY, file.rejection_reason
    assert file.sha256 == hashlib.sha256(PYTHON).hexdigest()
    assert s3.get_object(Bucket=settings.S3_BUCKET, Key=file.storage_key)["Body"].read() == PYTHON
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])  # removed once the file was settled
    assert not PendingObjectDeletion.objects.exists()


def test_a_deletion_storage_misses_is_kept_and_done_by_purge_deleted_files(s3, settings, submission, monkeypatch):
    _, file = upload(submission)
    with monkeypatch.context() as outage:
        outage.setattr(storage, "_files", unreachable_file_storage)
        delete(submission, file)  # the learner's delete succeeds; S3 does not hear of it
    file.refresh_from_db()
    assert file.status == SubmissionFile.Status.DELETED
    assert exists(s3, settings.S3_BUCKET, file.storage_key)
    pending = PendingObjectDeletion.objects.get(key=file.storage_key)
    assert pending.attempts == 1 and "EndpointConnectionError" in pending.last_error

    with monkeypatch.context() as outage:
        outage.setattr(storage, "_files", unreachable_file_storage)
        with pytest.raises(CommandError, match="could not be deleted"):
            call_command("purge_deleted_files", stdout=io.StringIO())
    assert PendingObjectDeletion.objects.get(key=file.storage_key).attempts == 2

    out = io.StringIO()
    call_command("purge_deleted_files", stdout=out)
    assert "deleted 2 stored object(s)" in out.getvalue()  # the final object and the incoming key
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)
    assert not PendingObjectDeletion.objects.exists()


def test_a_rejected_files_objects_are_listed_for_deletion_with_the_rejection(s3, settings, submission):
    ticket = start(submission, name="page.py", content=HTML)
    assert post_presigned_form(ticket.url, ticket.fields, HTML) == 204
    with TestCase.captureOnCommitCallbacks(execute=False) as deferred:
        file = submission_file_upload_complete(
            submission_id=submission.pk, file_id=ticket.file.pk, user=submission.owner
        )
    assert file.status == SubmissionFile.Status.REJECTED
    # Listed in the rejecting transaction: a process that dies before its
    # after-commit deletion leaves the work to the sweep, not to nobody.
    assert set(PendingObjectDeletion.objects.values_list("key", flat=True)) == set(
        storage.file_object_keys(file.storage_key)
    )
    assert len(deferred) == 1 and exists(s3, settings.S3_BUCKET, file.storage_key)
    call_command("purge_deleted_files", stdout=io.StringIO())
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)
    assert not exists(s3, settings.S3_BUCKET, ticket.fields["key"])
    assert not PendingObjectDeletion.objects.exists()


# --- assignments whose accepted types were stored malformed ----------------------


@pytest.mark.parametrize("stored", [[1], [{"type": "text/x-python"}], {"a": 1}, ["", "python"]])
def test_malformed_accepted_types_reject_the_file_instead_of_failing(s3, settings, stored):
    submission = SubmissionFactory(assignment=AssignmentFactory(accepted_file_types=stored, max_file_size=4096))
    _, file = upload(submission)
    assert file.status == SubmissionFile.Status.REJECTED
    assert "does not accept" in file.rejection_reason and "staff correct" in file.rejection_reason
    assert not exists(s3, settings.S3_BUCKET, file.storage_key)


def test_a_bare_string_of_accepted_types_is_one_type_not_its_characters(s3):
    submission = SubmissionFactory(assignment=AssignmentFactory(accepted_file_types="text/x-python"))
    _, file = upload(submission)
    assert file.status == SubmissionFile.Status.READY, file.rejection_reason
    _, html = upload(submission, content=HTML, name="page.py")
    assert html.status == SubmissionFile.Status.REJECTED
    assert "(accepted: text/x-python)" in html.rejection_reason


# --- verification outside transactions: the lease ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_s3_is_read_with_no_transaction_open_and_the_file_row_unlocked(s3, monkeypatch):
    submission = SubmissionFactory(assignment=AssignmentFactory(accepted_file_types=ACCEPTED, max_file_size=4096))
    ticket = start(submission)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 204
    seen = {}
    real_iter_object = storage.iter_object

    def iter_object_watched(key):
        seen["in_transaction"] = connection.in_atomic_block
        # Another session can change the row at once: nobody holds its lock.
        with psycopg.connect(database_url_of_test_db(), autocommit=True) as other:
            other.execute("SET lock_timeout = '1s'")
            other.execute("UPDATE submissions_submissionfile SET updated_at = now() WHERE id = %s", [ticket.file.pk])
        yield from real_iter_object(key)

    monkeypatch.setattr(storage, "iter_object", iter_object_watched)
    file = submission_file_upload_complete(submission_id=submission.pk, file_id=ticket.file.pk,
                                           user=submission.owner)
    assert seen == {"in_transaction": False}
    assert file.status == SubmissionFile.Status.READY
    file.refresh_from_db()
    assert file.status == SubmissionFile.Status.READY and file.verifying_until is None


def test_a_second_completion_during_a_verification_is_asked_to_come_back(s3, submission, monkeypatch):
    ticket = start(submission)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 204
    answers = []
    real_iter_object = storage.iter_object

    def iter_object_with_a_duplicate(key):
        with pytest.raises(FileVerifying) as refused:
            submission_file_upload_complete(submission_id=submission.pk, file_id=ticket.file.pk,
                                            user=submission.owner)
        answers.append(refused.value.code)
        yield from real_iter_object(key)

    monkeypatch.setattr(storage, "iter_object", iter_object_with_a_duplicate)
    assert complete(submission, ticket).status == SubmissionFile.Status.READY
    assert answers == ["file_verifying"]


def test_a_lease_left_by_a_crashed_request_is_taken_over_once_it_runs_out(s3, submission):
    ticket = start(submission)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 204
    crashed = uuid.uuid4()
    SubmissionFile.objects.filter(pk=ticket.file.pk).update(
        verification_token=crashed, verifying_until=timezone.now() + timedelta(seconds=60))
    with pytest.raises(FileVerifying):
        complete(submission, ticket)
    SubmissionFile.objects.filter(pk=ticket.file.pk).update(verifying_until=timezone.now() - timedelta(seconds=1))
    file = complete(submission, ticket)
    assert file.status == SubmissionFile.Status.READY
    assert file.verification_token != crashed


def test_a_verification_that_lost_its_lease_does_not_settle_the_file(s3, submission, monkeypatch):
    ticket = start(submission)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 204
    usurper = uuid.uuid4()
    real_iter_object = storage.iter_object

    def iter_object_then_lose_the_lease(key):
        yield from real_iter_object(key)
        SubmissionFile.objects.filter(pk=ticket.file.pk).update(verification_token=usurper)

    monkeypatch.setattr(storage, "iter_object", iter_object_then_lose_the_lease)
    file = complete(submission, ticket)
    assert file.status == SubmissionFile.Status.PENDING and file.verification_token == usurper
    assert not SubmissionFileEvent.objects.filter(file=file, to_status=SubmissionFile.Status.READY).exists()


def test_a_file_deleted_during_its_verification_stays_deleted_and_its_objects_go(s3, settings, submission,
                                                                                 monkeypatch):
    ticket = start(submission)
    assert post_presigned_form(ticket.url, ticket.fields, PYTHON) == 204
    real_object_size = storage.object_size

    def object_size_while_the_learner_deletes(key):
        delete(submission, ticket.file)  # the copy to the final key has happened already
        return real_object_size(key)

    monkeypatch.setattr(storage, "object_size", object_size_while_the_learner_deletes)
    file = complete(submission, ticket)
    assert file.status == SubmissionFile.Status.DELETED
    for key in storage.file_object_keys(file.storage_key):
        assert not exists(s3, settings.S3_BUCKET, key)
    assert not PendingObjectDeletion.objects.exists()
