import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from jobs import infrastructure
from jobs.maintenance import Schedule, default_tasks
from jobs.relay import relay_sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Dispatch committed-but-unsent jobs and recover jobs whose worker died; check the S3 bucket and SQS "
        "queues and run the periodic maintenance (MAINTENANCE_* settings). Several may run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Sweep once (and run the due maintenance) and exit.")

    def handle(self, *args, once=False, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        infrastructure.set_process_name("relay")
        schedule = Schedule(default_tasks())
        # The queues and the bucket, fully configured, before the first send.
        if infrastructure.aws_ensure_guarded(trigger="relay start") is not None:
            schedule.postpone("aws_check")
        logger.info("relay started (every %ss)", settings.RELAY_INTERVAL_SECONDS)
        while not stop.is_set():
            try:
                relay_sweep()
            except DatabaseError as exc:
                # The database is away; try again next tick with a new connection.
                logger.warning("relay sweep failed (%s: %s); next try in %ss",
                               type(exc).__name__, exc, settings.RELAY_INTERVAL_SECONDS)
                connection.close()
            schedule.run_due()
            if once:
                break
            stop.wait(settings.RELAY_INTERVAL_SECONDS)
        logger.info("relay stopped")
