import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run `rundramatiq` under supervision. The dramatiq master exits when one of "
        "its worker processes dies; this restarts it, and forwards SIGTERM/SIGINT "
        "for a graceful shutdown."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=None)
        parser.add_argument("--threads", type=int, default=None)

    def handle(self, *args, processes=None, threads=None, **options):
        command = [
            sys.executable, "-m", "django", "rundramatiq",
            "--path", str(settings.BASE_DIR),
            "--processes", str(processes or settings.WORKER_PROCESSES),
            "--threads", str(threads or settings.WORKER_THREADS),
            # On SIGTERM, in-flight jobs get this long to finish; past it their
            # leases lapse and the relay hands them to another worker.
            "--worker-shutdown-timeout", "30000",
        ]
        state = {"stopping": False, "child": None}

        def stop(signum, frame):
            state["stopping"] = True
            if state["child"] and state["child"].poll() is None:
                state["child"].send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        delay = 1.0
        while not state["stopping"]:
            started = time.monotonic()
            state["child"] = subprocess.Popen(command)
            code = state["child"].wait()
            if state["stopping"]:
                break
            # A worker that ran for a while gets restarted at once; one that
            # keeps dying at start-up backs off so it cannot spin.
            delay = 1.0 if time.monotonic() - started > 10 else min(delay * 2, 30.0)
            self.stderr.write(f"workers exited with {code}; restarting in {delay:.0f}s")
            time.sleep(delay)
        self.stdout.write("workers stopped")
