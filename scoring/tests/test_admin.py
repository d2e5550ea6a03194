import pytest
from django.urls import reverse

from scoring.models import Rubric
from scoring.tests.factories import published_rubric
from submissions.tests.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, settings):
    # Pages render from the source tree: the manifest needs collectstatic.
    settings.STORAGES = {
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    return client


def _form(criteria, *, assignment=None, initial=(), headers="[]"):
    data = {
        "csv_required_headers": headers, "json_schema": "null",
        "criteria-TOTAL_FORMS": str(len(criteria)), "criteria-INITIAL_FORMS": str(len(initial)),
        "criteria-MIN_NUM_FORMS": "0", "criteria-MAX_NUM_FORMS": "1000",
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "0",
    }
    if assignment is not None:
        data["assignment"] = str(assignment.pk)
    for n, (analyser, name, weight) in enumerate(criteria):
        data |= {f"criteria-{n}-analyser": analyser, f"criteria-{n}-name": name,
                 f"criteria-{n}-weight": str(weight), f"criteria-{n}-position": str(n)}
        if n < len(initial):
            data |= {f"criteria-{n}-id": str(initial[n].pk), f"criteria-{n}-rubric": str(initial[n].rubric_id)}
    return data


def test_staff_create_a_rubric_in_the_admin_and_it_is_published_as_version_one(staff_client):
    assignment = AssignmentFactory()
    response = staff_client.post(reverse("admin:scoring_rubric_add"), _form(
        [("code_quality", "Code", 50), ("documentation", "Docs", 25), ("performance", "Speed", 25)],
        assignment=assignment), follow=True)
    assert response.status_code == 200
    rubric = Rubric.objects.get(assignment=assignment)
    assert [(v.number, v.definition["criteria"]) for v in rubric.versions.all()] == [
        (1, [["code_quality", "Code", 50], ["documentation", "Docs", 25], ["performance", "Speed", 25]])]
    assert "Published version 1" in response.content.decode()


def test_editing_weights_in_the_admin_publishes_a_new_version(staff_client):
    rubric = published_rubric()
    criteria = list(rubric.criteria.order_by("position"))
    url = reverse("admin:scoring_rubric_change", args=[rubric.pk])
    edited = [("code_quality", "Code quality", 50), ("documentation", "Documentation", 30),
              ("performance", "Performance", 20)]
    response = staff_client.post(url, _form(edited, initial=criteria), follow=True)
    assert "Published version 2" in response.content.decode()
    response = staff_client.post(url, _form(edited, initial=criteria), follow=True)
    assert "still version 2" in response.content.decode()
    assert list(rubric.versions.values_list("number", flat=True)) == [2, 1]


def test_weights_that_do_not_add_up_are_shown_as_an_error(staff_client):
    assignment = AssignmentFactory()
    response = staff_client.post(reverse("admin:scoring_rubric_add"), _form(
        [("code_quality", "Code", 50), ("documentation", "Docs", 20)], assignment=assignment))
    assert response.status_code == 200
    assert "must add up to 100 (now 70)" in response.content.decode()
    assert not Rubric.objects.exists()


def test_the_rubric_changelist_and_change_page_render(staff_client, django_assert_num_queries):
    rubrics = [published_rubric() for _ in range(5)]
    with django_assert_num_queries(5):
        response = staff_client.get(reverse("admin:scoring_rubric_changelist"))
    assert response.status_code == 200
    response = staff_client.get(reverse("admin:scoring_rubric_change", args=[rubrics[0].pk]))
    assert response.status_code == 200
    assert "Code quality 40, Documentation 30, Performance 30" in response.content.decode()
