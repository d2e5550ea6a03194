"""Every scoring run happens in a killable child process with hard limits.

The engine never runs learner code, but it parses and scans hostile text, and
one pathological input must not freeze the worker: Python holds the GIL for a
whole regular-expression match, so a run inside the worker process would stop
its heartbeat, its consumer and every other job it holds. Here the worker's
thread only waits (without the GIL) while a child does the work under:

- a wall-clock limit (``SCORING_TIME_LIMIT_SECONDS``), enforced by the pool,
  which kills the child; it also catches a child that blocks without working;
- a CPU-time limit (``SCORING_CPU_LIMIT_SECONDS``): ``RLIMIT_CPU``, so the
  kernel stops the child even while it holds the GIL in C code;
- a memory limit (``SCORING_MEMORY_LIMIT_MB``): ``RLIMIT_AS`` above the
  child's own footprint, so an allocation beyond it fails (MemoryError).

An overrun is permanent: the same input overruns again, so it ends as a
``ScoringRejected`` with its own code (``scoring_timeout``,
``scoring_memory``, ``scoring_crashed``) and a message that tells the learner
what to change, naming the step that was running. Cancelling a job (staff, or
a lease lost to another worker) kills its child at once.

Why pebble's ProcessPool: it is well kept, pre-starts children so a job does
not wait for one, kills a child on timeout or on cancelling its future, and
reports a child that died (ProcessExpired with its exit code). Children come
from a fork server that has imported Django and the engine once (forking the
multi-threaded worker itself could copy a lock held by another thread), and
each child is replaced after ``MAX_TASKS_PER_CHILD`` runs, so no learner's
run can leave state behind for long.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import importlib
import logging
import math
import multiprocessing
import os
import pickle
import resource
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from pebble import ProcessExpired, ProcessPool

from scoring import engine

logger = logging.getLogger(__name__)

MAX_TASKS_PER_CHILD = 100
WAIT_SLICE_SECONDS = 0.2  # how often a waiting worker thread checks for cancel/lease news
STAGE_BYTES = 64
PRELOAD = ["scoring.sandbox_boot"]

TIMEOUT, MEMORY, CRASHED = "scoring_timeout", "scoring_memory", "scoring_crashed"

# What a learner reads when a step could not finish, by the step that was running.
STAGES = {
    "": "preparing your submission",
    "workspace": "reading your files",
    engine.CODE_QUALITY: "analysing your code",
    engine.DOCUMENTATION: "analysing your documentation",
    engine.PERFORMANCE: "analysing your code for performance",
    engine.DATA_FILES: "validating your data files",
}
ADVICE = {
    "": "Make the submission smaller in a new attempt.",
    "workspace": "Attach fewer or smaller files in a new attempt.",
    engine.CODE_QUALITY: "Look for very long lines, deeply nested code or very large files in your code, "
                         "and split them up in a new attempt.",
    engine.DOCUMENTATION: "Your documentation probably contains a line the analyser could not process in time, "
                          "such as a very long line or a long run of one character (spaces, dots, #). "
                          "Break it into shorter lines in a new attempt.",
    engine.PERFORMANCE: "Look for very long or deeply nested functions in your code, and split them up in a new "
                        "attempt.",
    engine.DATA_FILES: "Your data files are too large or too complex to validate: attach a smaller sample in a new "
                       "attempt.",
}


@dataclass(frozen=True)
class Limits:
    wall_seconds: float
    cpu_seconds: int
    memory_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            wall_seconds=float(settings.SCORING_TIME_LIMIT_SECONDS),
            cpu_seconds=settings.SCORING_CPU_LIMIT_SECONDS,
            memory_bytes=settings.SCORING_MEMORY_LIMIT_MB * 1024 * 1024,
        )


class ScoringOverrun(engine.ScoringRejected):
    """A run went over a limit: permanent, with advice for the learner."""

    def __init__(self, code: str, stage: str, what: str):
        self.stage = stage
        super().__init__(code, overrun_message(code, stage, what))

    def __reduce__(self):
        return _rebuild_overrun, (self.code, self.stage, str(self))


def _rebuild_overrun(code: str, stage: str, message: str) -> ScoringOverrun:
    overrun = ScoringOverrun.__new__(ScoringOverrun)
    engine.ScoringRejected.__init__(overrun, code, message)
    overrun.stage = stage
    return overrun


class ScoringChildLost(Exception):
    """The child was killed from outside (not by a limit): transient, retried."""


def overrun_message(code: str, stage: str, what: str) -> str:
    doing = STAGES.get(stage, STAGES[""])
    if code == TIMEOUT:
        head = f"Scoring stopped while {doing}: it took longer than the {what} allowed for one submission."
    elif code == MEMORY:
        head = f"Scoring stopped while {doing}: it needed more than the {what} of memory allowed for one submission."
    else:
        head = f"Scoring stopped while {doing}: the analyser could not process this input."
    return f"{head} {ADVICE.get(stage, ADVICE[''])}"


# --- the parent: the worker's thread waits, the pool's child works ---------------------

_pool: ProcessPool | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _get_pool() -> ProcessPool:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or not _pool.active:  # never started, or broken by a child's death
            if _pool is not None:
                logger.warning("scoring sandbox pool was broken; starting a new one")
                with contextlib.suppress(Exception):
                    _pool.stop()
            _pool_size = _pool_size or settings.WORKER_THREADS
            _pool = ProcessPool(max_workers=_pool_size, max_tasks=MAX_TASKS_PER_CHILD,
                                initializer=_child_init, context=_context())
        return _pool


def start(*, processes: int) -> None:
    """Start the pool of ``processes`` children now, so the first job finds one
    ready (a worker calls this at boot with its thread count)."""
    global _pool_size
    with _pool_lock:
        _pool_size = processes
    _get_pool().schedule(_noop).result()


def stop() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.stop()
            _pool.join()
            _pool = None


def run(*, scorer_path: str, data: engine.SubmissionInput, rubric: engine.RubricSpec,
        checkpoint: Callable[[], None], limits: Limits | None = None) -> engine.Outcome:
    """Score in a child under ``limits``. ``checkpoint()`` is called every
    WAIT_SLICE_SECONDS while the child works; if it raises (cancelled, lease
    lost) the child is killed and the exception propagates.

    Raises ScoringOverrun (permanent) when a limit was hit, ScoringChildLost
    (transient) when the child was killed from outside, and whatever the
    scorer raised otherwise (ScoringRejected stays permanent)."""
    limits = limits or Limits.from_settings()
    with _Progress() as progress:
        future = _get_pool().schedule(
            _score_in_child, args=(scorer_path, data, rubric, limits, progress.path), timeout=limits.wall_seconds
        )
        try:
            return _wait(future, checkpoint)
        except concurrent.futures.TimeoutError as exc:
            if hasattr(exc, "traceback"):  # the scorer's own (a network timeout, say), sent from the child
                raise
            raise ScoringOverrun(TIMEOUT, progress.stage(), f"{limits.wall_seconds:g} seconds") from None
        except ProcessExpired as exc:
            raise _expired(exc, progress.stage(), limits) from None


def _wait(future, checkpoint: Callable[[], None]) -> engine.Outcome:
    while True:
        try:
            return future.result(timeout=WAIT_SLICE_SECONDS)
        except concurrent.futures.TimeoutError:
            if future.done():  # the task's own timeout, not the wait's
                raise
        try:
            checkpoint()
        except BaseException:
            future.cancel()  # pebble kills the child of a running task
            raise


def _expired(exc: ProcessExpired, stage: str, limits: Limits) -> Exception:
    code = exc.exitcode
    if code == -signal.SIGXCPU:
        return ScoringOverrun(TIMEOUT, stage, f"{limits.cpu_seconds} seconds of processing")
    if code in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGILL, -signal.SIGFPE):
        logger.error("scoring child died with signal %d while %s", -code, STAGES.get(stage, stage))
        return ScoringOverrun(CRASHED, stage, "")
    # Killed from outside (the kernel's OOM killer, an operator): not the input's fault.
    return ScoringChildLost(f"the scoring process was stopped from outside (exit code {code})")


class _Progress:
    """A small file the child writes the name of its current step into, so a
    killed run can still say where it was."""

    def __enter__(self) -> _Progress:
        fd, self.path = tempfile.mkstemp(prefix="scoring-progress-")
        os.close(fd)
        return self

    def stage(self) -> str:
        try:
            with open(self.path, "rb") as handle:
                return handle.read(STAGE_BYTES).decode("ascii", "replace").strip()
        except OSError:
            return ""

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)


# --- the child ------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _child_init() -> None:
    """Once per child: Django and the scorers loaded (already, when the fork
    server was started with PRELOAD; another pool in the same process may
    have started it first), no core dumps, and death with the fork server
    (which exits when the worker does), so no orphan keeps burning CPU."""
    importlib.import_module(PRELOAD[0])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _noop() -> None:
    return None


def _apply_limits(limits: Limits) -> None:
    """Limits for this run, counted from what the child has used so far (a
    child runs several jobs; each gets the same budget)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_used + limits.cpu_seconds, cpu_hard))
    _, as_hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + limits.memory_bytes, as_hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _score_in_child(scorer_path: str, data: engine.SubmissionInput, rubric: engine.RubricSpec,
                    limits: Limits, progress_path: str) -> engine.Outcome:
    from scoring.scorers import load_scorer

    fd = os.open(progress_path, os.O_WRONLY)

    def stage(name: str = "") -> None:
        os.pwrite(fd, name.encode("ascii", "replace")[:STAGE_BYTES].ljust(STAGE_BYTES), 0)

    out_of_memory = False
    try:
        scorer = load_scorer(scorer_path)
        _apply_limits(limits)
        outcome = scorer.score(data, rubric, checkpoint=stage)
    except MemoryError:
        out_of_memory = True  # leaving the except block frees the failed run's frames first
    except Exception as exc:
        raise _picklable(exc) from None
    finally:
        _unlimit_memory()
        os.close(fd)
    if out_of_memory:
        megabytes = limits.memory_bytes // (1024 * 1024)
        with open(progress_path, "rb") as handle:
            where = handle.read(STAGE_BYTES).decode("ascii", "replace").strip()
        raise ScoringOverrun(MEMORY, where, f"{megabytes} MB")
    return outcome


def _picklable(exc: Exception) -> Exception:
    """The exception itself if it can travel to the parent; else a stand-in
    with its type and text (an unpicklable result would break the pool)."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (bytes this line just made)
    except Exception:  # noqa: BLE001 (any failure to round-trip)
        return RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
    return exc


def _unlimit_memory() -> None:
    # Sending the result back must not fail for want of the memory the run used.
    _, as_hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (as_hard, as_hard))
