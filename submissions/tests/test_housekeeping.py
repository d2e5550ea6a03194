import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from submissions import storage
from submissions.housekeeping import ABANDONED_UPLOAD_REASON, submission_files_abandoned_expire
from submissions.models import PendingObjectDeletion, SubmissionFile
from submissions.tests.factories import SubmissionFileFactory

pytestmark = pytest.mark.django_db


def _started(file, *, seconds_ago: int) -> SubmissionFile:
    SubmissionFile.objects.filter(pk=file.pk).update(created_at=timezone.now() - timedelta(seconds=seconds_ago))
    return file


def test_uploads_pending_past_the_limit_are_rejected_with_their_objects_listed_for_deletion(settings):
    limit = settings.UPLOAD_ABANDONED_AFTER_SECONDS
    abandoned = _started(SubmissionFileFactory(status=SubmissionFile.Status.PENDING), seconds_ago=limit + 60)
    recent = _started(SubmissionFileFactory(status=SubmissionFile.Status.PENDING), seconds_ago=limit - 60)
    settled = _started(SubmissionFileFactory(status=SubmissionFile.Status.READY), seconds_ago=limit + 60)
    # Old, but a request is verifying it right now (a live lease): left to that request.
    verifying = _started(SubmissionFileFactory(status=SubmissionFile.Status.PENDING), seconds_ago=limit + 60)
    SubmissionFile.objects.filter(pk=verifying.pk).update(verification_token=uuid.uuid4(),
                                                          verifying_until=timezone.now() + timedelta(seconds=60))
    # Old, with a lease that ran out (its request died): expired like any other.
    dead_lease = _started(SubmissionFileFactory(status=SubmissionFile.Status.PENDING), seconds_ago=limit + 60)
    SubmissionFile.objects.filter(pk=dead_lease.pk).update(verification_token=uuid.uuid4(),
                                                           verifying_until=timezone.now() - timedelta(seconds=60))

    assert submission_files_abandoned_expire() == 2

    assert SubmissionFile.objects.get(pk=verifying.pk).status == SubmissionFile.Status.PENDING
    assert SubmissionFile.objects.get(pk=dead_lease.pk).status == SubmissionFile.Status.REJECTED
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.rejection_reason) == (SubmissionFile.Status.REJECTED, ABANDONED_UPLOAD_REASON)
    event = abandoned.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("PENDING", "REJECTED", None)
    assert set(PendingObjectDeletion.objects.values_list("key", flat=True)) == {
        *storage.file_object_keys(abandoned.storage_key), *storage.file_object_keys(dead_lease.storage_key)
    }
    assert SubmissionFile.objects.get(pk=recent.pk).status == SubmissionFile.Status.PENDING
    assert SubmissionFile.objects.get(pk=settled.pk).status == SubmissionFile.Status.READY
    assert submission_files_abandoned_expire() == 0  # nothing left to do


def test_expiry_goes_through_every_batch(settings):
    for _ in range(5):
        _started(SubmissionFileFactory(status=SubmissionFile.Status.PENDING),
                 seconds_ago=settings.UPLOAD_ABANDONED_AFTER_SECONDS + 60)
    assert submission_files_abandoned_expire(batch_size=2) == 5
    assert not SubmissionFile.objects.filter(status=SubmissionFile.Status.PENDING).exists()


def test_command_reports_how_many_it_rejected(settings, capsys):
    _started(SubmissionFileFactory(status=SubmissionFile.Status.PENDING),
             seconds_ago=settings.UPLOAD_ABANDONED_AFTER_SECONDS + 60)
    call_command("expire_abandoned_uploads")
    assert "rejected 1 upload(s)" in capsys.readouterr().out
