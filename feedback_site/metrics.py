"""Prometheus metrics at /metrics: requests here, and what the apps' collectors
(settings.METRICS_COLLECTORS: jobs.metrics) read at each scrape.

Each number is taken where it is true for the whole system:

- HTTP requests are counted by the web process that served them. gunicorn runs
  several processes, so with PROMETHEUS_MULTIPROC_DIR set every process writes
  its samples to that directory and a scrape (answered by any one of them)
  merges all of them (prometheus_client's multiprocess mode). Without it (a
  single `runserver` process) the process's own registry is exposed.
- Scoring jobs run in worker processes, usually in other containers or on
  other machines, which share no directory with the web and have no HTTP port
  of their own. Their outcomes and durations are therefore read from
  PostgreSQL at scrape time: JobAttempt rows are append-only (one per ended
  attempt, whichever worker ran it), so counts of them are true counters that
  survive worker restarts, and the job table gives the current states.
- Queue depth is asked from SQS at scrape time.

Access: ``Authorization: Bearer <METRICS_TOKEN>``, or a signed-in staff user who
may view jobs in the console (DEBUG opens nothing).
"""

import hmac
import logging
import os
import time

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.utils.module_loading import import_string
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# prometheus_client reads this variable itself when it is imported (it decides
# where samples live); settings.PROMETHEUS_MULTIPROC_DIR documents the same one.
_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if _MULTIPROC_DIR:
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter(
    "feedback_http_requests", "HTTP requests answered, by method, view and status.", ["method", "view", "status"]
)
REQUEST_SECONDS = Histogram(
    "feedback_http_request_duration_seconds", "Time to answer an HTTP request, by method and view.",
    ["method", "view"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

class RequestMetricsMiddleware:
    """Counts and times every request; labels stay bounded (URL pattern names, not paths)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "<unmatched>"
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(method, view, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(method, view).observe(time.perf_counter() - started)
        return response


def _request_registry():
    if _MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=_MULTIPROC_DIR)
        return registry
    return REGISTRY


def _system_registry() -> CollectorRegistry:
    """The apps' collectors named in settings.METRICS_COLLECTORS (the project
    package imports no app: apps provide what they know)."""
    registry = CollectorRegistry(auto_describe=False)
    for dotted in settings.METRICS_COLLECTORS:
        registry.register(import_string(dotted)())
    return registry


def exposition() -> bytes:
    """The text exposition of every metric (two registries, disjoint names)."""
    return generate_latest(_request_registry()) + generate_latest(_system_registry())


def _allowed(request) -> bool:
    # Not opened by DEBUG: job and queue figures are the console's business.
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    # Staff who may look at jobs in the console may look at their metrics.
    return bool(user is not None and user.is_authenticated and user.is_staff
                and user.has_perm("jobs.view_scoringjob"))


def metrics_view(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not _allowed(request):
        return HttpResponse(
            "metrics need a bearer token or a staff session\n", status=401, content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# Included by feedback_site/urls.py.
urlpatterns = [path("metrics", metrics_view, name="metrics")]
