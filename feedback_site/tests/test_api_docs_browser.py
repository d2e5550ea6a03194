"""/api/docs in a real Chromium: Swagger UI renders every operation, and the
page asks nothing of any other site."""

import os

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium.new_page()
        finally:
            chromium.close()


def test_swagger_ui_renders_the_schema_from_this_site_alone(page, live_server):
    requested, errors = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/api/docs")
    page.get_by_text("/api/submissions/{id}/submit", exact=True).wait_for(timeout=20_000)
    assert page.locator(".opblock").count() >= 18  # one block per operation
    assert not errors
    assert {url.rsplit("/", 1)[-1].split("?")[0] for url in requested} >= {
        "docs", "swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "schema",
    }
    outside = [url for url in requested if not url.startswith(f"{live_server.url}/") and not url.startswith("data:")]
    assert not outside
