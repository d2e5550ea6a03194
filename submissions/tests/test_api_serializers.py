"""The submissions API's output: built directly (SubmissionOutputSerializer.to_representation)
and by DRF's generic per-field path from the declared fields, the same."""

import pytest
from rest_framework import serializers

from jobs.services import submission_submit
from submissions.api.selectors import visible_submissions
from submissions.api.serializers import SubmissionOutputSerializer
from submissions.tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db


def _generic(submission) -> dict:
    serializer = SubmissionOutputSerializer(submission)
    return dict(serializers.Serializer.to_representation(serializer, submission))


@pytest.mark.parametrize("submitted", [False, True])
def test_the_direct_output_equals_drfs_field_by_field_output(submitted, django_capture_on_commit_callbacks):
    submission = SubmissionFactory(source_code="print('é')\n", documentation="# notes\n")
    if submitted:
        with django_capture_on_commit_callbacks(execute=False):
            submission_submit(submission_id=submission.pk, user=submission.owner)
    loaded = visible_submissions(submission.owner).get(pk=submission.pk)
    direct = SubmissionOutputSerializer(loaded).data
    assert direct == _generic(loaded)
    assert direct["owner"] == submission.owner.username
    assert (direct["submitted_at"] is None) is not submitted
    assert direct["created_at"].endswith("Z")


def test_a_submission_without_the_annotation_reads_its_owner():
    submission = SubmissionFactory()
    assert SubmissionOutputSerializer(submission).data["owner"] == submission.owner.username
