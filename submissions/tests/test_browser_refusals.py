"""Refusals and staff decisions as the learner sees them, in a real Chromium
against the live server: a submit with a rejected file is stopped on the
confirmation page; a staff cancel shows up, with its reason, on the open page."""

import pytest

from jobs.models import ScoringJob
from jobs.services import scoring_job_cancel
from submissions.models import MAX_TOTAL_BYTES, SubmissionFile
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, SubmissionFileFactory, UserFactory
from submissions.tests.test_browser import PASSWORD, browser, shot, site  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in_page(browser, site, username):  # noqa: F811
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def test_a_submit_with_a_rejected_file_is_refused_on_the_confirmation_page(site, browser):  # noqa: F811
    learner = UserFactory(username="lin", password=PASSWORD)
    submission = SubmissionFactory(owner=learner, assignment=AssignmentFactory(title="Parser"))
    SubmissionFileFactory(submission=submission, original_name="notes.py", status=SubmissionFile.Status.REJECTED,
                          rejection_reason="The file's content is text/html, which this assignment does not accept.")
    SubmissionFileFactory(submission=submission, original_name="big.csv", size=MAX_TOTAL_BYTES - 1000)
    context, page = logged_in_page(browser, site, "lin")
    page.goto(f"{site}/submissions/{submission.pk}/")

    # The upload script refuses a file the total cannot take, before sending anything.
    page.set_input_files("#file-input", [{"name": "more.py", "mimeType": "text/x-python", "buffer": b"x = 1\n" * 400}])
    refused = page.locator("#uploads li[data-state=refused]")
    refused.wait_for()
    assert "Not uploaded: more.py is 2.3 KB" in refused.inner_text()
    assert "in total is left" in refused.inner_text()
    assert submission.files.count() == 2  # nothing registered on the server

    page.get_by_role("link", name="Submit for scoring…").click()
    problems = page.locator("#submit-problems")
    problems.wait_for()
    assert "Remove the rejected file(s) before submitting: notes.py." in problems.inner_text()
    assert page.get_by_role("heading", name="Not ready to submit").is_visible()
    assert page.get_by_role("button", name="Yes, submit now").count() == 0
    shot(page, "12-confirm-refused")
    page.get_by_role("link", name="Go back and fix it").click()
    page.wait_for_selector("#editor")
    submission.refresh_from_db()
    assert submission.is_editable
    context.close()


def test_a_staff_cancel_shows_its_reason_on_the_learners_open_page(site, browser, django_user_model):  # noqa: F811
    learner = UserFactory(username="mo", password=PASSWORD)
    operator = django_user_model.objects.create_superuser("operator", "op@example.com", PASSWORD)
    submission = SubmissionFactory(owner=learner)
    submission.mark_submitted(actor=learner)
    job = ScoringJob.objects.create(submission=submission, requested_by="LEARNER")  # no worker: it stays queued
    context, page = logged_in_page(browser, site, "mo")
    page.goto(f"{site}/submissions/{submission.pk}/")
    assert page.locator("#job-status").inner_text() == "Queued"
    page.evaluate("window.__samePage = true")
    scoring_job_cancel(job_id=job.pk, user=operator, reason="The rubric for this assignment was wrong; resubmit.")
    page.wait_for_function("document.querySelector('#job-status').textContent === 'Cancelled'")
    assert page.evaluate("window.__samePage") is True  # the open page updated itself
    assert page.locator("#score-error").inner_text() == (
        "Staff cancelled the scoring of this submission. Their reason: The rubric for this assignment was wrong; "
        "resubmit."
    )
    assert "We could not score this yet" not in page.locator("#scoring").inner_text()
    shot(page, "13-cancelled-by-staff")
    context.close()
