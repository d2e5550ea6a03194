"""runworkers' supervisor (jobs/supervisor.py) over scripted worker processes
that speak its pipe protocol: the watchdog, the standby and the back-off.
The real worker under the real supervisor is in test_worker_processes.py."""

import logging
import sys
import threading
import time

import pytest

from conftest import wait_until
from jobs.supervisor import Supervisor

# A stand-in for `manage.py runworker`: beats every 0.2 s from a thread (as
# the real one does, standby included) until told to freeze (its pid written
# to a file), reports standby and waits for "go" if started as a standby, then
# reports ready.
FAKE_WORKER = r"""
import os, sys, threading, time
fd = int(os.environ["WORKER_HEARTBEAT_FD"])
freeze = sys.argv[1]

def beat():
    while not (os.path.exists(freeze) and open(freeze).read().strip() == str(os.getpid())):
        os.write(fd, b"beat\n")
        time.sleep(0.2)

threading.Thread(target=beat, daemon=True).start()
if "--standby" in sys.argv:
    os.write(fd, b"standby\n")
    if sys.stdin.readline().strip() != "go":
        sys.exit(0)
os.write(fd, b"ready\n")
time.sleep(3600)
"""
CRASHING_WORKER = "import sys; sys.exit(3)"


@pytest.fixture
def supervise(caplog):
    caplog.set_level(logging.INFO, logger="jobs.supervisor")
    running: list[tuple[Supervisor, threading.Thread]] = []

    def start(command: list[str], *, processes: int = 1, standby: bool = True, stall: float = 1.5) -> Supervisor:
        supervisor = Supervisor(command=command, processes=processes, standby=standby, stall_seconds=stall,
                                start_timeout=20, shutdown_seconds=2)
        thread = threading.Thread(target=supervisor.run, daemon=True)
        thread.start()
        running.append((supervisor, thread))
        return supervisor

    yield start
    for supervisor, thread in running:
        supervisor.stop()
        thread.join(15)
        assert not thread.is_alive(), "the supervisor did not stop"


def states(supervisor: Supervisor) -> list[tuple[bool, str]]:
    return sorted((c.standby, c.state) for c in list(supervisor.children))


def active_pid(supervisor: Supervisor) -> int:
    return next(c.pid for c in list(supervisor.children) if not c.standby and c.state == "ready")


def test_a_worker_and_a_standby_are_started(supervise, tmp_path):
    supervisor = supervise([sys.executable, "-c", FAKE_WORKER, str(tmp_path / "freeze")], processes=2)
    wait_until(lambda: states(supervisor) == [(False, "ready"), (False, "ready"), (True, "standby")], timeout=20,
               message="two workers ready and a standby")


def test_a_silent_worker_is_killed_and_the_standby_takes_over_at_once(supervise, tmp_path, caplog):
    freeze = tmp_path / "freeze"
    supervisor = supervise([sys.executable, "-c", FAKE_WORKER, str(freeze)])
    wait_until(lambda: states(supervisor) == [(False, "ready"), (True, "standby")], timeout=20, message="ready")
    frozen = active_pid(supervisor)
    freeze.write_text(str(frozen))
    silenced = time.monotonic()

    wait_until(lambda: frozen not in [c.pid for c in supervisor.children], timeout=10, message="the frozen worker gone")
    wait_until(lambda: any(not c.standby and c.state == "ready" for c in supervisor.children), timeout=5,
               message="a worker consuming again")
    assert time.monotonic() - silenced < 1.5 + 3  # the stall limit, plus a promotion, not a boot
    assert f"worker {frozen}: no heartbeat for" in caplog.text
    assert "promoted" in caplog.text, caplog.text
    wait_until(lambda: states(supervisor) == [(False, "ready"), (True, "standby")], timeout=20,
               message="a new standby")


def test_a_killed_worker_is_replaced_without_a_back_off(supervise, tmp_path, caplog):
    supervisor = supervise([sys.executable, "-c", FAKE_WORKER, str(tmp_path / "freeze")], standby=False)
    for _ in range(3):
        wait_until(lambda: states(supervisor) == [(False, "ready")], timeout=20, message="a ready worker")
        victim = active_pid(supervisor)
        next(c for c in supervisor.children if c.pid == victim).process.kill()
        wait_until(lambda v=victim: any(c.pid != v for c in supervisor.children), timeout=3,
                   message="a replacement started at once")
    assert "next start in" not in caplog.text


def test_workers_that_die_while_booting_back_off_instead_of_spinning(supervise, caplog):
    supervise([sys.executable, "-c", CRASHING_WORKER], standby=False)
    time.sleep(6)
    starts = caplog.text.count("started a worker")
    # Starts at about 0, 1, 3 and 7 s (1 s doubling): not one every tick.
    assert 2 <= starts <= 4, caplog.text
    assert "exited (3) before it booted; next start in 1s" in caplog.text
    assert "next start in 2s" in caplog.text


def test_a_worker_killed_while_booting_is_replaced_without_a_back_off(supervise, caplog):
    supervisor = supervise([sys.executable, "-c", "import time; time.sleep(60)"], standby=False)
    for _ in range(3):
        wait_until(lambda: len(supervisor.children) == 1, timeout=5, message="a booting worker")
        victim = supervisor.children[0]
        victim.process.kill()  # SIGKILL from outside: not a crash loop of its own
        wait_until(lambda v=victim: supervisor.children and supervisor.children[0] is not v, timeout=3,
                   message="a replacement started at once")
    assert "next start in" not in caplog.text
