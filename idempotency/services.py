"""Run a POST at most once per (user, Idempotency-Key)."""

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from idempotency.models import IdempotencyRecord

# Long enough for any client's retries; a key older than this is free again.
KEY_LIFETIME = timedelta(hours=24)
# How long a duplicate waits for the first request with its key before a 409.
IN_PROGRESS_WAIT = timedelta(seconds=5)
# An unanswered claim older than this belongs to a request that died.
IN_PROGRESS_LEASE = timedelta(minutes=5)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error for an exceeded lock_timeout
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


class KeyInProgress(Exception):
    """Another request with this key is still running."""


def _claim(*, user, key: str, fingerprint: str, method: str, path: str) -> IdempotencyRecord | None:
    """Insert the key's row, or return None when another request owns it.

    Inside the caller's transaction, the INSERT of a duplicate waits for the
    first request to commit (or roll back, freeing the key), but on PostgreSQL
    for IN_PROGRESS_WAIT at most: then KeyInProgress (a 409 to ask again)."""
    try:
        with _lock_timeout(IN_PROGRESS_WAIT), transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, method=method, path=path
            )
    except IntegrityError:
        return None
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise KeyInProgress(key) from None
        raise


@contextlib.contextmanager
def _lock_timeout(wait: timedelta):
    """SET LOCAL lock_timeout for the block (PostgreSQL; SQLite has its own busy timeout)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(wait.total_seconds() * 1000)}ms"])
    try:
        yield
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _existing(*, user, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The key's finished record to replay, or None once it has expired (deleted).

    Raises KeyReused for another request's key, KeyInProgress while its first
    request still runs (``atomic=False`` calls only: otherwise the claim waited)."""
    existing = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
    now = timezone.now()
    if existing.created_at < now - KEY_LIFETIME:
        existing.delete()
        return None
    if existing.fingerprint != fingerprint:
        raise KeyReused(key)
    if existing.status_code is None:
        if existing.created_at >= now - IN_PROGRESS_LEASE:
            raise KeyInProgress(key)
        existing.delete()  # its request died without an answer: run it again
        return None
    return existing


def _claim_or_finished(*, user, key, fingerprint, method, path):
    """(the key's new row, None), or (None, the finished record to replay)."""
    record = _claim(user=user, key=key, fingerprint=fingerprint, method=method, path=path)
    if record is None:
        existing = _existing(user=user, key=key, fingerprint=fingerprint)
        if existing is not None:
            return None, existing
        record = IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint, method=method,
                                                  path=path)
    return record, None


def _record(record: IdempotencyRecord, response: Response) -> None:
    record.status_code = response.status_code
    record.response_body = json.loads(JSONRenderer().render(response.data) or "null")
    record.response_headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    record.save(update_fields=["status_code", "response_body", "response_headers"])


def idempotent_call(*, user, key: str, method: str, path: str, body, call: Callable[[], Response],
                    atomic: bool = True) -> Response:
    """Answer with the stored response for (user, key), or run ``call`` once.

    ``atomic=True``: ``call`` runs inside one transaction with the key's row:
    an exception rolls both back, so a failed request can be retried with the
    same key. A concurrent duplicate waits up to IN_PROGRESS_WAIT for the first
    to finish and replays it, or gets KeyInProgress.

    ``atomic=False``, for calls that are safe to repeat and do slow work
    outside the database (reading S3): the row is claimed in one short
    transaction, ``call`` runs with no transaction or lock held, and the answer
    is stored in another. A duplicate meanwhile gets KeyInProgress; a claim
    whose request died is taken over after IN_PROGRESS_LEASE.

    Raises KeyReused when the key was used for a different request.
    """
    fingerprint = request_fingerprint(method=method, path=path, body=body)
    if not atomic:
        return _idempotent_call_outside_transaction(
            user=user, key=key, method=method, path=path, fingerprint=fingerprint, call=call)
    with transaction.atomic():
        record, finished = _claim_or_finished(user=user, key=key, fingerprint=fingerprint, method=method, path=path)
        if finished is not None:
            return _replay(finished)
        response = call()
        if response.status_code >= 500:
            # Not a stable outcome: roll back and let the key be retried.
            transaction.set_rollback(True)
            return response
        _record(record, response)
    return response


def _idempotent_call_outside_transaction(*, user, key, method, path, fingerprint, call) -> Response:
    with transaction.atomic():
        record, finished = _claim_or_finished(user=user, key=key, fingerprint=fingerprint, method=method, path=path)
        if finished is not None:
            return _replay(finished)
    try:
        response = call()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()
        raise
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()
        return response
    _record(record, response)
    return response


def idempotency_records_purge(*, older_than: timedelta = KEY_LIFETIME) -> int:
    """Delete keys past their lifetime; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
