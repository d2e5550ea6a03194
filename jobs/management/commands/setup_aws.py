from django.conf import settings
from django.core.management.base import BaseCommand

from feedback_site.broker import SCORING_QUEUE, ensure_queues
from submissions.storage import ensure_bucket


class Command(BaseCommand):
    help = "Create the S3 bucket and the SQS queues (with dead-letter queues). Safe to run at every start."

    def handle(self, *args, **options):
        ensure_bucket()
        self.stdout.write(f"bucket {settings.S3_BUCKET}: ready")
        for name, url in ensure_queues([SCORING_QUEUE]).items():
            self.stdout.write(f"queue {name}: {url}")
