"""Sign-in protection: the hooks django-axes calls (settings: AXES_*).

django-axes records failed sign-ins from every path that authenticates with a
password (the login page, the admin's login, POST /api/auth/token) and refuses
a username or an address that failed too often. These functions make it use
the same client address as the API throttles and answer a lock-out the way
each audience expects: the API's error format, or a page that says when to
try again. Both are 429 with Retry-After."""

import math

from django.conf import settings
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

from feedback_site.api.envelope import is_api_path, json_error

LOCKED_OUT_CODE = "signin_locked_out"


def client_address(request) -> str:
    """The client's address as the API throttles see it: REMOTE_ADDR, or the
    NUM_PROXIES-th address from the right of X-Forwarded-For behind proxies."""
    return BaseThrottle().get_ident(request)


def lockout_seconds() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None):
    seconds = lockout_seconds()
    minutes = math.ceil(seconds / 60)
    message = (
        f"Too many failed sign-ins for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or ask staff to unlock it."
    )
    if is_api_path(request):
        response = json_error(429, LOCKED_OUT_CODE, message)
    else:
        response = render(request, "registration/locked_out.html", {"message": message, "minutes": minutes},
                          status=429)
    response["Retry-After"] = str(seconds)
    return response
