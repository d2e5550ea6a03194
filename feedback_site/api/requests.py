"""Small readers of request details shared by the API views."""

import re

_TRACE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def trace_id_of(request) -> str:
    """The caller's request id (X-Request-ID), if it is a safe one, so a
    client can follow its request into the job's logs; else empty (the
    service makes one)."""
    candidate = getattr(request, "request_id", None) or request.headers.get("X-Request-ID", "")
    return candidate if _TRACE_ID.fullmatch(str(candidate)) else ""


def absolute_url(request, path: str) -> str:
    return request.build_absolute_uri(path)
