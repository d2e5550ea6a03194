"""A database outage answers 503 with Retry-After (feedback_site/database_outage.py):
in the API's error format under /api/, a plain page elsewhere, never a 500.

The integration test takes PostgreSQL away from a real gunicorn under API load
for 10 s, through a proxy that drops every connection and refuses new ones as a
stopped server does (stopping the shared cluster itself would take it from the
rest of the test run too)."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import OperationalError, connection
from django.test import Client
from rest_framework.authtoken.models import Token

from conftest import wait_until
from feedback_site.api.throttles import RequestRateLimit
from feedback_site.testing.processes import ROOT
from feedback_site.testing.tcp_proxy import CuttableProxy
from submissions import selectors
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db

GONE = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


def _raise(*args, **kwargs):
    raise GONE


def test_an_api_request_that_loses_the_database_answers_503_in_the_api_format(monkeypatch):
    client = Client()
    client.force_login(UserFactory())
    # The throttle's count is the first read from the database (the cache table).
    monkeypatch.setattr(RequestRateLimit, "allow_request", _raise)
    response = client.get("/api/submissions")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "5432" not in response.content.decode()  # no internals in the answer


def test_a_page_that_loses_the_database_answers_a_503_page(monkeypatch):
    client = Client()
    client.force_login(UserFactory())
    monkeypatch.setattr(selectors, "assignments_with_attempts", _raise)
    response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "Temporarily unavailable" in response.content.decode()


def test_an_outage_outside_the_view_answers_503_too(monkeypatch):
    # Saving the session after the view: Django turns the error into handler500's answer.
    monkeypatch.setattr(SessionMiddleware, "process_response", _raise)
    client = Client(raise_request_exception=False)
    response = client.get("/api/submissions")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


# --- a real outage under load ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_postgres_gone_for_10_seconds_under_api_load_answers_503_with_retry_after_and_recovers(tmp_path):
    submission = SubmissionFactory()
    token = Token.objects.create(user=submission.owner).key
    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    env = {
        **os.environ, "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@127.0.0.1:{proxy.port}/{db['NAME']}",
        "API_THROTTLE_USER_RATE": "100000/minute", "DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
    }
    server = subprocess.Popen(  # noqa: S603 (gunicorn from our own virtualenv)
        [sys.executable, "-m", "gunicorn", "feedback_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    answers: list[tuple[float, int, str | None, str]] = []
    stop = threading.Event()

    def client(path: str):
        while not stop.is_set():
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Authorization": f"Token {token}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our test server)
                    answers.append((time.monotonic(), response.status, None, ""))
            except urllib.error.HTTPError as error:
                answers.append((time.monotonic(), error.code, error.headers.get("Retry-After"),
                                error.read().decode(errors="replace")))
            except OSError as error:  # URLError, a reset or a timeout: no HTTP answer at all
                answers.append((time.monotonic(), 0, None, repr(error)))
                time.sleep(0.2)
            time.sleep(0.02)

    try:
        wait_until(lambda: _answers_ok(port, token), timeout=60, message="gunicorn to serve")
        threads = [threading.Thread(target=client, args=(path,), daemon=True)
                   for path in ("/api/submissions", f"/api/submissions/{submission.pk}") * 2]
        for thread in threads:
            thread.start()
        time.sleep(2)
        proxy.cut()
        cut_at = time.monotonic()
        time.sleep(10)
        proxy.restore()
        restored_at = time.monotonic()
        recovered_at = wait_until(
            lambda: next((at for at, status, _, _ in answers if at > restored_at and status == 200), None),
            timeout=30, message="a 200 after the database came back")
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        proxy.close()
        log.close()

    failed = [(status, retry_after, body) for _, status, retry_after, body in answers if status != 200]
    during = [status for at, status, _, _ in answers if cut_at + 1 < at < restored_at]
    assert during and set(during) == {503}, f"answers during the outage: {sorted(set(during))}"
    assert {status for status, _, _ in failed} == {503}, (tmp_path / "gunicorn.log").read_text()[-3000:]
    for _, retry_after, body in failed:
        assert retry_after == "5"
        assert json.loads(body)["error"]["code"] == "database_unavailable"
    # Recovered for good: every answer from a second after the first success is a success.
    assert {status for at, status, _, _ in answers if at > recovered_at + 1} == {200}


def _answers_ok(port: int, token: str) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/submissions",
                                     headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (our test server)
            return response.status == 200
    except OSError:  # not listening yet, or still loading the app
        return False
