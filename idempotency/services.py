"""Run a POST at most once per (user, Idempotency-Key)."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from idempotency.models import IdempotencyRecord

# Long enough for any client's retries; a key older than this is free again.
KEY_LIFETIME = timedelta(hours=24)
REPLAYED_HEADERS = ("Location", "ETag")


class KeyReused(Exception):
    """The key was first used with a different request."""


def request_fingerprint(*, method: str, path: str, body) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body}, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code, headers=record.response_headers)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(*, user, key: str, fingerprint: str, method: str, path: str) -> IdempotencyRecord | None:
    """Insert the key's row, or return None when another request owns it.

    Inside the caller's transaction: the INSERT of a duplicate blocks until
    the first request commits (or rolls back, freeing the key)."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, method=method, path=path
            )
    except IntegrityError:
        return None


def idempotent_call(*, user, key: str, method: str, path: str, body, call: Callable[[], Response]) -> Response:
    """Answer with the stored response for (user, key), or run ``call`` once.

    ``call`` runs inside one transaction with the key's row: an exception
    rolls both back, so a failed request can be retried with the same key.
    Raises KeyReused when the key was used for a different request.
    """
    fingerprint = request_fingerprint(method=method, path=path, body=body)
    with transaction.atomic():
        record = _claim(user=user, key=key, fingerprint=fingerprint, method=method, path=path)
        if record is None:
            existing = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
            if existing.created_at >= timezone.now() - KEY_LIFETIME:
                if existing.fingerprint != fingerprint:
                    raise KeyReused(key)
                return _replay(existing)
            existing.delete()
            record = IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, method=method, path=path
            )
        response = call()
        if response.status_code >= 500:
            # Not a stable outcome: roll back and let the key be retried.
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.response_body = json.loads(JSONRenderer().render(response.data) or "null")
        record.response_headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
        record.save(update_fields=["status_code", "response_body", "response_headers"])
    return response


def idempotency_records_purge(*, older_than: timedelta = KEY_LIFETIME) -> int:
    """Delete keys past their lifetime; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
