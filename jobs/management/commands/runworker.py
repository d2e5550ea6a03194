from django.conf import settings
from django.core.management.base import BaseCommand

from jobs import infrastructure
from jobs.worker import SupervisorLink, WorkerProcess


class Command(BaseCommand):
    help = (
        "Run one worker process: Dramatiq consumers on the scoring queue, each job scored in a child "
        "process under time and memory limits. `runworkers` runs and watches several of these."
    )

    # runworkers (which starts this) has run the checks; each replacement
    # worker skips them to boot sooner.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=None, help="jobs at once (default WORKER_THREADS)")
        parser.add_argument("--standby", action="store_true",
                            help="boot, then wait for 'go' on stdin before consuming (used by runworkers)")

    def handle(self, *args, threads=None, standby=False, **options):
        infrastructure.set_process_name("worker")
        if not SupervisorLink.from_env().supervised:
            # Started by hand: nobody has checked the queues and the bucket
            # (runworkers does it once for the processes it starts).
            infrastructure.aws_ensure_guarded(trigger="worker start")
        code = WorkerProcess(
            threads=threads or settings.WORKER_THREADS, standby=standby,
            shutdown_seconds=settings.WORKER_SHUTDOWN_SECONDS,
        ).run()
        if code:
            raise SystemExit(code)
