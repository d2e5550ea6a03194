"""The learner's whole journey in a real Chromium, against the live server,
LocalStack's S3 (uploads straight from the browser) and a real worker.

Screenshots of the key pages are written to var/screenshots/.
"""

import hashlib
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

from conftest import wait_until
from jobs.models import ScoringJob
from submissions import storage
from submissions.models import Submission, SubmissionFile
from submissions.tests.factories import AssignmentFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "pw-for-tests-123"

CODE = (
    "import collections\n\n\n"
    "def top_words(text, n=10):\n"
    '    """The n most frequent words of text."""\n'
    "    return collections.Counter(text.lower().split()).most_common(n)\n"
)
DOCS = "Counts words. Usage: top_words(open('book.txt').read()) returns the ten most frequent words."
# Big enough that a throttled upload reports progress several times.
LIBRARY = b"import string\n\n\n" + b"".join(b"def f%d(x):\n    return x + %d\n\n\n" % (n, n) for n in range(12000))
DATA = b"word,count\n" + b"".join(b"w%d,%d\n" % (i, i) for i in range(30000))

# Counts XMLHttpRequest upload progress events per request, so the test can
# show that the bars were driven by real progress, not set at the end.
PROGRESS_PROBE = """
window.__uploadProgress = [];
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  const log = [];
  window.__uploadProgress.push(log);
  this.upload.addEventListener("progress", (e) => log.push([e.loaded, e.total]));
  return send.call(this, body);
};
"""


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs, the ORM keeps this context's own
            # connection: close it, or the test database cannot be dropped.
            connections.close_all()


