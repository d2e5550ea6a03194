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

    # --- counters for the API's rate limits (feedback_site/api/throttles.py) ---
    # Stored as plain integers in the value column, under keys nothing else
    # uses: get() cannot read them (they are not pickles), only these methods.

    def count_and_read(self, current: list[str], previous: list[str], timeout: int) -> tuple[list[int], list[int]]:
        """Add one to each ``current`` counter (created at 1, living ``timeout``
        seconds) and read each ``previous`` counter (0 if absent or expired):
        one statement on PostgreSQL, two on SQLite."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        current_keys = [self.make_and_validate_key(key) for key in current]
        previous_keys = [self.make_and_validate_key(key) for key in previous]
        now = tz_now().replace(microsecond=0)
        expires = connection.ops.adapt_datetimefield_value(
            datetime.fromtimestamp(now.timestamp() + timeout, tz=UTC))
        q = connection.ops.quote_name
        table, key_column, value, expiry = q(self._table), q("cache_key"), q("value"), q("expires")
        rows = ", ".join(["(%s, '1', %s)"] * len(current_keys))
        # An expired counter (a clock step back) starts again at 1.
        upsert = (
            f"INSERT INTO {table} ({key_column}, {value}, {expiry}) VALUES {rows} "  # noqa: S608 (names quoted by the backend)
            f"ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{value} = CASE WHEN {table}.{expiry} < %s THEN '1' "
            f"ELSE CAST(CAST({table}.{value} AS BIGINT) + 1 AS TEXT) END, "
            f"{expiry} = CASE WHEN {table}.{expiry} < %s THEN EXCLUDED.{expiry} ELSE {table}.{expiry} END "
            f"RETURNING {key_column}, {value}"
        )
        params = [p for key in current_keys for p in (key, expires)]
        now_db = connection.ops.adapt_datetimefield_value(now)
        params += [now_db, now_db]
        marks = ", ".join(["%s"] * len(previous_keys))
        read = f"SELECT {key_column}, {value} FROM {table} WHERE {key_column} IN ({marks}) AND {expiry} >= %s"  # noqa: S608
        with connection.cursor() as cursor:
            if not current_keys:
                cursor.execute(read, [*previous_keys, now_db])
                found = dict(cursor.fetchall())
            elif connection.vendor == "postgresql":
                cursor.execute(f"WITH bumped AS ({upsert}) SELECT * FROM bumped UNION ALL {read}",  # noqa: S608
                               [*params, *previous_keys, now_db])
                found = dict(cursor.fetchall())
            else:
                cursor.execute(upsert, params)
                found = dict(cursor.fetchall())
                cursor.execute(read, [*previous_keys, now_db])
                found.update(cursor.fetchall())
        return ([int(found[key]) for key in current_keys],
                [int(found.get(key, 0)) for key in previous_keys])

    def uncount(self, keys: list[str]) -> None:
        """Take one back from each counter."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        q = connection.ops.quote_name
        table, value = q(self._table), q("value")
        marks = ", ".join(["%s"] * len(keys))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {value} = CAST(CAST({value} AS BIGINT) - 1 AS TEXT) "  # noqa: S608
                f"WHERE {q('cache_key')} IN ({marks})",
                [self.make_and_validate_key(key) for key in keys],
            )
