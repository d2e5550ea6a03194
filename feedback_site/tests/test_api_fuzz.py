"""A deterministic sweep of every operation in the OpenAPI schema with
malformed input, as staff: no answer may be a 5xx, and every 4xx must be in
the one error format.

It complements the schemathesis run (test_api_schemathesis.py), which fuzzes
every operation as a learner: a learner is refused the staff actions (403)
before their input is read, and schemathesis sends neither bodies that are not
UTF-8 nor HEAD requests. Staff reach every operation's input handling, and the
sweep adds those. (Oversized and deeply nested bodies: test_api_plumbing.py.)
"""

import itertools
import uuid

import pytest
import yaml
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD_BODIES = [
    [], "text", 12, None, True, {"unknown": 1}, {"status": "DONE"},
    {"submission": {"nested": ["x"]}, "assignment": [1]}, {"version": -1, "source_code": 5},
    {"file_name": "", "size": 10**30}, {"reason": "x" * 600},
]
BAD_QUERIES = [
    {"page": "0"}, {"page": "x"}, {"page_size": "1000"}, {"status": "nope"}, {"assignment": "-5"},
    {"submission": "zzz"}, {"page": str(10**30)},
]


def _schema() -> dict:
    return yaml.safe_load(APIClient().get("/api/schema").content)


def _operations():
    for path, methods in _schema()["paths"].items():
        if path == "/health/ready":
            continue  # answers 503 by design when a dependency is down
        for method in methods:
            yield path, method


def _concrete_paths(path: str, submission_id) -> list[str]:
    """Each path with real, foreign, random and malformed ids."""
    values = [str(submission_id), str(uuid.uuid4()), "not-a-uuid", "0"]
    if "{" not in path:
        return [path]
    return [path.replace("{id}", a).replace("{file_id}", b) for a, b in itertools.product(values, values[1:3])]


def _check(response, label):
    assert response.status_code < 500, f"{label}: {response.status_code} {response.content[:300]!r}"
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "fields"} == set(body["error"]), (label, body)


def test_no_operation_answers_malformed_input_from_staff_with_a_server_error():
    staff = UserFactory(is_staff=True, is_superuser=True)
    own = SubmissionFactory(owner=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    checked = 0
    for path, method in _operations():
        for concrete in _concrete_paths(path, own.pk):
            cache.clear()  # the sweep is far above any throttle rate
            if method in ("post", "patch", "put"):
                for body in BAD_BODIES:
                    response = getattr(client, method)(concrete, body, format="json", HTTP_IF_MATCH='"x"')
                    _check(response, f"{method} {concrete} {body!r}")
                    checked += 1
                response = getattr(client, method)(concrete, b"\xff\xfe{", content_type="application/json")
                _check(response, f"{method} {concrete} undecodable")
            else:
                for query in BAD_QUERIES:
                    _check(getattr(client, method)(concrete, query), f"{method} {concrete} {query}")
                    checked += 1
            _check(client.options(concrete), f"options {concrete}")
            assert client.head(concrete).status_code < 500, f"head {concrete}"
    assert checked > 300