@pytest.fixture
def site(live_server, settings, s3, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls
    # the test makes between browser steps are ordinary blocking calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The browser uploads to S3 from the live server's origin.
    settings.S3_CORS_ORIGINS = [live_server.url]
    storage.ensure_bucket()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return live_server.url


def shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_learner_writes_uploads_submits_and_reads_feedback(site, browser, start_worker):
    learner = UserFactory(username="ada", password=PASSWORD)
    AssignmentFactory(
        title="Word frequency counter",
        accepted_file_types=["text/x-python", "text/csv", "text/plain"],
        instructions="Write a function that returns the ten most frequent words, and document it.",
    )
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(PROGRESS_PROBE)

    # Log in, open the assignment, start.
    page.goto(f"{site}/")
    assert "/accounts/login/" in page.url
    shot(page, "01-login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Word frequency counter").click()
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#editor")
    submission = Submission.objects.get(owner=learner)

    # Type: autosave while typing, and on leaving the field.
    save_state = page.locator("#save-state")
    page.get_by_label("Source code").press_sequentially(CODE[:40])
    page.get_by_label("Source code").fill(CODE)
    page.wait_for_function("document.querySelector('#save-state').textContent.startsWith('Saved')")
    page.get_by_label("Documentation and notes").fill(DOCS)
    page.get_by_label("Source code").focus()  # blur the documentation field
    page.wait_for_function("document.querySelector('#save-state').textContent.startsWith('Saved')")
    submission.refresh_from_db()
    assert (submission.source_code, submission.documentation) == (CODE, DOCS)
    assert save_state.get_attribute("data-state") == "saved"
    shot(page, "02-editor-saved")

    # A second tab, opened now, falls behind once the first one saves again.
    other_tab = context.new_page()
    other_tab.goto(page.url)
    page.get_by_label("Source code").press_sequentially("\n# first tab\n")
    page.wait_for_function("document.querySelector('#save-state').textContent.startsWith('Saved')")
    other_tab.get_by_label("Documentation and notes").focus()
    other_tab.keyboard.press("End")
    other_tab.keyboard.type(" Second tab.")
    other_tab.locator("#conflict").wait_for(state="visible")
    assert "changed elsewhere" in other_tab.locator("#conflict").inner_text()
    assert other_tab.locator("#save-state").get_attribute("data-state") == "conflict"
    shot(other_tab, "03-second-tab-conflict")
    other_tab.close()
    submission.refresh_from_db()
    assert submission.source_code.endswith("# first tab\n") and submission.documentation == DOCS

    # Two files at once, straight to S3, over a throttled link so progress shows.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 5, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    page.set_input_files(
        "#file-input",
        [
            {"name": "helpers.py", "mimeType": "text/x-python", "buffer": LIBRARY},
            {"name": "words.csv", "mimeType": "text/csv", "buffer": DATA},
        ],
    )
    page.wait_for_function(
        "[...document.querySelectorAll('#uploads progress')].some(p => p.value > 0 && p.value < 100)"
    )
    assert page.locator("#uploads .upload-row").count() == 2
    shot(page, "04-uploading")
    page.wait_for_function(
        "document.querySelectorAll('#file-list li[data-status=READY]').length === 2", timeout=60_000
    )
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    shot(page, "05-files-ready")
    progress = page.evaluate("window.__uploadProgress")
    uploads = [log for log in progress if log and log[-1][1] > 100_000]
    assert len(uploads) == 2
    for log in uploads:
        assert len(log) >= 3, log  # several real progress events per file
        assert log[-1][0] == log[-1][1]
    files = {f.original_name: f for f in SubmissionFile.objects.filter(submission=submission)}
    assert {name: f.status for name, f in files.items()} == {"helpers.py": "READY", "words.csv": "READY"}
    assert files["helpers.py"].sha256 == hashlib.sha256(LIBRARY).hexdigest()
    assert files["words.csv"].sha256 == hashlib.sha256(DATA).hexdigest()

    # Submit, through the confirmation step.
    page.get_by_role("link", name="Submit for scoring…").click()
    page.wait_for_selector("#confirm-submit")
    shot(page, "06-confirm")
    page.get_by_role("button", name="Yes, submit now").click()
    page.wait_for_selector("#read-only-notice")
    assert page.locator("#editor").count() == 0
    assert page.locator("#job-status").inner_text() in {"Queued", "Running"}
    shot(page, "07-submitted-queued")

    # A real worker scores it; the page shows DONE and the score without a reload.
    page.evaluate("window.__samePage = true")
    worker = start_worker()
    try:
        page.wait_for_function("document.querySelector('#job-status').textContent === 'Done'", timeout=60_000)
    except Exception:
        raise AssertionError(f"the page never showed Done; worker log:\n{worker.log()}") from None
    assert page.evaluate("window.__samePage") is True
    job = ScoringJob.objects.get(submission=submission)
    assert job.status == ScoringJob.Status.DONE
    assert page.locator("#score").inner_text() == f"{job.result.total}"
    assert page.locator("#criteria tbody tr").count() == len(job.result.criteria)
    if job.result.feedback:
        assert page.locator("#feedback > li").count() == len(job.result.feedback)
    shot(page, "08-result")

    # On a narrow screen the result still reads well.
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "09-result-narrow")
    page.set_viewport_size({"width": 1100, "height": 900})

    # The attempt history shows the score and offers the next attempt.
    page.get_by_role("link", name="← Word frequency counter").click()
    assert f"{job.result.total} / 100" in page.locator("#history-heading + .table-wrap").inner_text()
    assert page.get_by_role("button", name="Start a new attempt (2 of 3)").is_visible()
    shot(page, "10-history")
    context.close()


