"""The API's shared behaviour: authentication, the error format for malformed
input, body cap, throttling, idempotency keys, the schema and the docs page."""

import json
import re
import threading
from datetime import timedelta
from io import StringIO

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.test import APIClient

from feedback_site.testing.api import api_as, error_of
from idempotency import services as idempotency_services
from idempotency.models import IdempotencyRecord
from idempotency.services import idempotent_call, request_fingerprint
from jobs.models import ScoringJob
from submissions.models import Submission
from submissions.tests.factories import AssignmentFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- authentication --------------------------------------------------------------


def test_token_endpoint_exchanges_credentials_for_a_working_token():
    learner = UserFactory(username="ada")
    response = APIClient().post("/api/auth/token", {"username": "ada", "password": "pw-for-tests-123"},
                                format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=learner).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/submissions").status_code == 200


def test_token_endpoint_refuses_wrong_credentials_in_the_error_format():
    UserFactory(username="ada")
    response = APIClient().post("/api/auth/token", {"username": "ada", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid", "message": "Unable to sign in with these credentials.", "fields": {},
    }


def test_session_unsafe_request_without_csrf_token_is_refused():
    learner, assignment = UserFactory(), AssignmentFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(learner)
    assert client.get("/api/submissions").status_code == 200  # safe methods need no token
    response = client.post("/api/submissions", {"assignment": assignment.pk}, format="json")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied" and "CSRF" in error["message"]
    assert not Submission.objects.exists()


def csrf_session_client(user) -> tuple[APIClient, str]:
    """A session client holding the CSRF cookie a page would have set, and
    the token to send back in X-CSRFToken."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
    return client, token


def test_session_unsafe_request_with_csrf_token_is_accepted():
    learner, assignment = UserFactory(), AssignmentFactory()
    client, token = csrf_session_client(learner)
    response = client.post("/api/submissions", {"assignment": assignment.pk}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


# --- malformed input -----------------------------------------------------------------


def test_malformed_json_is_400_parse_error():
    response = api_as(UserFactory()).post("/api/submissions", '{"assignment": ', content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


@pytest.mark.parametrize(
    "raw",
    ['{"assignment": NaN}', '{"source": "\\ud800"}', "[" * 100_000 + "]" * 100_000],
    ids=["nan", "lone-surrogate", "deep-nesting"],
)
def test_json_that_cannot_be_stored_is_400_not_500(raw):
    response = api_as(UserFactory()).post("/api/submissions", raw, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_body_that_is_not_json_is_415():
    response = api_as(UserFactory()).post("/api/submissions", "assignment=1",
                                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_a_body_over_the_cap_is_413_and_creates_nothing(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    submission = SubmissionFactory(source_code="kept")
    client = api_as(submission.owner)
    response = client.patch(
        f"/api/submissions/{submission.pk}", {"source_code": "x" * 5000, "version": 1}, format="json"
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"
    submission.refresh_from_db()
    assert submission.source_code == "kept"
    # Just under the cap still works.
    ok = client.patch(f"/api/submissions/{submission.pk}", {"source_code": "x" * 1500, "version": 1}, format="json")
    assert ok.status_code == 200


def test_a_body_over_the_cap_is_413_even_for_a_session_post_checked_for_csrf(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    client, token = csrf_session_client(UserFactory())
    response = client.post("/api/submissions", {"assignment": 1, "pad": "x" * 5000}, format="json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


# --- throttling ------------------------------------------------------------------------


def test_a_write_endpoint_is_throttled_per_user_with_429_and_retry_after(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "submission_create": "2/minute"}
    learner, other = UserFactory(), UserFactory()
    assignment = AssignmentFactory()
    client = api_as(learner)
    statuses = [client.post("/api/submissions", {"assignment": assignment.pk}, format="json").status_code
                for _ in range(3)]
    assert statuses == [201, 200, 429]
    response = client.post("/api/submissions", {"assignment": assignment.pk}, format="json")
    assert response.status_code == 429
    assert error_of(response)["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    # Per endpoint: reads go on; per user: another learner is not affected.
    assert client.get("/api/submissions").status_code == 200
    assert api_as(other).post("/api/submissions", {"assignment": assignment.pk}, format="json").status_code == 201


def test_every_request_of_a_user_counts_against_the_user_rate(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "3/minute"}
    client = api_as(UserFactory())
    assert [client.get("/api/scoring").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_anonymous_requests_are_throttled_by_address(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "2/minute"}
    client = APIClient()
    assert [client.get("/api/schema").status_code for _ in range(3)] == [200, 200, 429]


def test_token_sign_in_attempts_are_throttled(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token_obtain": "2/minute"}
    UserFactory(username="ada")
    client = APIClient()
    attempts = [client.post("/api/auth/token", {"username": "ada", "password": guess}, format="json").status_code
                for guess in ("a", "b", "pw-for-tests-123")]
    assert attempts == [400, 400, 429]


def test_a_forged_forwarded_for_header_does_not_escape_the_sign_in_throttle(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token_obtain": "2/minute"}
    UserFactory(username="ada")
    client = APIClient()
    attempts = [
        client.post("/api/auth/token", {"username": "ada", "password": guess}, format="json",
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n, guess in enumerate(("a", "b", "c"))
    ]
    assert attempts == [400, 400, 429]


# --- idempotency keys ------------------------------------------------------------------


def test_a_retried_post_with_the_same_key_replays_the_first_response_and_creates_nothing():
    submission = SubmissionFactory()
    client = api_as(submission.owner)
    url = f"/api/submissions/{submission.pk}/submit"
    first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(f"{url}/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert ScoringJob.objects.filter(submission=submission).count() == 1
    # Without the key the retry is a plain second submit: a conflict.
    assert client.post(url, {}, format="json").status_code == 409


def test_the_same_key_with_another_body_is_422():
    learner = UserFactory()
    first_assignment, second_assignment = AssignmentFactory(), AssignmentFactory()
    client = api_as(learner)
    created = client.post("/api/submissions", {"assignment": first_assignment.pk}, format="json",
                          HTTP_IDEMPOTENCY_KEY="same")
    assert created.status_code == 201
    response = client.post("/api/submissions", {"assignment": second_assignment.pk}, format="json",
                           HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert list(Submission.objects.values_list("assignment_id", flat=True)) == [first_assignment.pk]


def test_keys_belong_to_one_user():
    assignment = AssignmentFactory()
    first, second = UserFactory(), UserFactory()
    a = api_as(first).post("/api/submissions", {"assignment": assignment.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    b = api_as(second).post("/api/submissions", {"assignment": assignment.pk}, format="json",
                            HTTP_IDEMPOTENCY_KEY="k")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


def test_a_failed_request_does_not_use_up_its_key():
    learner, assignment = UserFactory(), AssignmentFactory()
    client = api_as(learner)
    bad = client.post("/api/submissions", {"assignment": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = client.post("/api/submissions", {"assignment": assignment.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert good.status_code == 201


def test_an_expired_key_is_free_again_and_purged():
    learner = UserFactory()
    client = api_as(learner)
    first = AssignmentFactory()
    assert client.post("/api/submissions", {"assignment": first.pk}, format="json",
                       HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    second = AssignmentFactory()
    reused = client.post("/api/submissions", {"assignment": second.pk}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert reused.status_code == 201  # not a 422: the first use has expired
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    client.post("/api/submissions", {"assignment": first.pk}, format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "deleted 1 " in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünicode"])
def test_a_malformed_key_is_400(key):
    response = api_as(UserFactory()).post(
        "/api/submissions", {"assignment": AssignmentFactory().pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert not Submission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_job_and_get_the_same_answer(scoring_queue_url):
    submission = SubmissionFactory()
    token = Token.objects.create(user=submission.owner).key
    barrier, responses = threading.Barrier(4), []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            responses.append(client.post("/api/scoring", {"submission": str(submission.pk)}, format="json",
                                         HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in responses] == [202] * 4
    assert len({r.json()["id"] for r in responses}) == 1
    assert ScoringJob.objects.filter(submission=submission).count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_scoring_requests_without_a_key_still_make_one_job(scoring_queue_url):
    submission = SubmissionFactory()
    token = Token.objects.create(user=submission.owner).key
    barrier, responses = threading.Barrier(4), []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            responses.append(client.post("/api/scoring", {"submission": str(submission.pk)}, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.status_code for r in responses) == [202] * 4
    assert len({r.json()["id"] for r in responses}) == 1
    assert ScoringJob.objects.filter(submission=submission).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_that_outwaits_the_lock_timeout_is_told_the_first_is_still_running(settings, monkeypatch):
    monkeypatch.setattr(idempotency_services, "IN_PROGRESS_WAIT", timedelta(milliseconds=300))
    user = UserFactory()
    running, release, outcomes = threading.Event(), threading.Event(), {}

    def first():
        def slow_call():
            running.set()
            release.wait(20)
            return Response({"done": 1}, status=201)
        try:
            outcomes["first"] = idempotent_call(user=user, key="k", method="POST", path="/api/x", body={},
                                                call=slow_call)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert running.wait(20)
        # The duplicate's claim waits on the first's uncommitted row, then gives up.
        with pytest.raises(idempotency_services.KeyInProgress):
            idempotent_call(user=user, key="k", method="POST", path="/api/x", body={},
                            call=lambda: pytest.fail("the duplicate must not run"))
    finally:
        release.set()
        thread.join(30)
    assert outcomes["first"].status_code == 201
    replay = idempotent_call(user=user, key="k", method="POST", path="/api/x", body={},
                             call=lambda: pytest.fail("a finished key replays"))
    assert replay.data == {"done": 1} and replay["Idempotent-Replayed"] == "true"


def test_outside_a_transaction_a_duplicate_meanwhile_gets_409_in_progress_and_then_the_replay():
    user = UserFactory()
    duplicates = []

    def call():
        duplicates.append(_in_progress(user))  # a duplicate while this one runs
        return Response({"file": "READY"}, status=200)

    first = idempotent_call(user=user, key="k", method="POST", path="/api/x", body={}, call=call, atomic=False)
    assert first.status_code == 200 and duplicates == [True]
    replay = idempotent_call(user=user, key="k", method="POST", path="/api/x", body={},
                             call=lambda: pytest.fail("a finished key replays"), atomic=False)
    assert replay.data == {"file": "READY"} and replay["Idempotent-Replayed"] == "true"


def _in_progress(user) -> bool:
    try:
        idempotent_call(user=user, key="k", method="POST", path="/api/x", body={},
                        call=lambda: pytest.fail("must not run"), atomic=False)
    except idempotency_services.KeyInProgress:
        return True
    return False


def test_outside_a_transaction_a_failed_call_frees_its_key_and_a_dead_claim_is_taken_over():
    user = UserFactory()

    def failing():
        raise RuntimeError("storage fell over")

    with pytest.raises(RuntimeError):
        idempotent_call(user=user, key="k", method="POST", path="/api/x", body={}, call=failing, atomic=False)
    assert not IdempotencyRecord.objects.exists()
    # A claim whose request died (a killed process) is taken over after the lease.
    IdempotencyRecord.objects.create(user=user, key="k", method="POST", path="/api/x",
                                     fingerprint=request_fingerprint(method="POST", path="/api/x", body={}))
    assert _in_progress(user)
    IdempotencyRecord.objects.update(created_at=timezone.now() - idempotency_services.IN_PROGRESS_LEASE
                                     - timedelta(seconds=1))
    answer = idempotent_call(user=user, key="k", method="POST", path="/api/x", body={},
                             call=lambda: Response({"ok": True}), atomic=False)
    assert answer.data == {"ok": True}


def test_the_api_answers_a_running_duplicate_with_409_and_retry_after(s3, monkeypatch):
    submission = SubmissionFactory()
    client = api_as(submission.owner)
    ticket = client.post(f"/api/submissions/{submission.pk}/files",
                         {"file_name": "a.py", "size": 10, "content_type": "text/x-python"}, format="json").json()
    path = f"/api/submissions/{submission.pk}/files/{ticket['file']['id']}/complete"
    IdempotencyRecord.objects.create(user=submission.owner, key="dup", method="POST", path=path,
                                     fingerprint=request_fingerprint(method="POST", path=path, body={}))
    response = client.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="dup")
    assert response.status_code == 409 and response["Retry-After"] == "1"
    assert error_of(response)["code"] == "idempotency_key_in_progress"


# --- schema and docs -------------------------------------------------------------------


def test_the_schema_is_valid_openapi_3_and_lists_every_endpoint():
    response = APIClient().get("/api/schema")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    operations = {(path, method) for path, methods in schema["paths"].items() for method in methods}
    assert {
        ("/api/submissions", "get"), ("/api/submissions", "post"),
        ("/api/submissions/{id}", "get"), ("/api/submissions/{id}", "patch"),
        ("/api/submissions/{id}/submit", "post"), ("/api/submissions/{id}/rescore", "post"),
        ("/api/scoring", "get"), ("/api/scoring", "post"), ("/api/scoring/{id}", "get"),
        ("/api/scoring/{id}/retry", "post"), ("/api/scoring/{id}/cancel", "post"),
        ("/api/auth/token", "post"), ("/health", "get"), ("/health/ready", "get"),
    } <= operations
    # Each route once: the trailing-slash twins are not documented.
    assert not [path for path in schema["paths"] if path.endswith("/")]
    create = schema["paths"]["/api/scoring"]["post"]
    assert {"202", "200", "400", "401", "403", "404", "409", "422", "429"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])


def test_the_schema_documents_the_response_headers_clients_rely_on():
    paths = yaml.safe_load(APIClient().get("/api/schema").content)["paths"]

    def headers(path, method, status):
        return set(paths[path][method]["responses"][status].get("headers", {}))

    assert {"Location", "Idempotent-Replayed"} <= headers("/api/scoring", "post", "202")
    assert "Location" in headers("/api/submissions/{id}/submit", "post", "202")
    assert {"Location", "ETag"} <= headers("/api/submissions", "post", "201")
    assert "ETag" in headers("/api/submissions/{id}", "get", "200")
    assert "ETag" in headers("/api/submissions/{id}", "patch", "200")
    assert all(
        "Retry-After" in operation["responses"]["429"].get("headers", {})
        for methods in paths.values() for operation in methods.values() if "429" in operation["responses"]
    )
    key = next(p for p in paths["/api/scoring"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}


def test_the_schema_is_also_served_as_json():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content)["info"]["title"] == "feedback_site API"


def _urls_loaded_by(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']*)["']""", html)


