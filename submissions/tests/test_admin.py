import pytest
from django.urls import reverse

from submissions.models import SubmissionFile
from submissions.tests.factories import SubmissionFileFactory, UserFactory

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
