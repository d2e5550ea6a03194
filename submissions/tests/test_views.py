from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback_site.testing.outages import unreachable_file_storage
from jobs.models import ScoringJob
from scoring.models import ScoreResult
from submissions import results, storage
from submissions.models import Submission, SubmissionFile
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, SubmissionFileFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"submissions:{name}", args=args)


def submitted(submission):
    submission.mark_submitted(actor=submission.owner)
    return submission


def job_for(submission, status="QUEUED", result=None, **fields):
    return ScoringJob.objects.create(
        submission=submission, requested_by="LEARNER", status=status, result=result, **fields
    )


def done_job(submission, **result_fields):
    data = {
        "total": Decimal("72.5"),
        "criteria": [
            {"key": "code_quality", "name": "Code quality", "score": 30, "max_score": 40},
            {"key": "documentation", "name": "Documentation", "score": 12.5, "max_score": 30},
        ],
        "feedback": [
            {
                "criterion": "code_quality", "severity": "warning", "message": "Function `add` has no docstring.",
                "suggestion": "Say what it returns.", "file": "source_code", "line": 2,
            },
        ],
        "summary": {"strengths": ["Clear names."], "next_steps": ["Add an example to the README."]},
        **result_fields,
    }
    result = ScoreResult.objects.create(submission=submission, engine_version="t", input_hash="h", **data)
    return job_for(submission, status="DONE", result=result)


