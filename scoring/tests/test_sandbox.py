"""Scoring runs in a killable child process under time, CPU and memory limits
(scoring/sandbox.py). The hostile scorers are real: a C call that holds the
GIL, an allocation beyond the limit, an abort, a sleep."""

import os
import signal
import threading
import time

import pytest

from feedback_site.testing.chaos import ChaosError
from scoring import engine, sandbox
from scoring.sandbox import Limits, ScoringChildLost, ScoringOverrun

CHAOS = "feedback_site.testing.chaos.ChaosScorer"
ENGINE = "scoring.scorers.EngineScorer"
TIGHT = Limits(wall_seconds=20, cpu_seconds=1, memory_bytes=256 * 1024 * 1024)
DOC = "# Overview\n\nA function that doubles a number, with an example.\n"


def data(source: str = "def double(x):\n    return 2 * x\n") -> engine.SubmissionInput:
    return engine.SubmissionInput(source_code=source, documentation=DOC)


def run(source: str, *, scorer: str = CHAOS, limits: Limits = TIGHT, checkpoint=lambda: None) -> engine.Outcome:
    return sandbox.run(scorer_path=scorer, data=data(source), rubric=engine.DEFAULT_RUBRIC, checkpoint=checkpoint,
                       limits=limits)


def test_a_run_in_the_sandbox_gives_the_engines_outcome_byte_for_byte():
    outcome = run("def double(x):\n    return 2 * x\n", scorer=ENGINE)
    assert outcome.to_json() == engine.score(data(), engine.DEFAULT_RUBRIC).to_json()


def test_cpu_held_in_c_code_is_stopped_by_the_cpu_limit_with_the_step_named():
    started = time.monotonic()
    with pytest.raises(ScoringOverrun) as overrun:
        run("# chaos: spin=60\nx = 1\n")
    assert overrun.value.code == "scoring_timeout"
    assert "1 seconds of processing" in str(overrun.value)
    assert time.monotonic() - started < 15  # the run alone would take a minute or more


def test_a_frozen_run_never_slows_another_run_beside_it():
    frozen: list[BaseException] = []

    def hostile():
        try:
            run("# chaos: spin=60\nx = 1\n", limits=Limits(wall_seconds=30, cpu_seconds=4,
                                                              memory_bytes=TIGHT.memory_bytes))
        except ScoringOverrun as exc:
            frozen.append(exc)

    thread = threading.Thread(target=hostile)
    thread.start()
    time.sleep(0.5)  # the hostile run holds its child's GIL by now
    started = time.monotonic()
    outcome = run("def double(x):\n    return 2 * x\n", scorer=ENGINE)
    normal_seconds = time.monotonic() - started
    thread.join()
    assert outcome.total > 0
    assert normal_seconds < 5, f"a normal run beside a frozen one took {normal_seconds:.1f}s"
    assert [e.code for e in frozen] == ["scoring_timeout"]


def test_a_run_that_blocks_is_stopped_by_the_wall_clock_limit():
    with pytest.raises(ScoringOverrun) as overrun:
        run("# chaos: sleep=30\nx = 1\n", limits=Limits(wall_seconds=1.5, cpu_seconds=10,
                                                            memory_bytes=TIGHT.memory_bytes))
    assert overrun.value.code == "scoring_timeout"
    assert "1.5 seconds allowed" in str(overrun.value)


def test_memory_beyond_the_limit_is_a_memory_overrun():
    with pytest.raises(ScoringOverrun) as overrun:
        run("# chaos: hog=1024\nx = 1\n")
    assert overrun.value.code == "scoring_memory"
    assert "256 MB of memory" in str(overrun.value)


def test_a_crashing_child_is_a_permanent_crash_not_a_retry():
    with pytest.raises(ScoringOverrun) as overrun:
        run("# chaos: crash\nx = 1\n")
    assert overrun.value.code == "scoring_crashed"


def test_a_child_killed_from_outside_is_transient():
    def kill_the_busy_child():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            before = {pid: _cpu_ticks(pid) for pid in _descendants()}
            time.sleep(0.3)
            busy = [pid for pid, ticks in before.items() if _cpu_ticks(pid) - ticks >= 10]  # ~all of 0.3 s
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                return

    killer = threading.Thread(target=kill_the_busy_child)
    killer.start()
    with pytest.raises(ScoringChildLost):
        run("# chaos: spin=60\nx = 1\n", limits=Limits(wall_seconds=30, cpu_seconds=20,
                                                          memory_bytes=TIGHT.memory_bytes))
    killer.join()


def test_cancelling_kills_the_child_at_once_and_the_pool_goes_on():
    calls = []

    def checkpoint():
        calls.append(time.monotonic())
        if len(calls) == 3:
            raise RuntimeError("cancelled by staff")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="cancelled by staff"):
        run("# chaos: spin=60\nx = 1\n", limits=Limits(wall_seconds=60, cpu_seconds=60,
                                                          memory_bytes=TIGHT.memory_bytes), checkpoint=checkpoint)
    assert time.monotonic() - started < 5
    assert run("def double(x):\n    return 2 * x\n", scorer=ENGINE).total > 0


def test_a_timeout_the_scorer_raises_is_its_own_not_an_overrun():
    with pytest.raises(TimeoutError, match="network call") as raised:
        run("# chaos: nettimeout\nx = 1\n")
    assert not isinstance(raised.value, ScoringOverrun)


def test_the_scorers_own_errors_cross_the_process_boundary_unchanged():
    with pytest.raises(engine.ScoringRejected) as rejected:
        run("# chaos: reject\nx = 1\n")
    assert (type(rejected.value), rejected.value.code) == (engine.ScoringRejected, "chaos_rejected")
    with pytest.raises(ChaosError):
        run("# chaos: fail=99\nx = 1\n")


def test_an_overrun_survives_pickling_with_its_code_stage_and_message():
    import pickle

    overrun = ScoringOverrun("scoring_timeout", "documentation", "30 seconds of processing")
    copy = pickle.loads(pickle.dumps(overrun))  # noqa: S301 (bytes this test just made)
    assert (copy.code, copy.stage, str(copy)) == (overrun.code, overrun.stage, str(overrun))
    assert "analysing your documentation" in str(copy) and "shorter lines" in str(copy)


def _descendants() -> list[int]:
    """Every descendant of this process (the sandbox's children are grandchildren, via the fork server)."""
    result, frontier = [], [os.getpid()]
    while frontier:
        pid = frontier.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                kids = [int(p) for p in handle.read().split()]
        except OSError:
            kids = []
        result.extend(kids)
        frontier.extend(kids)
    return result


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime
