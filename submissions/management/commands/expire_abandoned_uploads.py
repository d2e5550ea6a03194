from django.conf import settings
from django.core.management.base import BaseCommand

from submissions.housekeeping import submission_files_abandoned_expire


class Command(BaseCommand):
    help = (
        "Reject uploads left pending for UPLOAD_ABANDONED_AFTER_SECONDS (the relay also runs this on a schedule, "
        "MAINTENANCE_ABANDONED_UPLOADS_SECONDS)."
    )

    def handle(self, *args, **options):
        expired = submission_files_abandoned_expire()
        self.stdout.write(f"rejected {expired} upload(s) pending for over {settings.UPLOAD_ABANDONED_AFTER_SECONDS}s")
