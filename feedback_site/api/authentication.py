"""Token authentication whose token → user lookup is remembered briefly.

DRF's TokenAuthentication reads the token and its user on every request: a
query (and its ORM compilation), about a quarter of a read endpoint's CPU
in the profile (bench/api.py). API clients send the same token over and
over, so each process remembers a token's user for
``API_TOKEN_CACHE_SECONDS`` (10 by default; 0 turns this off).

What that costs: a token deleted, or a user deactivated, in another
process is still accepted by this one for up to that many seconds; in the
process that made the change, at once (the entries are dropped on save and
delete). Every request still gets a fresh user object built from the
remembered row, so nothing (permission caches, attributes set by a view)
leaks from one request to the next.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

MAX_ENTRIES = 10_000


class _RecentTokens:
    """Token key → (deadline, the user's row), least recently used dropped first."""

    def __init__(self):
        self._entries: OrderedDict[str, tuple[float, int, tuple]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, seconds: float, user_pk: int, row: tuple) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, user_pk, row)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def forget(self, *, key: str | None = None, user_pk=None) -> None:
        with self._lock:
            if key is not None:
                self._entries.pop(key, None)
            if user_pk is not None:
                for stale in [k for k, (_, pk, _) in self._entries.items() if pk == user_pk]:
                    del self._entries[stale]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


recent_tokens = _RecentTokens()


class RememberingTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's, with the lookup remembered (see the module)."""

    def authenticate_credentials(self, key):
        seconds = settings.API_TOKEN_CACHE_SECONDS
        remembered = recent_tokens.get(key) if seconds else None
        if remembered is None:
            user, token = super().authenticate_credentials(key)  # refuses unknown keys and inactive users
            if seconds:
                recent_tokens.put(key, seconds, user.pk, _row_of(user))
            return user, token
        user = _user_from_row(remembered[2])
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, Token(key=key, user_id=user.pk)


def _row_of(user) -> tuple:
    return tuple(getattr(user, field.attname) for field in user._meta.concrete_fields)


def _user_from_row(row: tuple):
    model = get_user_model()
    return model.from_db("default", [field.attname for field in model._meta.concrete_fields], row)


def _forget_token(sender, instance, **kwargs):
    recent_tokens.forget(key=instance.key)


def _forget_user(sender, instance, **kwargs):
    recent_tokens.forget(user_pk=instance.pk)


post_delete.connect(_forget_token, sender=Token, dispatch_uid="recent_tokens_token_deleted")
post_save.connect(_forget_token, sender=Token, dispatch_uid="recent_tokens_token_saved")
post_delete.connect(_forget_user, sender=settings.AUTH_USER_MODEL, dispatch_uid="recent_tokens_user_deleted")
post_save.connect(_forget_user, sender=settings.AUTH_USER_MODEL, dispatch_uid="recent_tokens_user_saved")
