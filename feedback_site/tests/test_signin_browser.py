"""A locked-out sign-in, as a person sees it in a real Chromium."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

from submissions.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "pw-for-tests-123"


def test_repeated_wrong_passwords_lock_the_sign_in_page(live_server, settings, monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="ada", password=PASSWORD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)

            def sign_in(password):
                page.goto(f"{live_server.url}/accounts/login/")
                page.get_by_label("Username").fill("ada")
                page.get_by_label("Password").fill(password)
                return page.expect_navigation(), page.get_by_role("button", name="Log in")

            for guess in ("guess-1", "guess-2"):
                navigation, button = sign_in(guess)
                with navigation:
                    button.click()
                expect(page.get_by_role("alert")).to_contain_text("didn't match")
            navigation, button = sign_in("guess-3")
            with navigation as info:
                button.click()
            assert info.value.status == 429
            expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
            expect(page.get_by_role("alert")).to_contain_text("Try again in 15 minutes")
            page.screenshot(path=str(SCREENSHOTS / "signin-locked.png"), full_page=True)
            # The right password does not get through while the lock holds.
            navigation, button = sign_in(PASSWORD)
            with navigation:
                button.click()
            expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
            page.goto(f"{live_server.url}/")
            assert "/accounts/login/" in page.url  # still not signed in
        finally:
            browser.close()
            connections.close_all()
