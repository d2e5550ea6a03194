"""The default cache backend: Django's database cache, with a cheaper set().

The API throttles read and write a counter on every request. Django's
DatabaseCache.set() costs four statements and a savepoint (a COUNT(*) of the
whole table to decide whether to cull, a SELECT, then an UPDATE or INSERT);
this one writes with a single upsert and checks the table's size only every
CULL_EVERY sets of the process. Everything else (get, add, delete, culling
itself, createcachetable) is Django's.
"""

import base64
import itertools
import pickle
from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router
from django.utils.timezone import now as tz_now

UPSERT_VENDORS = ("postgresql", "sqlite")


class DatabaseCache(DjangoDatabaseCache):
    CULL_EVERY = 200

    def __init__(self, table, params):
        super().__init__(table, params)
        self._sets = itertools.count(1)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor not in UPSERT_VENDORS:
            return super().set(key, value, timeout, version)
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        expires = datetime.max if timeout is None else datetime.fromtimestamp(timeout, tz=UTC)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        value = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        q = connection.ops.quote_name
        table, key_column = q(self._table), q("cache_key")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, {q('value')}, {q('expires')}) VALUES (%s, %s, %s) "  # noqa: S608 (names quoted by the backend)
                f"ON CONFLICT ({key_column}) DO UPDATE SET {q('value')} = EXCLUDED.{q('value')}, "
                f"{q('expires')} = EXCLUDED.{q('expires')}",
                [key, value, expires],
            )
            if next(self._sets) % self.CULL_EVERY == 0:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
                count = cursor.fetchone()[0]
                if count > self._max_entries:
                    self._cull(db, cursor, tz_now().replace(microsecond=0), count)
