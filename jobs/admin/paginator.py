"""The jobs changelist's paginator for a table of millions of rows."""

from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet


class JobPaginator(Paginator):
    """A paginator for a big table: estimated total, and deep pages without deep joins.

    An unfiltered list shows PostgreSQL's row estimate instead of counting:
    COUNT(*) reads the whole table (or index) every time, while
    pg_class.reltuples is kept by autovacuum and is close enough for "about
    how many pages". Filtered lists and small tables are counted exactly.

    A deep page (OFFSET in the thousands) first finds its rows' ids, which an
    index scan skips through cheaply, then loads those rows with their
    learner and assignment; OFFSET over the joined rows would join every
    skipped row too.
    """

    ESTIMATE_ABOVE = 50_000
    DEFERRED_JOIN_FROM = 1_000

    def page(self, number):
        page = super().page(number)
        rows = page.object_list
        if isinstance(rows, QuerySet) and (rows.query.low_mark or 0) >= self.DEFERRED_JOIN_FROM:
            ids = list(rows.values_list("pk", flat=True))
            by_id = {job.pk: job for job in self.object_list.model._base_manager.filter(pk__in=ids)
                     .select_related(*_select_related_of(self.object_list))}
            page.object_list = [by_id[pk] for pk in ids if pk in by_id]
        return page

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and connections[queryset.db].vendor == "postgresql":
            with connections[queryset.db].cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                               [queryset.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return row[0]
        return super().count


def _select_related_of(queryset) -> list[str]:
    """The select_related paths of a queryset, as names (for the same joins on another one)."""
    def walk(tree: dict, prefix: str = ""):
        for name, subtree in tree.items():
            yield from (walk(subtree, f"{prefix}{name}__") if subtree else [f"{prefix}{name}"])

    related = queryset.query.select_related
    return list(walk(related)) if isinstance(related, dict) else []
