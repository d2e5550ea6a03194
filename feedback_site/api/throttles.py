"""API rate limits: every limit of a request counted in one cache round trip.

Each request is held to several limits at once:

- "user": every request of a signed-in user; "anon": every anonymous
  request, by client address;
- a view's ``throttle_scope`` ("submission_submit", ...): that endpoint per
  user (or per address), separately from the user's other endpoints;
- on the token endpoint, also "token_obtain_username": sign-in tries per
  submitted username, whichever address they come from.

Rates are read from ``settings.API_THROTTLE_RATES`` at request time, so a
deployment (or a test) can change them without reloading anything.

Counting is a sliding-window counter: one integer per limit and window of
the rate's period, and the estimate ``previous × (unelapsed share of the
period) + current``. DRF's own throttles keep a list of every request's
time per limit (up to 1,200 floats for the default user rate), pickled
and written back on every request, and read and write each limit
separately (two cache round trips per limit); here all the request's
limits are incremented and the previous windows read together — a single
statement with the default database cache (feedback_site/cache.py), a few
atomic increments with Redis or Memcached. A refused request is not
counted (its increments are taken back), so a client that keeps retrying
gets through again once its rate allows, as with DRF's throttles.

The counts live in the default cache, shared by every process (settings.CACHES).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
KEY_PREFIX = "rate"


class Limit(NamedTuple):
    scope: str
    ident: str
    requests: int
    period: int  # seconds


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/minute" → (60, 60): the number of requests and the period in seconds."""
    number, period = rate.split("/")
    return int(number), PERIODS[period[0]]


def window_counts(current: list[str], previous: list[str], timeout: int) -> tuple[list[int], list[int]]:
    """Add one to each ``current`` counter and read each ``previous`` one.

    One round trip when the cache backend offers ``count_and_read`` (the
    database cache of feedback_site/cache.py); otherwise Django's atomic
    ``add`` + ``incr`` (Redis, Memcached, local memory)."""
    counting = getattr(cache, "count_and_read", None)
    if counting is not None:
        return counting(current, previous, timeout)
    counts = []
    for key in current:
        cache.add(key, 0, timeout)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout)
            counts.append(1)
    found = cache.get_many(previous)
    return counts, [int(found.get(key, 0)) for key in previous]


def uncount(keys: list[str]) -> None:
    """Take back one from each counter (a refused request is not counted)."""
    uncounting = getattr(cache, "uncount", None)
    if uncounting is not None:
        uncounting(keys)
        return
    for key in keys:
        with contextlib.suppress(ValueError):  # expired: nothing to take back
            cache.decr(key)


def requests_counted(scope: str, ident: str, rate: str) -> int:
    """How many requests the limit ``scope`` has counted for ``ident`` in the
    current window and the one before."""
    limit = Limit(scope, ident, *parse_rate(rate))
    window = int(time.time() // limit.period)
    keys = [RequestRateLimit.key(limit, window - 1), RequestRateLimit.key(limit, window)]
    return sum(window_counts([], keys, 1)[1])


class RequestRateLimit(BaseThrottle):
    """Every limit that applies to a request, counted together (see the module's docstring)."""

    def __init__(self):
        self.retry_after: float | None = None

    # --- which limits apply ---------------------------------------------------

    def limits(self, request, view) -> list[Limit]:
        rates = settings.API_THROTTLE_RATES
        user = getattr(request, "user", None)
        signed_in = bool(user and user.is_authenticated)
        ident = str(user.pk) if signed_in else self.get_ident(request)
        wanted = [("user" if signed_in else "anon", ident)]
        scope = getattr(view, "throttle_scope", None)
        if scope:
            wanted.append((scope, ident))
        wanted.extend(self.extra_limits(request, view))
        limits = []
        for name, who in wanted:
            rate = rates.get(name)
            if rate:
                limits.append(Limit(name, who, *parse_rate(rate)))
        return limits

    def extra_limits(self, request, view) -> list[tuple[str, str]]:
        return []

    # --- counting -------------------------------------------------------------

    def allow_request(self, request, view) -> bool:
        limits = self.limits(request, view)
        if not limits:
            return True
        now = time.time()
        current, previous = [], []
        for limit in limits:
            window = int(now // limit.period)
            current.append(self.key(limit, window))
            previous.append(self.key(limit, window - 1))
        # A counter is needed for its own window and the next (as "previous").
        timeout = 2 * max(limit.period for limit in limits) + 1
        counts, before = window_counts(current, previous, timeout)
        waits = [
            self._wait(limit, now, count, earlier)
            for limit, count, earlier in zip(limits, counts, before, strict=True)
        ]
        refused = [wait for wait in waits if wait is not None]
        if not refused:
            return True
        uncount(current)
        self.retry_after = max(refused)
        return False

    def wait(self) -> float | None:
        return self.retry_after

    @staticmethod
    def key(limit: Limit, window: int) -> str:
        return f"{KEY_PREFIX}:{limit.scope}:{limit.ident}:{limit.period}:{window}"

    @staticmethod
    def _wait(limit: Limit, now: float, count: int, earlier: int) -> float | None:
        """None if the request is within the limit, else the seconds until it would be."""
        into = (now % limit.period) / limit.period  # share of the current window elapsed
        if earlier * (1 - into) + count <= limit.requests:
            return None
        left = limit.period * (1 - into)
        if count > limit.requests or earlier == 0:
            return left  # this window alone is over: wait for the next
        # The previous window's weight falls linearly until the estimate fits.
        excess = earlier * (1 - into) + count - limit.requests
        return max(min(excess / earlier * limit.period, left), 1.0)


class SignInRateLimit(RequestRateLimit):
    """The token endpoint's limits, plus sign-in tries per submitted username
    ("token_obtain_username"): an attacker spreading guesses over many
    addresses still gets only so many per account."""

    def extra_limits(self, request, view) -> list[tuple[str, str]]:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username:
            return []  # the serializer refuses the request
        return [("token_obtain_username", hashlib.sha256(username.strip().casefold().encode()).hexdigest())]
