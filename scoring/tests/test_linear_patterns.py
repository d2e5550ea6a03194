"""Every regular expression of the engine, tried on long adversarial lines.

The patterns are found by walking the engine's modules, so a pattern added
later is tried too. Each pattern runs in a child process with a timeout: a
pattern that backtracks in cubic time would otherwise hang the test run, as
it once hung a worker. A linear scan of 50,000 characters takes about a
millisecond; the budget (a second) is generous, and a quadratic pattern misses it
by seconds.
"""

import importlib
import multiprocessing
import pkgutil
import re
import time

import pytest
from pebble import ProcessPool

import scoring.engine
from feedback_site.testing import hostile

LINE_CHARS = 50_000
SECONDS_PER_PATTERN_AND_LINE = 1.0
TIMEOUT_PER_PATTERN = 60


def engine_patterns() -> dict[str, re.Pattern]:
    found = {}
    for module_info in pkgutil.walk_packages(scoring.engine.__path__, "scoring.engine."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{module_info.name}.{name}"] = value
    return found


def adversarial_lines(size: int) -> dict[str, str]:
    lines = dict(hostile.runs(size))
    lines.update({f"{label} (first line)": text.split("\n")[0] + text.split("\n")[-1]
                  for label, text in hostile.documentation(size).items()})
    pairs = " .#*_:=-1a"
    for first in pairs:
        for second in pairs:
            if first != second:
                lines[f"{first!r}{second!r} alternating"] = (first + second) * (size // 2) + "\x00"
    return lines


def worst_case(pattern: re.Pattern, lines: dict[str, str]) -> tuple[float, str]:
    """The slowest of match, search and finditer over the lines: (seconds, line label)."""
    slowest = (0.0, "")
    for label, line in lines.items():
        for use in (pattern.match, pattern.search, lambda text: list(pattern.finditer(text))):
            started = time.perf_counter()
            use(line)
            slowest = max(slowest, (time.perf_counter() - started, label))
    return slowest


PATTERNS = engine_patterns()


@pytest.fixture(scope="module")
def pool():
    # Not forked from this multi-threaded process: a lock held by another thread would be copied held.
    with ProcessPool(max_workers=2, context=multiprocessing.get_context("forkserver")) as pool:
        yield pool


def test_the_walk_finds_the_engines_patterns():
    names = set(PATTERNS)
    assert {"scoring.engine.analysers.documentation.SENTENCE_END",
            "scoring.engine.analysers.documentation.ATX_HEADING",
            "scoring.engine.analysers.code_quality.SNAKE"} <= names
    assert len(names) >= 12


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_runs_in_linear_time_on_adversarial_lines(name, pool):
    lines = adversarial_lines(LINE_CHARS)
    future = pool.schedule(worst_case, args=(PATTERNS[name], lines), timeout=TIMEOUT_PER_PATTERN)
    seconds, label = future.result()
    assert seconds < SECONDS_PER_PATTERN_AND_LINE, f"{name} took {seconds:.2f}s on {label}"


def test_the_check_catches_the_pattern_that_froze_a_worker(pool):
    # The documentation analyser's label pattern before the rewrite (cubic).
    old_label_line = re.compile(r"^\s*(?:\*\*|__)?([A-Za-z][A-Za-z ]{1,30}?)(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$")
    future = pool.schedule(worst_case, args=(old_label_line, adversarial_lines(LINE_CHARS)), timeout=5)
    with pytest.raises(TimeoutError):
        future.result()
