from django.core.management.base import BaseCommand, CommandError

from submissions.services import pending_object_deletions_purge


class Command(BaseCommand):
    help = (
        "Delete from S3 the submission files whose deletion failed when it was made (removed or rejected "
        "files). Safe to run often and in parallel; run it every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200, help="Rows locked and deleted per transaction.")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        outcome = pending_object_deletions_purge(batch_size=batch_size)
        self.stdout.write(f"deleted {outcome.deleted} stored object(s)")
        if outcome.failed:
            # Non-zero exit, so a scheduler notices storage that keeps refusing.
            raise CommandError(f"{outcome.failed} object(s) could not be deleted; they stay listed for the next run")
