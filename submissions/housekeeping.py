"""Use-cases that tidy up after learners rather than act for one: run on a
schedule by the relay (jobs/maintenance.py) or by their management commands.

Kept apart from services.py, whose functions each serve a learner's request;
the same rules hold (keyword-only, transitions through the model's methods).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from submissions import storage
from submissions.models import PendingObjectDeletion, SubmissionFile

ABANDONED_UPLOAD_REASON = "The upload was never completed. Remove this file and upload it again."


def submission_files_abandoned_expire(*, batch_size: int = 200) -> int:
    """Reject the files still PENDING UPLOAD_ABANDONED_AFTER_SECONDS after their
    upload started (a closed tab, a failed upload); returns how many.

    Such a file holds one of the submission's file places and keeps it from
    being submitted; rejected, it says why and frees the place. Its objects
    are listed for deletion (``pending_object_deletions_purge`` deletes them).
    Rows are taken FOR UPDATE SKIP LOCKED; a file whose verification lease
    is live (being completed right now) is left alone, and the transition
    only moves a file that is still PENDING under the lease token read here.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.UPLOAD_ABANDONED_AFTER_SECONDS)
    expired, after = 0, None
    while True:
        with transaction.atomic():
            rows = SubmissionFile.objects.select_for_update(skip_locked=True).filter(
                status=SubmissionFile.Status.PENDING, created_at__lt=cutoff
            ).exclude(verifying_until__gt=timezone.now())
            if after is not None:
                rows = rows.filter(created_at__gt=after)
            batch = list(rows.order_by("created_at")[:batch_size])
            for file in batch:
                if file.mark_rejected(reason=ABANDONED_UPLOAD_REASON, actor=None, token=file.verification_token):
                    PendingObjectDeletion.objects.bulk_create(
                        [PendingObjectDeletion(key=key) for key in storage.file_object_keys(file.storage_key)],
                        ignore_conflicts=True,
                    )
                    expired += 1
        if len(batch) < batch_size:
            return expired
        after = batch[-1].created_at
