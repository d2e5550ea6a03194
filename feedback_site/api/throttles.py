"""Per-user and per-endpoint throttles whose rates are read at request time.

DRF's throttle classes copy DEFAULT_THROTTLE_RATES once, at import; ours
read ``settings.API_THROTTLE_RATES`` on every request, so a deployment (or a
test) can change them without reloading DRF.

- ``UserThrottle``: every request of a signed-in user ("user" rate);
- ``AnonThrottle``: every anonymous request, by client address ("anon");
- ``EndpointThrottle``: a view with ``throttle_scope = "x"`` is limited per
  user to the "x" rate, separately from the user's other endpoints;
- ``UsernameThrottle``: sign-in tries per submitted username.

The counts live in the default cache, shared by every process (settings.CACHES).
"""

import hashlib

from django.conf import settings
from rest_framework import throttling


class _SettingsRates:
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class UserThrottle(_SettingsRates, throttling.UserRateThrottle):
    scope = "user"

    def allow_request(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return True  # anonymous requests are AnonThrottle's
        return super().allow_request(request, view)


class AnonThrottle(_SettingsRates, throttling.AnonRateThrottle):
    scope = "anon"


class EndpointThrottle(_SettingsRates, throttling.ScopedRateThrottle):
    pass


class UsernameThrottle(_SettingsRates, throttling.SimpleRateThrottle):
    """Limits sign-in tries per submitted username, whichever address they come
    from ("token_obtain_username" rate): an attacker spreading guesses over
    many addresses still gets only so many per account."""

    scope = "token_obtain_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username:
            return None  # the serializer refuses the request
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
