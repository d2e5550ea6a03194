import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from jobs.relay import relay_sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Dispatch committed-but-unsent jobs and recover jobs whose worker died. Several may run."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, once=False, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logger.info("relay started (every %ss)", settings.RELAY_INTERVAL_SECONDS)
        while not stop.is_set():
            try:
                relay_sweep()
            except DatabaseError:
                # The database is away; try again next tick with a new connection.
                logger.warning("relay sweep failed", exc_info=True)
                connection.close()
            if once:
                break
            stop.wait(settings.RELAY_INTERVAL_SECONDS)
        logger.info("relay stopped")
