"""`manage.py runworkers`: keeps WORKER_PROCESSES worker processes consuming,
with a watchdog and a warm standby.

Each worker is a `manage.py runworker` child (jobs/worker.py) that reports
over a pipe: ``standby`` (booted, not consuming), ``ready`` (consuming) and a
``beat`` every second. The supervisor

- replaces a worker that exits, at once if it had been running (or was
  killed from outside, SIGKILL, even while booting), and with a growing
  back-off (1 s doubling to 30 s) only while new processes keep failing on
  their own before they finish booting, so a crash loop cannot spin but a
  worker killed now and then never leaves a gap of back-off;
- kills (SIGKILL) and replaces a worker whose beats have stopped for
  WORKER_STALL_SECONDS: a process that is frozen (a C call holding the GIL,
  SIGSTOP, a deadlock) has not exited, so only its silence gives it away;
- keeps one extra process booted in standby (WORKER_STANDBY) and promotes it
  the moment a worker is lost: booting takes seconds (Django, the broker, the
  scoring sandbox's fork server), promotion takes a pipe write;
- on SIGTERM/SIGINT, passes SIGTERM on and waits for the workers to finish
  the jobs in hand (WORKER_SHUTDOWN_SECONDS), then kills what is left.

Workers die with the supervisor (PR_SET_PDEATHSIG), so killing it never
leaves consumers behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Child:
    process: subprocess.Popen
    beats: int  # read end of the heartbeat pipe
    standby: bool
    started: float = field(default_factory=time.monotonic)
    state: str = "starting"  # starting → standby → ready
    last_beat: float = field(default_factory=time.monotonic)
    buffer: bytes = b""
    reason: str = ""  # why the supervisor killed it

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def booted(self) -> bool:
        return self.state != "starting"


class Supervisor:
    def __init__(self, *, command: list[str], processes: int, standby: bool, stall_seconds: float,
                 start_timeout: float, shutdown_seconds: float, env: dict[str, str] | None = None):
        self.command, self.processes, self.want_standby = command, processes, standby
        self.stall_seconds, self.start_timeout, self.shutdown_seconds = stall_seconds, start_timeout, shutdown_seconds
        self.env = env if env is not None else dict(os.environ)
        self.children: list[Child] = []
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self.failures = 0  # consecutive processes that died before booting
        self.next_start = 0.0

    # --- the loop -----------------------------------------------------------------

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        logger.info("supervising %d worker process(es)%s", self.processes,
                    " and a standby" if self.want_standby else "")
        while not self.stopping:
            self._read_beats(TICK_SECONDS)
            self._reap()
            self._watch()
            self._fill()
        self._shut_down()

    def stop(self, *signal_args) -> None:
        self.stopping = True

    def _active(self) -> list[Child]:
        return [c for c in self.children if not c.standby]

    def _standbys(self) -> list[Child]:
        return [c for c in self.children if c.standby]

    # --- starting and promoting -----------------------------------------------------

    def _fill(self) -> None:
        while len(self._active()) < self.processes:
            ready = [c for c in self._standbys() if c.state == "standby"]
            if ready:
                self._promote(ready[0])
            elif not self._start(standby=False):
                return
        if self.want_standby and not self._standbys():
            self._start(standby=True)

    def _promote(self, child: Child) -> None:
        try:
            child.process.stdin.write(b"go\n")
            child.process.stdin.flush()
        except OSError:
            return  # it died meanwhile; reaped next tick
        child.standby = False
        logger.info("standby worker %d promoted", child.pid)

    def _start(self, *, standby: bool) -> bool:
        now = time.monotonic()
        if now < self.next_start:
            return False
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        command = [*self.command, *(["--standby"] if standby else [])]
        try:
            process = subprocess.Popen(  # noqa: S603 (our own manage.py)
                command, stdin=subprocess.PIPE, pass_fds=[write_end],
                env={**self.env, "WORKER_HEARTBEAT_FD": str(write_end)},
            )
        finally:
            os.close(write_end)
        child = Child(process=process, beats=read_end, standby=standby)
        self.children.append(child)
        self.selector.register(read_end, selectors.EVENT_READ, child)
        logger.info("started %s worker %d", "standby" if standby else "a", child.pid)
        return True

    # --- hearing from children ------------------------------------------------------

    def _read_beats(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            child: Child = key.data
            try:
                data = os.read(child.beats, 4096)
            except BlockingIOError:
                continue
            if not data:  # the process closed it: it is exiting
                self.selector.unregister(child.beats)
                continue
            child.buffer += data
            *lines, child.buffer = child.buffer.split(b"\n")
            for line in lines:
                self._heard(child, line.decode(errors="replace").strip())

    def _heard(self, child: Child, word: str) -> None:
        child.last_beat = time.monotonic()
        if word in ("standby", "ready"):
            child.state = word
            self.failures, self.next_start = 0, 0.0
            logger.info("worker %d is %s after %.1fs", child.pid, word, time.monotonic() - child.started)

    def _reap(self) -> None:
        for child in list(self.children):
            code = child.process.poll()
            if code is None:
                continue
            self._forget(child)
            if self.stopping:
                continue
            killed_from_outside = code == -signal.SIGKILL and not child.reason  # an operator, the OOM killer
            if child.booted or killed_from_outside:
                logger.warning("worker %d exited (%s)%s; replacing it", child.pid, code,
                               f": {child.reason}" if child.reason else "")
            else:
                self.failures += 1
                delay = min(2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
                self.next_start = time.monotonic() + delay
                logger.error("worker %d exited (%s) before it booted%s; next start in %.0fs", child.pid, code,
                             f" ({child.reason})" if child.reason else "", delay)

    def _forget(self, child: Child) -> None:
        self.children.remove(child)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(child.beats)
        os.close(child.beats)
        if child.process.stdin:
            with contextlib.suppress(OSError):
                child.process.stdin.close()

    # --- the watchdog ------------------------------------------------------------------

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.reason or child.process.poll() is not None:
                continue
            if child.booted and now - child.last_beat > self.stall_seconds:
                self._kill(child, f"no heartbeat for {now - child.last_beat:.0f}s (frozen or stopped)")
            elif not child.booted and now - child.started > self.start_timeout:
                self._kill(child, f"not booted after {self.start_timeout:.0f}s")

    def _kill(self, child: Child, reason: str) -> None:
        child.reason = reason
        logger.error("worker %d: %s; killing it", child.pid, reason)
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)

    # --- shutting down ------------------------------------------------------------------

    def _shut_down(self) -> None:
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_seconds + 5
        for child in self.children:
            try:
                child.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self._kill(child, "still running after the shutdown timeout")
                child.process.wait()
        logger.info("workers stopped")


def worker_command(*, manage_py: str, threads: int) -> list[str]:
    return [sys.executable, manage_py, "runworker", "--threads", str(threads)]
