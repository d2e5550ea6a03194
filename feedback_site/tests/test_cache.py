"""The default cache (feedback_site/cache.py): Django's database cache with a
one-statement set, still culled when it grows."""

import pytest
from django.core.cache import cache, caches
from django.db import connection

from feedback_site.cache import DatabaseCache

pytestmark = pytest.mark.django_db


def test_the_default_cache_is_the_shared_database_cache():
    assert isinstance(caches["default"], DatabaseCache)


def test_set_writes_with_one_statement_and_overwrites(django_assert_num_queries):
    with django_assert_num_queries(1):
        cache.set("k", [1, 2], 60)
    with django_assert_num_queries(1):
        cache.set("k", {"again": True}, 60)
    assert cache.get("k") == {"again": True}
    cache.set("gone", 1, -1)  # already expired
    assert cache.get("gone") is None
    assert cache.add("added", 1) is True and cache.add("added", 2) is False
    cache.delete("added")
    assert cache.get("added") is None


def test_the_table_is_culled_once_it_passes_its_size():
    small = DatabaseCache("feedback_cache", {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    small.CULL_EVERY = 5
    small.clear()
    for n in range(30):
        small.set(f"key-{n}", n, 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM feedback_cache")
        assert cursor.fetchone()[0] <= 15
