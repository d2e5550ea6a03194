from django.conf import settings
from django.core.management.base import BaseCommand

from feedback_site.broker import SCORING_QUEUE, ensure_queues
from jobs import infrastructure


class Command(BaseCommand):
    help = (
        "Create or put right the S3 bucket and the SQS queues (with dead-letter queues), as jobs/infrastructure.py "
        "describes them. Safe to run at every start; the workers and the relay also do it by themselves."
    )

    def handle(self, *args, **options):
        infrastructure.set_process_name("setup_aws")
        changes = infrastructure.aws_ensure(trigger="manage.py setup_aws")
        for change in changes:
            self.stdout.write(change)
        self.stdout.write(f"bucket {settings.S3_BUCKET}: ready")
        for name, url in ensure_queues([SCORING_QUEUE]).items():
            self.stdout.write(f"queue {name}: {url}")
