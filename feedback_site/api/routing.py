"""Routes that answer with and without a trailing slash.

Both spellings are common in clients; Django's APPEND_SLASH redirect would
turn a POST into a GET (or a RuntimeError under DEBUG), so register both.
"""

from django.urls import path


def api_path(route: str, view, name: str) -> list:
    route = route.rstrip("/")
    return [path(route, view, name=name), path(f"{route}/", view)]
