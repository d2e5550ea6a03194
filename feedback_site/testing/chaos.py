"""A scorer for pipeline tests and the soak, scripted by the submission's first line.

    # chaos: sleep=8        sleep 8 s, then score normally
    # chaos: fail=2         raise a transient error on the first 2 tries
    # chaos: fail=99        always raise (a poison job)
    # chaos: reject         raise ScoringRejected (a permanent failure)
    # chaos: spin=30        burn 30 s of CPU inside one C call that holds the GIL
    # chaos: hog=2048       allocate 2048 MB
    # chaos: crash          die as a crashing C extension would (SIGABRT)
    # chaos: nettimeout     raise TimeoutError, as a scorer's network call would (transient)

The last three only make sense inside the scoring sandbox (scoring/sandbox.py),
whose limits stop them.

Tries are counted in files under CHAOS_STATE_DIR, so the count is shared by
every worker process of a test. Selected in worker processes with
SCORER=feedback_site.testing.chaos.ChaosScorer.
"""

import hashlib
import math
import os
import re
import time
from pathlib import Path

from scoring import engine

DIRECTIVE = re.compile(r"#\s*chaos:\s*(\w+)(?:=([\d.]+))?")


class ChaosError(ConnectionError):
    """Looks like a transient infrastructure failure."""


def _tries_so_far(source_code: str) -> int:
    state = Path(os.environ.get("CHAOS_STATE_DIR", "/tmp/feedback-chaos"))  # noqa: S108 (tests only)
    state.mkdir(parents=True, exist_ok=True)
    counter = state / hashlib.sha256(source_code.encode()).hexdigest()
    with counter.open("a") as handle:
        handle.write("x")
    return counter.stat().st_size - 1


def apply_chaos(source_code: str, checkpoint=lambda step: None) -> None:
    match = DIRECTIVE.search(source_code.splitlines()[0] if source_code else "")
    if not match:
        return
    action, value = match.group(1), match.group(2)
    if action == "sleep":
        # In slices, checking in between, as a long-running scorer should.
        deadline = time.monotonic() + float(value)
        while (left := deadline - time.monotonic()) > 0:
            checkpoint("chaos")
            time.sleep(min(left, 0.25))
    elif action == "fail" and _tries_so_far(source_code) < int(value):
        raise ChaosError(f"chaos: injected failure ({value} wanted)")
    elif action == "reject":
        raise engine.ScoringRejected("chaos_rejected", "chaos: this input can never be scored")
    elif action == "spin":
        hold_the_gil(float(value))
    elif action == "hog":
        hog = bytearray(int(float(value) * 1024 * 1024))
        hog[::4096] = b"x" * len(hog[::4096])  # touch every page
    elif action == "crash":
        os.abort()
    elif action == "nettimeout":
        raise TimeoutError("chaos: the scorer's network call timed out")


def hold_the_gil(seconds: float) -> None:
    """A backtracking match that runs about ``seconds`` in C, as the old
    documentation analyser did on a line of spaces; re releases no GIL."""
    # Each extra character doubles the time of (a|a)+b on a run of a's;
    # 24 characters take ~1 s on this machine's kind.
    count = 24 + max(0, round(math.log2(max(seconds, 1.0))))
    re.match(r"(?:a|a)+b", "a" * count)


class ChaosScorer:
    """The real engine, preceded by the submission's scripted trouble."""

    def score(self, data, rubric, *, checkpoint):
        from scoring.scorers import EngineScorer

        apply_chaos(data.source_code, checkpoint)
        return EngineScorer().score(data, rubric, checkpoint=checkpoint)
