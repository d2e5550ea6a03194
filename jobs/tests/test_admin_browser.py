"""Staff in a real Chromium: log in, read the dashboard, find the failed jobs, retry one,
and watch a real worker finish it. Screenshots go to var/screenshots/."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from conftest import wait_until
from jobs.models import JobEvent, ScoringJob
from jobs.tests.test_admin import _static_files_without_collectstatic, job_in, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "pw-for-tests-123"  # what the user factory sets


@pytest.fixture
def page(live_server, monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls
    # the test makes between browser steps are ordinary blocking calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 1000})
            tab.set_default_timeout(15_000)
            yield tab
        finally:
            browser.close()
            connections.close_all()  # the test database must be droppable afterwards


def test_staff_retry_a_failed_job_from_the_admin_and_see_it_done(page, live_server, scoring_queue_url,
                                                                 start_worker):
    staff_in("Job operators", "ops-anna")
    failed = job_in(ScoringJob.Status.ERROR, code="storage_unavailable", message="S3 timed out")
    other = job_in(ScoringJob.Status.ERROR, code="too_large", message="input too large")
    worker = start_worker()

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ops-anna")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="Jobs dashboard").click()
    expect(page.locator('#job-states li[data-status="ERROR"] .figure')).to_have_text("2")
    page.screenshot(path=str(SCREENSHOTS / "admin-jobs-dashboard.png"), full_page=True)

    page.get_by_role("link", name="All jobs").click()
    page.locator("#changelist-filter").get_by_role("link", name="Error", exact=True).click()
    expect(page).to_have_url(re.compile(r"status__exact=ERROR"))
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "admin-jobs-failed-list.png"), full_page=True)
    page.locator(f'input[name="_selected_action"][value="{failed.pk}"]').check()
    page.select_option('select[name="action"]', "retry_selected")
    page.get_by_role("button", name="Go").click()

    page.fill("textarea[name=reason]", "S3 is back")
    page.screenshot(path=str(SCREENSHOTS / "admin-jobs-retry-confirmation.png"), full_page=True)
    page.get_by_role("button", name="Retry 1 job").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Retried 1 job.")

    try:
        wait_until(lambda: ScoringJob.objects.filter(pk=failed.pk, status="DONE").exists(), timeout=60,
                   message="the retried job to be DONE")
    except AssertionError:
        raise AssertionError(f"job not done; worker log:\n{worker.log()}") from None
    page.goto(f"{live_server.url}/admin/jobs/scoringjob/{failed.pk}/change/")
    expect(page.locator(".job-badge").first).to_have_text("Done")
    expect(page.locator("#job-history")).to_contain_text("S3 is back")
    page.screenshot(path=str(SCREENSHOTS / "admin-jobs-retried-done.png"), full_page=True)

    assert JobEvent.objects.get(job=failed, action=JobEvent.Action.RETRY).actor == "ops-anna"
    assert ScoringJob.objects.get(pk=other.pk).status == ScoringJob.Status.ERROR  # only the chosen one