def test_the_docs_are_swagger_ui_served_from_this_site():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="swagger-ui"' in html and "SwaggerUIBundle" in html
    assert '"/api/schema"' in html  # the schema it loads, from this site too
    # Every stylesheet, script and icon is a static file of this site, one
    # that collectstatic gathers (from drf-spectacular-sidecar).
    static_url = django_settings.STATIC_URL
    loaded = re.findall(r"""(?:src|href)=["']([^"']*)["']""", html)
    assert {url.rsplit("/", 1)[-1] for url in loaded} == {
        "swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png",
    }
    for url in loaded:
        assert url.startswith(static_url) and finders.find(url.removeprefix(static_url)), url
    # No CDN, and no validator badge: Swagger UI's default would load one
    # from validator.swagger.io, sending it the schema's URL.
    assert "cdn" not in html.lower() and "://" not in html
    assert '"validatorUrl": null' in html


def test_without_the_swagger_ui_assets_the_docs_list_the_operations(settings):
    settings.SPECTACULAR_SETTINGS = {
        key: value for key, value in settings.SPECTACULAR_SETTINGS.items()
        if key not in ("SWAGGER_UI_DIST", "SWAGGER_UI_FAVICON_HREF")
    }
    response = APIClient().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/submissions/{id}/submit" in html and "swagger-ui" not in html
    assert "cdn" not in html.lower() and "https://" not in html


# --- every 4xx under /api/ in the error format, DEBUG or not ---------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method, path, status", [
    ("get", "/api/submissions/null,null", 404),  # a malformed id: no route matches
    ("get", "/api/scoring/not-a-uuid/retry", 404),
    ("get", "/api/no/such/route", 404),
    ("post", "/api/docs", 405),  # a plain Django view
])
def test_every_api_error_is_in_the_api_format(settings, debug, method, path, status):
    settings.DEBUG = debug
    response = getattr(api_as(UserFactory()), method)(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error_of(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path, parameter", [
    ("/api/submissions?status=", "status"),
    ("/api/submissions?assignment=", "assignment"),
    ("/api/scoring?status=", "status"),
    ("/api/scoring?submission=", "submission"),
])
def test_an_empty_filter_is_refused_not_ignored(path, parameter):
    response = api_as(UserFactory()).get(path)
    assert response.status_code == 400
    assert parameter in error_of(response)["fields"]
