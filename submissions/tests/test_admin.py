import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from submissions.models import Assignment, Submission, SubmissionFile
from submissions.tests.factories import SubmissionFactory, SubmissionFileFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_staff_see_files_on_the_submission_and_download_ready_ones(client, s3):
    staff = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    ready = SubmissionFileFactory(original_name="data.csv")
    SubmissionFileFactory(submission=ready.submission, status=SubmissionFile.Status.REJECTED, original_name="x.py")
    client.force_login(staff)
    page = client.get(reverse("admin:submissions_submission_change", args=[ready.submission.pk]))
    assert page.status_code == 200
    assert b"data.csv" in page.content and b"x.py" in page.content
    download = reverse("admin:submissions_submission_file_download", args=[ready.submission.pk, ready.pk])
    assert download.encode() in page.content
    response = client.get(download)
    assert response.status_code == 302 and "response-content-disposition=attachment" in response["Location"]


def test_learners_cannot_use_the_staff_download(client):
    file = SubmissionFileFactory()
    client.force_login(file.submission.owner)
    response = client.get(reverse("admin:submissions_submission_file_download", args=[file.submission.pk, file.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_saving_a_submission_in_the_admin_is_refused_and_changes_nothing(client):
    staff = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    submission = SubmissionFactory()
    before = Submission.objects.values().get(pk=submission.pk)
    client.force_login(staff)
    change = reverse("admin:submissions_submission_change", args=[submission.pk])
    page = client.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    # What the change form would post: nothing editable, the inlines' management forms.
    form = {f"{prefix}-{name}": "0" for prefix in ("files", "events")
            for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")}
    response = client.post(change, {**form, "_save": "Save"})
    assert response.status_code == 403
    assert Submission.objects.values().get(pk=submission.pk) == before  # not even updated_at
    assert not LogEntry.objects.exists()


def test_assignment_admin_refuses_accepted_types_that_are_not_a_list_of_mime_types(client):
    staff = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    client.force_login(staff)
    add = reverse("admin:submissions_assignment_add")
    form = {"title": "T", "instructions": "", "max_file_size": 1000, "max_files": 3, "max_attempts": 1}
    for bad in ("[1]", '"text/csv"', '["text"]', '["text/csv; charset=utf-8"]'):
        response = client.post(add, {**form, "accepted_file_types": bad})
        assert response.status_code == 200 and b"MIME type" in response.content, bad
    assert not Assignment.objects.exists()
    response = client.post(add, {**form, "accepted_file_types": '[" Text/CSV ", "image/*", "text/csv"]'})
    assert response.status_code == 302
    assert Assignment.objects.get().accepted_file_types == ["text/csv", "image/*"]
