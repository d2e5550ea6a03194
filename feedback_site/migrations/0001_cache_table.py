"""The database cache table (CACHES in settings), created with the schema so a
new deployment needs no separate `createcachetable` step. With CACHE_URL
pointing at Redis or Memcached there is no database cache and this does nothing."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=False)]
