"""Small strict readers for configuration from environment variables.

Every setting comes from the environment; a value that cannot be parsed raises
ImproperlyConfigured at start-up instead of silently falling back to a default.
"""

import importlib.util
import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use one of true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


_CACHE_BACKENDS = {
    # scheme: (backend, the library it needs or None)
    "redis": ("django.core.cache.backends.redis.RedisCache", "redis"),
    "rediss": ("django.core.cache.backends.redis.RedisCache", "redis"),
    "memcached": ("django.core.cache.backends.memcached.PyMemcacheCache", "pymemcache"),
    "locmem": ("django.core.cache.backends.locmem.LocMemCache", None),
    # Django's database cache with a one-statement set() (see feedback_site/cache.py).
    "db": ("feedback_site.cache.DatabaseCache", None),
}


def cache_from_url(name: str, default_table: str) -> dict:
    """The CACHES["default"] entry described by the URL in ``name``.

    Empty: a table in the project's database (shared by every process, created
    by a migration). ``redis://host:6379/0``, ``memcached://host:11211``,
    ``db://table`` or ``locmem://`` (one process only: tests and experiments).
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {"BACKEND": _CACHE_BACKENDS["db"][0], "LOCATION": default_table}
    parts = urlsplit(raw)
    if parts.scheme not in _CACHE_BACKENDS:
        raise ImproperlyConfigured(f"{name}={raw!r}: the scheme must be one of {', '.join(sorted(_CACHE_BACKENDS))}")
    backend, library = _CACHE_BACKENDS[parts.scheme]
    if library and importlib.util.find_spec(library) is None:
        raise ImproperlyConfigured(f"{name} uses {parts.scheme}: install the `{library}` package")
    if parts.scheme in ("redis", "rediss"):
        return {"BACKEND": backend, "LOCATION": raw}
    if parts.scheme == "memcached":
        return {"BACKEND": backend, "LOCATION": parts.netloc}
    if parts.scheme == "db":
        return {"BACKEND": backend, "LOCATION": parts.netloc or default_table}
    return {"BACKEND": backend, "LOCATION": parts.netloc or "feedback"}