def test_cancel_an_upload_and_see_a_disguised_file_rejected_then_removed(site, browser):
    learner = UserFactory(username="grace", password=PASSWORD)
    assignment = AssignmentFactory(title="CSV cleaner", accepted_file_types=["text/x-python", "text/csv"])
    submission = Submission.objects.create(owner=learner, assignment=assignment)
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site}/submissions/{submission.pk}/")

    # A slow upload, cancelled half-way: nothing stays behind.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 5, "downloadThroughput": -1, "uploadThroughput": 100_000},
    )
    page.set_input_files("#file-input", [{"name": "big.csv", "mimeType": "text/csv", "buffer": DATA}])
    page.wait_for_function("(document.querySelector('#uploads progress') || {}).value > 0")
    page.get_by_role("button", name="Cancel upload of big.csv").click()
    page.wait_for_selector("#uploads li[data-state=cancelled]")
    assert page.locator("#uploads li[data-state=cancelled] .upload-status").inner_text() == "Cancelled."
    # The script removes the registered file once the upload is aborted.
    wait_until(
        lambda: list(submission.files.values_list("status", flat=True)) == ["DELETED"],
        timeout=10, message="the cancelled file to be deleted",
    )
    assert page.locator("#file-list li").count() == 0
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})

    # HTML named .py: S3 takes the bytes, the server reads them and says no.
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
    page.set_input_files("#file-input", [{"name": "solution.py", "mimeType": "text/x-python", "buffer": html}])
    rejected = page.locator("#file-list li[data-status=REJECTED]")
    rejected.wait_for()
    assert "text/html" in rejected.locator(".reason").inner_text()
    shot(page, "11-rejected-file")
    file = submission.files.get(status="REJECTED")
    assert not storage.object_size(file.storage_key)

    # Remove it (htmx swaps the list in place), then submitting is possible.
    page.evaluate("window.__samePage = true")
    rejected.get_by_role("button", name="Remove solution.py").click()
    page.wait_for_selector("#files .notice.success")
    assert page.evaluate("window.__samePage") is True
    assert page.locator("#file-list li").count() == 0
    file.refresh_from_db()
    assert file.status == SubmissionFile.Status.DELETED
    context.close()


def log_in(page, site, username):
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/")


def test_code_editor_indents_with_tab_lets_escape_tab_leave_and_autosaves(site, browser):
    learner = UserFactory(username="linus", password=PASSWORD)
    submission = Submission.objects.create(owner=learner, assignment=AssignmentFactory())
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, site, "linus")
    page.goto(f"{site}/submissions/{submission.pk}/")

    # The label names the editor (the textarea behind it is hidden and kept in sync).
    editor = page.get_by_label("Source code")
    assert editor.get_attribute("contenteditable") == "true"
    editor.click()
    page.keyboard.type("def f(x):")
    page.keyboard.press("Enter")  # indents the body
    page.keyboard.type("if x:")
    page.keyboard.press("Enter")
    page.keyboard.type("return x")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # indents, and focus stays in the editor
    page.keyboard.type("y = 1")
    typed = "def f(x):\n    if x:\n        return x\n    y = 1"
    assert page.evaluate("document.activeElement.getAttribute('aria-labelledby')") == "id_source_code-label"
    assert page.locator("#id_source_code").input_value() == typed
    # Line numbers and highlighting (keywords get a span of their own); drawn on the next frame.
    page.locator(".code-editor .cm-lineNumbers .cm-gutterElement", has_text="4").wait_for()
    page.locator(".code-editor .cm-line span", has_text="return").wait_for()
    # Escape, then Tab: the keyboard leaves the editor for the next field.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_documentation"
    page.wait_for_function("document.querySelector('#save-state').textContent.startsWith('Saved')")
    submission.refresh_from_db()
    assert submission.source_code == typed

    page.reload()
    assert page.locator(".code-editor .cm-content").inner_text() == typed
    shot(page, "12-code-editor")
    context.close()


def test_a_feedback_item_links_to_its_line_in_the_read_only_code(site, browser):
    from scoring.models import ScoreResult

    learner = UserFactory(username="barbara", password=PASSWORD)
    code = "".join(f"value_{n} = {n}\n" for n in range(1, 121))
    submission = Submission.objects.create(owner=learner, assignment=AssignmentFactory(), source_code=code)
    submission.mark_submitted(actor=learner)
    result = ScoreResult.objects.create(
        submission=submission, engine_version="t", input_hash="h", total=50, criteria=[], summary={},
        feedback=[{"severity": "warning", "message": "Far down.", "file": "source_code", "line": 97}],
    )
    ScoringJob.objects.create(submission=submission, requested_by="LEARNER", status="DONE", result=result)
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, site, "barbara")
    page.goto(f"{site}/submissions/{submission.pk}/")

    line = page.locator("#code-L97")
    assert line.inner_text() == "value_97 = 97"
    page.get_by_role("link", name="Source code, line 97").click()
    page.wait_for_function("location.hash === '#code-L97'")
    assert line.evaluate("el => el.matches(':target')")  # highlighted by the stylesheet
    box, height = line.bounding_box(), page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height  # scrolled into view
    shot(page, "13-feedback-line")
    context.close()