def test_pages_require_login(client):
    response = client.get(url("assignment_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_login_and_logout(client):
    UserFactory(username="ada")
    response = client.post(reverse("login"), {"username": "ada", "password": "pw-for-tests-123"})
    assert response.status_code == 302
    assert client.get(url("assignment_list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(url("assignment_list")).status_code == 302


def test_every_page_and_action_of_someone_elses_submission_is_not_found(client):
    submission = SubmissionFactory(source_code="mine")
    file = SubmissionFileFactory(submission=submission)
    client.force_login(UserFactory())
    pk = submission.pk
    gets = [url("submission_detail", pk), url("submission_submit", pk), url("submission_status", pk),
            url("submission_files", pk), url("file_download", pk, file.pk)]
    posts = [url("submission_detail", pk), url("submission_autosave", pk), url("submission_submit", pk),
             url("file_start", pk), url("file_complete", pk, file.pk), url("file_delete", pk, file.pk)]
    for target in gets:
        assert client.get(target).status_code == 404, target
    for target in posts:
        response = client.post(target, {"source_code": "theirs", "documentation": "", "version": 1})
        assert response.status_code == 404, target
    submission.refresh_from_db()
    file.refresh_from_db()
    assert (submission.status, submission.source_code, submission.version) == ("IN_PROGRESS", "mine", 1)
    assert file.status == SubmissionFile.Status.READY
    assert not submission.scoring_jobs.exists()


def test_learner_starts_edits_confirms_and_submits(client, django_capture_on_commit_callbacks):
    learner, assignment = UserFactory(), AssignmentFactory()
    client.force_login(learner)
    started = client.post(url("submission_start", assignment.pk))
    submission = Submission.objects.get(owner=learner)
    detail = url("submission_detail", submission.pk)
    assert started["Location"] == detail
    saved = client.post(detail, {"source_code": "x = 1\n", "documentation": "Sets x.", "version": 1})
    assert saved.status_code == 302
    confirm = client.get(url("submission_submit", submission.pk))
    assert b"cannot be changed" in confirm.content and b'id="confirm-submit"' in confirm.content
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS  # looking at the confirmation changes nothing
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url("submission_submit", submission.pk))
    submission.refresh_from_db()
    assert (submission.status, submission.source_code) == (Submission.Status.SUBMITTED, "x = 1\n")
    page = client.get(detail)
    assert ScoringJob.objects.get(submission=submission).status == ScoringJob.Status.QUEUED
    assert b'id="job-status">Queued' in page.content
    assert b'id="read-only-notice"' in page.content and b'id="editor"' not in page.content


def test_autosave_saves_and_returns_the_new_version(client):
    submission = SubmissionFactory(source_code="old")
    client.force_login(submission.owner)
    response = client.post(
        url("submission_autosave", submission.pk), {"source_code": "new", "documentation": "d", "version": 1}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "saved" and response.json()["version"] == 2
    submission.refresh_from_db()
    assert (submission.source_code, submission.version) == ("new", 2)


def test_second_tab_gets_a_conflict_not_an_overwrite(client):
    submission = SubmissionFactory(source_code="original")
    client.force_login(submission.owner)
    autosave = url("submission_autosave", submission.pk)
    first = client.post(autosave, {"source_code": "tab one", "documentation": "", "version": 1})
    second = client.post(autosave, {"source_code": "tab two", "documentation": "", "version": 1})
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["status"] == "version_conflict" and "changed elsewhere" in second.json()["message"]
    submission.refresh_from_db()
    assert (submission.source_code, submission.version) == ("tab one", 2)


def test_stale_form_without_javascript_gets_a_conflict_too(client):
    submission = SubmissionFactory(source_code="original")
    client.force_login(submission.owner)
    detail = url("submission_detail", submission.pk)
    client.post(detail, {"source_code": "tab one", "documentation": "", "version": 1})
    response = client.post(detail, {"source_code": "tab two", "documentation": "", "version": 1})
    assert b"changed elsewhere" in response.content
    submission.refresh_from_db()
    assert submission.source_code == "tab one"


def test_after_submit_every_change_is_refused_and_nothing_changes(client, django_capture_on_commit_callbacks):
    submission = SubmissionFactory(source_code="final")
    file = SubmissionFileFactory(submission=submission)
    client.force_login(submission.owner)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url("submission_submit", submission.pk))
    submission.refresh_from_db()
    version = submission.version
    edit = {"source_code": "late", "documentation": "", "version": version}

    autosave = client.post(url("submission_autosave", submission.pk), edit)
    assert autosave.status_code == 409 and autosave.json()["status"] == "submission_locked"
    assert "can no longer be changed" in autosave.json()["message"]
    form = client.post(url("submission_detail", submission.pk), edit)
    assert b"can no longer be changed" in form.content
    start = client.post(
        url("file_start", submission.pk), {"name": "x.py", "size": 5}, content_type="application/json"
    )
    assert start.status_code == 409 and "can no longer be changed" in start.json()["message"]
    delete = client.post(url("file_delete", submission.pk, file.pk), HTTP_ACCEPT="application/json")
    assert delete.status_code == 409
    resubmit = client.post(url("submission_submit", submission.pk), follow=True)
    assert b"already been submitted" in resubmit.content

    submission.refresh_from_db()
    file.refresh_from_db()
    assert (submission.source_code, submission.version) == ("final", version)
    assert file.status == SubmissionFile.Status.READY
    assert submission.files.count() == 1
    assert submission.scoring_jobs.count() == 1


def test_submit_with_a_pending_file_is_refused_with_a_clear_message(client):
    submission = SubmissionFactory()
    SubmissionFileFactory(submission=submission, status=SubmissionFile.Status.PENDING, original_name="big.csv")
    client.force_login(submission.owner)
    response = client.post(url("submission_submit", submission.pk), follow=True)
    assert b"still pending: big.csv" in response.content
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
    assert not submission.scoring_jobs.exists()


def test_file_start_validates_input_as_json(client):
    submission = SubmissionFactory(assignment=AssignmentFactory(max_file_size=100))
    client.force_login(submission.owner)
    start = url("file_start", submission.pk)
    too_big = client.post(start, {"name": "a.py", "size": 101}, content_type="application/json")
    assert too_big.status_code == 400 and "limit" in too_big.json()["message"]
    not_a_number = client.post(start, {"name": "a.py", "size": "12"}, content_type="application/json")
    assert not_a_number.status_code == 400
    garbage = client.post(start, b"not json", content_type="application/json")
    assert garbage.status_code == 400
    assert not submission.files.exists()


def test_file_start_answers_400_to_json_nested_too_deeply(client):
    submission = SubmissionFactory()
    client.force_login(submission.owner)
    for body in (b"[" * 100_000, b'{"a":' * 100_000):
        response = client.post(url("file_start", submission.pk), body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["status"] == "invalid"
        assert response.json()["message"] == "Send the file's name, size and type as a JSON object."
    assert not submission.files.exists()


def test_file_names_are_shown_neutralised_and_isolated(client):
    submission = SubmissionFactory()
    SubmissionFileFactory(submission=submission, original_name="<b>x</b>.csv")
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk))
    assert b"&lt;b&gt;x&lt;/b&gt;.csv" in page.content and b"<b>x</b>" not in page.content
    assert b'class="file-name" dir="auto"' in page.content


def test_delete_with_htmx_returns_the_updated_list(client, s3):
    submission = SubmissionFactory()
    file = SubmissionFileFactory(submission=submission, original_name="gone.csv")
    client.force_login(submission.owner)
    response = client.post(url("file_delete", submission.pk, file.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"Removed gone.csv" in response.content and b'id="no-files"' in response.content
    file.refresh_from_db()
    assert file.status == SubmissionFile.Status.DELETED


def test_status_partial_is_silent_while_nothing_changes_then_shows_the_result(client):
    submission = submitted(SubmissionFactory())
    job = job_for(submission, status="RUNNING")
    client.force_login(submission.owner)
    status = url("submission_status", submission.pk)
    assert client.get(status, {"shown": "RUNNING"}).status_code == 204
    running = client.get(status, {"shown": "QUEUED"})
    assert b'id="job-status">Running' in running.content and b"data-poll-url" in running.content
    job.delete()
    done_job(submission)
    done = client.get(status, {"shown": "RUNNING"})
    assert b'id="score">72.5' in done.content
    assert b"data-poll-url" not in done.content  # polling stops


def test_status_poll_with_nothing_new_costs_one_query_and_reads_no_text(client, django_assert_num_queries):
    submission = submitted(SubmissionFactory(source_code="x = 1\n" * 10_000))
    job_for(submission, status="QUEUED")
    client.force_login(submission.owner)
    with django_assert_num_queries(3) as queries:  # session, user, the job's status
        assert client.get(url("submission_status", submission.pk), {"shown": "QUEUED"}).status_code == 204
    assert "source_code" not in queries.captured_queries[-1]["sql"]
    someone_else = UserFactory()
    client.force_login(someone_else)
    assert client.get(url("submission_status", submission.pk), {"shown": "QUEUED"}).status_code == 404


def test_result_shows_criteria_feedback_with_context_and_summary(client):
    submission = submitted(SubmissionFactory(source_code="import os\ndef add(a, b):\n    return a + b\n"))
    done_job(submission)
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert 'id="score">72.5</span>' in page
    assert "Code quality" in page and "30.0 / 40.0" in page and "12.5 / 30.0" in page
    assert "Source code</span>, line 2" in page
    assert '<span class="target"><span class="ln">2</span>def add(a, b):</span>' in page
    assert "Clear names." in page and "Add an example to the README." in page


def test_read_only_code_has_numbered_lines_that_feedback_items_link_to(client):
    submission = submitted(SubmissionFactory(source_code="import os\ndef add(a, b):\n    return a + b\n",
                                             documentation="Adds.\n\nadd(1, 2) == 3"))
    done_job(submission, feedback=[
        {"severity": "warning", "message": "No docstring.", "file": "source_code", "line": 2},
        {"severity": "info", "message": "Example.", "file": "documentation", "line": 3},
        {"severity": "info", "message": "Past the end.", "file": "source_code", "line": 9},
    ])
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert '<span id="code-L2" data-n="2">def add(a, b):</span>' in page
    assert '<span id="doc-L2" data-n="2"></span><span id="doc-L3" data-n="3">add(1, 2) == 3</span>' in page
    assert '<a class="cite" href="#code-L2"><span dir="auto">Source code</span>, line 2</a>' in page
    assert '<a class="cite" href="#doc-L3"><span dir="auto">Documentation</span>, line 3</a>' in page
    assert 'href="#code-L9"' not in page and "Source code</span>, line 9" in page  # no line to land on


def test_a_cited_attached_file_is_shown_numbered_with_the_result(client, s3, settings):
    submission = submitted(SubmissionFactory())
    body = b"word,count\n<b>a</b>,1\nb,x\n"
    file = SubmissionFileFactory(submission=submission, original_name="words.csv", size=len(body))
    s3.put_object(Bucket=settings.S3_BUCKET, Key=file.storage_key, Body=body)
    done_job(submission, feedback=[{"severity": "error", "message": "Not a number.", "file": "words.csv", "line": 3}])
    client.force_login(submission.owner)
    page = client.get(url("submission_status", submission.pk), {"shown": "RUNNING"}).content.decode()
    assert f'<a class="cite" href="#file-{file.pk}-L3"><span dir="auto">words.csv</span>, line 3</a>' in page
    assert f'<span id="file-{file.pk}-L2" data-n="2">&lt;b&gt;a&lt;/b&gt;,1</span>' in page
    assert f'<span id="file-{file.pk}-L3" data-n="3">b,x</span>' in page


def test_code_view_numbers_a_bounded_number_of_lines(client):
    submission = submitted(SubmissionFactory(source_code="\n" * 200_000 + "last = 1\n"))
    done_job(submission, feedback=[{"severity": "info", "message": "Far.", "file": "source_code", "line": 200_001}])
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert page.count('<span id="code-L') == results.NUMBERED_LINES_MAX
    assert "last = 1" in page  # the rest is shown, unnumbered
    assert 'href="#code-L200001"' not in page


def test_result_shows_the_points_each_item_cost_and_the_rule(client):
    submission = submitted(SubmissionFactory(source_code="def f(xs):\n    for x in xs:\n        xs = xs + [x]\n"))
    done_job(submission, feedback=[
        {"criterion": "performance", "severity": "warning", "message": "Copies the list.", "suggestion": "Append.",
         "file": "source_code", "line": 3, "rule": "copies.concat-in-loop", "points": 4.5},
        {"criterion": "performance", "severity": "info", "message": "A hint.", "suggestion": "Maybe.",
         "file": "source_code", "line": 2, "rule": "idiom.PERF401", "points": 0.0},
    ])
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert 'data-points="4.5">−4.5 points</span>' in page
    assert 'data-points="0">no points deducted</span>' in page
    assert 'id="points-rule"' in page


def test_an_old_result_without_points_shows_no_points_and_no_internal_labels(client):
    submission = submitted(SubmissionFactory())
    done_job(submission, summary={"strengths": ["source_code: no lint findings."],
                                  "improvements": ["Performance: Slow (source_code, line 8)"]})
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content.decode()
    assert "data-points" not in page and 'id="points-rule"' not in page
    assert "Source code: no lint findings." in page and "(source code, line 8)" in page
    assert "source_code:" not in page and "(source_code," not in page


def test_result_rendering_survives_unexpected_shapes(client):
    submission = submitted(SubmissionFactory())
    done_job(
        submission,
        criteria=[{"name": "Odd"}, "not a dict", {"score": "n/a", "max_score": None}],
        feedback=[{"message": "Line out of range", "file": "source_code", "line": 999, "points": "lots"},
                  {"line": "x", "points": -3}, 7],
        summary={"strengths": "One string", "next_steps": [{"message": "As an object"}, None, 3]},
    )
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk))
    assert page.status_code == 200
    assert b"Line out of range" in page.content and b"One string" in page.content and b"As an object" in page.content


def test_error_is_shown_as_not_scored_yet_never_as_zero(client):
    submission = submitted(SubmissionFactory())
    job_for(submission, status="ERROR", error_code="boom", error_message="Traceback: secret internals")
    client.force_login(submission.owner)
    page = client.get(url("submission_detail", submission.pk)).content
    assert b"We could not score this yet" in page
    assert b'id="score"' not in page and b"secret internals" not in page


def test_history_lists_attempts_with_scores_and_offers_a_new_attempt(client):
    learner = UserFactory()
    assignment = AssignmentFactory(max_attempts=3)
    first = submitted(SubmissionFactory(owner=learner, assignment=assignment))
    done_job(first)
    client.force_login(learner)
    page = client.get(url("assignment_detail", assignment.pk)).content.decode()
    assert "<strong>72.5</strong> / 100" in page
    assert "Start a new attempt (2 of 3)" in page
    client.post(url("submission_start", assignment.pk))
    assert Submission.objects.filter(owner=learner, assignment=assignment).count() == 2
    assert "Continue your attempt" in client.get(url("assignment_detail", assignment.pk)).content.decode()


def test_no_new_attempt_after_the_deadline(client):
    learner = UserFactory()
    assignment = AssignmentFactory(deadline=timezone.now() - timedelta(minutes=1))
    client.force_login(learner)
    page = client.get(url("assignment_detail", assignment.pk)).content.decode()
    assert "The deadline has passed" in page
    response = client.post(url("submission_start", assignment.pk), follow=True)
    assert b"deadline" in response.content
    assert not Submission.objects.filter(owner=learner).exists()


def test_download_redirects_to_a_presigned_attachment(client, s3):
    file = SubmissionFileFactory(original_name="data.csv")
    client.force_login(file.submission.owner)
    response = client.get(url("file_download", file.submission.pk, file.pk))
    assert response.status_code == 302
    assert "response-content-disposition=attachment" in response["Location"]
    assert "X-Amz-Signature=" in response["Location"]
    pending = SubmissionFileFactory(submission=file.submission, status=SubmissionFile.Status.PENDING)
    refused = client.get(url("file_download", file.submission.pk, pending.pk))
    assert refused.status_code == 302 and refused["Location"] == url("submission_detail", file.submission.pk)


# --- query budgets: a page costs the same with 1 or many rows ---------------------


def test_assignment_list_query_count_is_bounded(client, django_assert_num_queries):
    learner = UserFactory()
    for _ in range(5):
        SubmissionFactory(owner=learner)
    client.force_login(learner)
    with django_assert_num_queries(3):  # session, user, assignments with attempt counts
        assert client.get(url("assignment_list")).status_code == 200


def test_assignment_detail_query_count_is_bounded(client, django_assert_num_queries):
    learner, assignment = UserFactory(), AssignmentFactory(max_attempts=10)
    for _ in range(4):
        done_job(submitted(SubmissionFactory(owner=learner, assignment=assignment)))
    client.force_login(learner)
    # session, user, assignment, attempts, their jobs with results
    with django_assert_num_queries(5):
        assert client.get(url("assignment_detail", assignment.pk)).status_code == 200


def test_submission_page_query_count_is_bounded(client, django_assert_num_queries):
    submission = submitted(SubmissionFactory())
    for _ in range(4):
        SubmissionFileFactory(submission=submission)
    done_job(submission)
    client.force_login(submission.owner)
    # session, user, submission with assignment, files, latest job with result
    with django_assert_num_queries(5):
        assert client.get(url("submission_detail", submission.pk)).status_code == 200
    # the same, after the one-query check that something changed
    with django_assert_num_queries(6):
        assert client.get(url("submission_status", submission.pk)).status_code == 200


def test_health_answers_without_login(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_storage_outage_is_a_polite_503_and_the_file_stays_pending(client, monkeypatch):
    monkeypatch.setattr(storage, "_files", unreachable_file_storage)
    file = SubmissionFileFactory(status=SubmissionFile.Status.PENDING)
    client.force_login(file.submission.owner)
    response = client.post(url("file_complete", file.submission.pk, file.pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    file.refresh_from_db()
    assert file.status == SubmissionFile.Status.PENDING
