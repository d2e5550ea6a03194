"""A database outage answers 503 with Retry-After, never a bare 500.

While PostgreSQL is down, restarting or unreachable (or a statement gives up
on a lock), every request that needs it fails with an OperationalError. That
is not a bug in the request: the client should come back in a few seconds,
and an API client gets the API's error format to act on.

The middleware catches it from views (DEBUG on or off); ``server_error``
(handler500) catches it from anywhere else in production.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from feedback_site.api.envelope import is_api_path, json_error

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
CODE = "database_unavailable"
MESSAGE = "The service cannot reach its database just now. Try again in a few seconds; nothing was changed."

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable · feedback_site</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>Temporarily unavailable</h1>
<p>The service cannot reach its database just now. Your work is safe: try again in a few seconds.</p>
</body></html>"""


def is_database_outage(exc: BaseException | None) -> bool:
    # InterfaceError: the connection was closed under us (the server went away).
    return isinstance(exc, OperationalError | InterfaceError)


def outage_response(request, exc: BaseException) -> HttpResponse:
    log.warning("database unavailable", extra={"path": request.path, "error": f"{type(exc).__name__}: {exc}"[:300]})
    if is_api_path(request):
        response = json_error(503, CODE, MESSAGE)
    else:
        # A page of its own: the site's templates read the session and user,
        # which need the database.
        response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def current_outage() -> BaseException | None:
    """The database error being handled right now, if that is what it is (for handler500)."""
    exc = sys.exc_info()[1]
    return exc if is_database_outage(exc) else None


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            return outage_response(request, exception)
        return None
