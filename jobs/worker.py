"""One worker process: Dramatiq's Worker on the SQS broker, its scoring
sandbox, and a heartbeat to the supervisor (``manage.py runworker``).

The process is started by ``runworkers`` (jobs/supervisor.py), which reads a
pipe named by WORKER_HEARTBEAT_FD: the worker writes ``standby`` once it has
booted (Django, actors, broker, sandbox children) but consumes nothing,
``ready`` once it consumes, and ``beat`` every BEAT_SECONDS while its
Dramatiq threads are alive. A process whose beats stop (frozen, stopped,
deadlocked) is killed and replaced by the supervisor. A standby process waits
for ``go`` on its stdin before it starts consuming: the supervisor keeps one,
so a worker that dies is replaced at once instead of after a start-up.

Started by hand (no WORKER_HEARTBEAT_FD), it simply runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import os
import signal
import sys
import threading
import time

import dramatiq
from django.apps import apps
from django.utils.module_loading import module_has_submodule

from scoring import sandbox

logger = logging.getLogger(__name__)

BEAT_SECONDS = 1.0
ACTOR_MODULE = "actors"
_PR_SET_PDEATHSIG = 1


class _StopWaiting(Exception):
    """Raised by the stop signal's handler into a standby's wait for "go"."""


class SupervisorLink:
    """The worker's side of the supervisor's pipe (absent when run by hand)."""

    def __init__(self, fd: int | None):
        self.fd = fd

    @classmethod
    def from_env(cls) -> SupervisorLink:
        raw = os.environ.get("WORKER_HEARTBEAT_FD", "")
        return cls(int(raw) if raw.isdigit() else None)

    @property
    def supervised(self) -> bool:
        return self.fd is not None

    def send(self, word: str) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):  # the supervisor is gone; it kills us with it (PDEATHSIG)
            os.write(self.fd, f"{word}\n".encode())

    @staticmethod
    def wait_for_go() -> bool:
        """Block until the supervisor says ``go`` (True) or closes stdin (False)."""
        return any(line.strip() == "go" for line in sys.stdin)


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its supervisor dies, so no worker outlives it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def seconds_since_process_start() -> float:
    """Linux: how long ago this process started (its boot before Python code ran here)."""
    try:
        with open(f"/proc/{os.getpid()}/stat") as stat:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as uptime:
            now = float(uptime.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(now - started_ticks / os.sysconf("SC_CLK_TCK"), 0.0)


def import_actor_modules() -> list[str]:
    """Every installed app's ``actors`` module (what the actors' queues need)."""
    names = []
    for app in apps.get_app_configs():
        if module_has_submodule(app.module, ACTOR_MODULE):
            names.append(f"{app.name}.{ACTOR_MODULE}")
            importlib.import_module(names[-1])
    return names


class WorkerProcess:
    def __init__(self, *, threads: int, standby: bool, shutdown_seconds: float):
        self.threads, self.standby, self.shutdown_seconds = threads, standby, shutdown_seconds
        self.link = SupervisorLink.from_env()
        self.stopping = threading.Event()
        self.worker: dramatiq.Worker | None = None
        self.waiting = False  # a standby blocked on "go": a stop signal interrupts it

    def run(self) -> int:
        started = time.monotonic()
        before_run = seconds_since_process_start()
        self._install_signal_handlers()
        if self.link.supervised:
            die_with_parent()
        broker = dramatiq.get_broker()
        modules = import_actor_modules()
        broker.emit_after("process_boot")
        actors_at = time.monotonic()
        sandbox.start(processes=self.threads)
        booted_at = time.monotonic()
        logger.info("worker booted in %.2fs: interpreter and Django %.2fs, broker and actors (%s) %.2fs, "
                    "scoring sandbox %.2fs", before_run + booted_at - started, before_run, ",".join(modules),
                    actors_at - started, booted_at - actors_at)
        threading.Thread(target=self._beat, name="supervisor-heartbeat", daemon=True).start()
        if self.standby:
            self.link.send("standby")
            try:
                self.waiting = not self.stopping.is_set()
                go = self.waiting and self.link.wait_for_go()
            except _StopWaiting:
                go = False
            finally:
                self.waiting = False
            if not go or self.stopping.is_set():
                return self._shut_down(broker)
        self.worker = dramatiq.Worker(broker, worker_threads=self.threads)
        self.worker.start()
        self.link.send("ready")
        logger.info("worker consuming with %d threads, pid %d", self.threads, os.getpid())
        self.stopping.wait()
        return self._shut_down(broker)

    def _beat(self) -> None:
        """Beats only while the process runs Python code and its Dramatiq
        threads are alive: silence is what the supervisor's watchdog acts on."""
        while not self.stopping.wait(BEAT_SECONDS):
            if not self._threads_alive():
                logger.error("a Dramatiq thread of this worker died; no more heartbeats, so it gets replaced")
                return
            self.link.send("beat")

    def _threads_alive(self) -> bool:
        worker = self.worker
        threads = [*worker.consumers.values(), *worker.workers] if worker else []
        return all(t.is_alive() for t in threads)

    def _shut_down(self, broker) -> int:
        if self.worker is not None:
            logger.info("stopping: letting jobs in hand finish (up to %.0fs)", self.shutdown_seconds)
            self.worker.stop(timeout=int(self.shutdown_seconds * 1000))
        broker.close()
        sandbox.stop()
        return 0

    def _install_signal_handlers(self) -> None:
        def stop(signum, frame):
            if self.stopping.is_set():
                logger.warning("second stop signal: exiting at once")
                os._exit(1)
            self.stopping.set()
            if self.waiting:
                raise _StopWaiting  # a standby holds no job: stop waiting for "go" and shut down

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
