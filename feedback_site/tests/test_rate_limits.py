"""The API's rate limits (feedback_site/api/throttles.py): all of a request's
limits in one cache round trip, a sliding window, refused requests not counted,
on the database cache and on any other Django cache."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback_site.api.throttles import Limit, RequestRateLimit, requests_counted, window_counts
from feedback_site.testing.api import api_as
from submissions.tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _cache_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "feedback_cache" in q["sql"]]


def test_a_write_counts_its_user_and_endpoint_limits_in_one_statement(settings):
    submission = SubmissionFactory()
    client = api_as(submission.owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/submissions/{submission.pk}", {"source_code": "x = 1\n"},
                                format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200
    assert len(_cache_statements(queries.captured_queries)) == 1
    user = str(submission.owner.pk)
    assert requests_counted("user", user, settings.API_THROTTLE_RATES["user"]) == 1
    assert requests_counted("submission_update", user, settings.API_THROTTLE_RATES["submission_update"]) == 1


def test_a_refused_request_is_not_counted(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "2/minute"}
    user = UserFactory()
    client = api_as(user)
    assert [client.get("/api/submissions").status_code for _ in range(5)] == [200, 200, 429, 429, 429]
    assert requests_counted("user", str(user.pk), "2/minute") == 2


def test_the_previous_window_weighs_by_the_share_of_it_still_in_the_sliding_window():
    limit = Limit("user", "1", requests=10, period=60)
    # 30 s into a window: half the previous one still counts.
    assert RequestRateLimit._wait(limit, now=90.0, count=4, earlier=12) is None  # 6 + 4 = 10
    wait = RequestRateLimit._wait(limit, now=90.0, count=5, earlier=12)  # 6 + 5 = 11
    assert wait == pytest.approx(5.0)  # 1 too many, of 12 that fade over 60 s
    # Over the limit within the window alone: wait for the next window.
    assert RequestRateLimit._wait(limit, now=90.0, count=11, earlier=0) == pytest.approx(30.0)


def test_counters_on_another_cache_backend_use_its_atomic_increments(settings):
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    try:
        assert window_counts(["a", "b"], ["z"], 60) == ([1, 1], [0])
        assert window_counts(["a"], ["b"], 60) == ([2], [1])
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "2/minute"}
        client = api_as(UserFactory())
        assert [client.get("/api/submissions").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        caches["default"].clear()


def test_a_database_counter_survives_alongside_pickled_cache_entries():
    cache = caches["default"]
    cache.set("ordinary", {"a": 1}, 60)
    assert window_counts(["rate:x"], ["rate:w"], 60) == ([1], [0])
    assert window_counts(["rate:y"], ["rate:x"], 60) == ([1], [1])
    assert cache.get("ordinary") == {"a": 1}
