"""Every analyser finishes within a per-KB time budget on generated hostile
input (hypothesis), and holds no item per bad row of a large data file.

Examples run in a child process with a timeout, so an analyser that went
superlinear fails the test instead of hanging the run. The budget is generous
(measured worst cases are about 10 ms per KB; see bench/engine.py's
adversarial table): only a blow-up misses it.
"""

import contextlib
import multiprocessing
import resource
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pebble import ProcessPool

from feedback_site.testing import hostile
from scoring import engine

BASE_SECONDS = 1.0
SECONDS_PER_KB = 0.1
MAX_KB = 48
PROPERTY = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

PREFIXES = ["", "# ", "## ", "**", "__", "1. ", "- ", "```\n", "    ", ">>> ", "word", "Usage", "def f(", "x = ("]


@st.composite
def hostile_texts(draw) -> str:
    """Runs of one character (each up to 8,000, often long), after a prefix that puts a
    pattern on its path: headings, labels, list items, code."""
    prefix = draw(st.sampled_from(PREFIXES))
    lengths = st.sampled_from([1, 2, 3, 100, 2000, 8000]) | st.integers(1, 8000)
    runs = draw(st.lists(st.tuples(st.sampled_from(list(hostile.RUN_CHARACTERS + "\n")), lengths),
                         min_size=1, max_size=10))
    return (prefix + "".join(c * n for c, n in runs))[: MAX_KB * 1024]


def rubric_of(key: str) -> engine.RubricSpec:
    return engine.RubricSpec("hostile", (engine.CriterionSpec(key, key, 100),), json_schema=hostile.json_schema())


def timed_score(data: engine.SubmissionInput, key: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(engine.ScoringRejected):  # e.g. only whitespace: nothing to score, an answer too
        engine.score(data, rubric_of(key))
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def pool():
    with ProcessPool(max_workers=2, context=multiprocessing.get_context("forkserver")) as pool:
        yield pool


def within_budget(pool, data: engine.SubmissionInput, key: str) -> None:
    texts = (data.source_code, data.documentation)
    size = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) + sum(len(f.data) for f in data.files)
    budget = BASE_SECONDS + SECONDS_PER_KB * size / 1024
    future = pool.schedule(timed_score, args=(data, key), timeout=budget * 3)
    try:
        seconds = future.result()
    except TimeoutError:
        seconds = budget * 3
    assert seconds <= budget, f"{key} took {seconds:.2f}s on {size / 1024:.0f} KB (budget {budget:.1f}s)"


@PROPERTY
@given(text=hostile_texts())
def test_documentation_analyser_is_linear_on_hostile_text(pool, text):
    within_budget(pool, engine.SubmissionInput("", text), engine.DOCUMENTATION)


@PROPERTY
@given(text=hostile_texts(), as_file=st.booleans())
def test_python_analysers_are_linear_on_hostile_text(pool, text, as_file):
    data = (engine.SubmissionInput("", "", (engine.InputFile("hostile.py", "text/x-python", text.encode()),))
            if as_file else engine.SubmissionInput(text, ""))
    within_budget(pool, data, engine.CODE_QUALITY)
    within_budget(pool, data, engine.PERFORMANCE)


@PROPERTY
@given(text=hostile_texts(), extension=st.sampled_from(["js", "c", "java", "go", "rb"]))
def test_other_languages_are_linear_on_hostile_text(pool, text, extension):
    data = engine.SubmissionInput("", "", (engine.InputFile(f"hostile.{extension}", "text/plain", text.encode()),))
    within_budget(pool, data, engine.CODE_QUALITY)


@PROPERTY
@given(text=hostile_texts(), kind=st.sampled_from(["csv", "json"]))
def test_data_file_validation_is_linear_on_hostile_text(pool, text, kind):
    data = engine.SubmissionInput("", "", (engine.InputFile(f"hostile.{kind}", "", text.encode()),))
    within_budget(pool, data, engine.DATA_FILES)


@PROPERTY
@given(count=st.integers(1, 3000), depth=st.integers(1, 95), width=st.integers(1, 3800))
def test_structured_python_is_linear(pool, count, depth, width):
    """Many names, deep nesting and long lines, within the workspace's bounds."""
    many = "".join(f"def function_{i}(x):\n    return x\n\n" for i in range(count))
    loops = "".join("    " * (i + 1) + f"for x{i} in xs:\n" for i in range(depth))
    deep = "def f(xs):\n" + loops + "    " * (depth + 1) + "pass\n"
    wide = "y = [" + ",".join(["1"] * (width // 2)) + "]\n"
    prose = "See function_0 for details. " * count
    data = engine.SubmissionInput(many + deep + wide, prose)
    for key in (engine.CODE_QUALITY, engine.DOCUMENTATION, engine.PERFORMANCE):
        within_budget(pool, data, key)


def score_in_a_fresh_process(kind: str) -> tuple[int, list[engine.FeedbackItem]]:
    """(peak RSS growth in bytes, feedback) of validating an 8 MB file of bad rows."""
    data = {"csv": hostile.csv_every_row_invalid, "json": hostile.json_many_schema_errors}[kind](8 * 1024 * 1024)
    files = (engine.InputFile(f"big.{kind}", "", data),)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = engine.score(engine.SubmissionInput("", "", files), rubric_of(engine.DATA_FILES))
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, outcome.feedback


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_eight_megabytes_of_bad_rows_hold_a_bounded_number_of_items(kind):
    with ProcessPool(max_workers=1, max_tasks=1, context=multiprocessing.get_context("forkserver")) as fresh:
        growth, feedback = fresh.schedule(score_in_a_fresh_process, args=(kind,), timeout=120).result()
    assert growth < 150 * 1024 * 1024, f"RSS grew by {growth / 2**20:.0f} MB"
    listed = [i for i in feedback if i.file == f"big.{kind}"]
    summary = [i for i in feedback if "more finding(s) like this" in i.message]
    assert len(listed) == 8 and len(summary) == 1
