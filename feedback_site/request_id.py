"""The request id: one value that follows a request into the job it creates.

The middleware accepts a sane incoming ``X-Request-ID`` (a proxy's or a
client's, so they can find their request in our logs) or makes one, returns
it in the response, binds it to every log line of the request and keeps it in
a context variable. ``jobs.services.scoring_job_create`` stores it as the
job's ``trace_id``, which travels in the SQS message; the actor binds it again
around the job's run, so the worker's log lines carry the same id.
"""

import contextvars
import logging
import re
import time
import uuid

import structlog

HEADER = "X-Request-ID"
# ScoringJob.trace_id holds 64 characters; anything outside this alphabet
# (spaces, quotes, newlines) could forge or break log lines, so it is replaced.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

logger = logging.getLogger("feedback_site.requests")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request this code runs for; empty outside a request."""
    return _current.get()


def sane_request_id(value: str | None) -> str:
    """``value`` if it is acceptable as a request id, else an empty string."""
    value = (value or "").strip()
    return value if _SANE.fullmatch(value) else ""


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Put first in MIDDLEWARE so every later middleware and view logs with the id.

    It also writes one structured access line per request (gunicorn's own
    access log knows neither the request id nor the view).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = sane_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = request_id
        token = _current.set(request_id)
        started = time.perf_counter()
        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                response = self.get_response(request)
                match = getattr(request, "resolver_match", None)
                logger.info(
                    "request finished",
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "view": match.view_name if match else "",
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response
