from django.core.management.base import BaseCommand

from idempotency.services import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete API idempotency keys older than their 24-hour lifetime (run it daily)."

    def handle(self, *args, **options):
        self.stdout.write(f"deleted {idempotency_records_purge()} expired idempotency key(s)")
