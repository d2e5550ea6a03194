from django.conf import settings
from django.core.management.base import BaseCommand

from jobs import infrastructure
from jobs.supervisor import Supervisor, worker_command


class Command(BaseCommand):
    help = (
        "Run WORKER_PROCESSES worker processes (`runworker`) under supervision: a worker that exits or "
        "stops sending heartbeats is replaced, a booted standby takes over at once, and SIGTERM/SIGINT "
        "stop them gracefully."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=None)
        parser.add_argument("--threads", type=int, default=None)

    def handle(self, *args, processes=None, threads=None, **options):
        # Once for all the workers, before they consume: the queues and the
        # bucket with their whole configuration (a worker also re-creates a
        # queue that disappears under it, jobs/infrastructure.py).
        infrastructure.set_process_name("worker")
        infrastructure.aws_ensure_guarded(trigger="workers start")
        Supervisor(
            command=worker_command(manage_py=str(settings.BASE_DIR / "manage.py"),
                                   threads=threads or settings.WORKER_THREADS),
            processes=processes or settings.WORKER_PROCESSES,
            standby=settings.WORKER_STANDBY,
            stall_seconds=settings.WORKER_STALL_SECONDS,
            start_timeout=settings.WORKER_START_TIMEOUT_SECONDS,
            shutdown_seconds=settings.WORKER_SHUTDOWN_SECONDS,
        ).run()
