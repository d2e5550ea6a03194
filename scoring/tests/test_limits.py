"""Untrusted input is bounded: pathological submissions finish quickly with
an explained result, or are refused with an explained permanent error."""

import os
import time

import pytest

from scoring import engine
from scoring.tests.helpers import found, score

F = engine.InputFile
PY = 'def f():\n    """F."""\n'
SECONDS = 2.0


def timed(func):
    started = time.perf_counter()
    result = func()
    assert time.perf_counter() - started < SECONDS
    return result


def errors(outcome):
    return [(i.rule, i.file, i.line) for i in outcome.feedback if i.severity == "error"]


def test_ten_megabytes_on_one_line_is_explained_not_analysed():
    outcome = timed(lambda: score("x=1;" * (10 * 1024 * 1024 // 4)))
    assert errors(outcome) == [("input.unreadable", "source_code", 1)]
    assert "10.0 MB; texts over 512 KB are not analysed" in outcome.feedback[0].message


def test_a_minified_line_is_explained_not_analysed():
    outcome = timed(lambda: score("x = " + "+".join(["1"] * 50000) + "\n"))
    assert errors(outcome) == [("input.unreadable", "source_code", 1)]
    assert "minified or generated" in outcome.feedback[0].message


@pytest.mark.parametrize("source, line, message", [
    ("x = " + "(" * 500 + "1" + ")" * 500 + "\n", 1, "too many nested parentheses"),
    ("".join(" " * i + "if x:\n" for i in range(500)) + " " * 500 + "pass\n", 101, "too many levels of indentation"),
    ("x = (\n" + "+\n".join(["1"] * 100000) + ")\n", 1, "nested too deeply for the parser"),
])
def test_five_hundred_deep_python_is_a_located_syntax_error(source, line, message):
    outcome = timed(lambda: score(source))
    assert errors(outcome) == [("syntax.error", "source_code", line)]
    assert message in outcome.feedback[0].message


def test_five_hundred_deep_braces_in_another_language_are_explained():
    js = "function f(){\n" + "if (a) {\n" * 500 + "}\n" * 500 + "}\n"
    outcome = timed(lambda: score("", files=[F("deep.js", "", js.encode())]))
    assert errors(outcome) == [("input.unreadable", "deep.js", 501)]
    assert "nests brackets 501 levels deep" in outcome.feedback[0].message


def test_deeply_nested_json_is_explained():
    rubric = engine.RubricSpec("t", (engine.CriterionSpec("code_quality", "C", 50),
                                     engine.CriterionSpec("data_files", "D", 50)))
    deep = ("[" * 100000 + "]" * 100000).encode()
    outcome = timed(lambda: score(PY, files=[F("d.json", "", deep)], rubric=rubric))
    assert found(outcome, "data_files") == [("json.too-deep", "d.json", 1)]


def test_binary_bytes_are_explained():
    outcome = timed(lambda: score("", files=[F("tool.py", "", os.urandom(2000) + b"\x00")]))
    assert errors(outcome) == [("input.unreadable", "tool.py", 1)]
    assert "binary" in outcome.feedback[0].message


def test_invalid_utf8_is_explained_with_its_line():
    outcome = timed(lambda: score(PY, "", files=[F("notes.md", "", b"fine\nstill fine\n\xff\xfe broken\n")]))
    assert found(outcome, "documentation") == [("input.unreadable", "notes.md", 3)]


def test_attachments_no_analyser_reads_are_mentioned():
    outcome = score(PY, files=[F("photo.png", "image/png", b"\x89PNG\r\n")])
    assert [(i.rule, i.message) for i in outcome.feedback if i.rule == "input.ignored"] == [
        ("input.ignored", "Not analysed (no analyser reads this kind of file): photo.png.")]


def test_nothing_to_score_is_refused():
    with pytest.raises(engine.ScoringRejected) as caught:
        engine.score(engine.SubmissionInput("  \n", ""))
    assert caught.value.code == "nothing_to_score"


def test_input_over_the_total_limit_is_refused():
    big = F("data.csv", "text/csv", b"a\n" * (engine.MAX_TOTAL_BYTES // 2 + 1))
    with pytest.raises(engine.ScoringRejected) as caught:
        engine.score(engine.SubmissionInput(PY, "", (big,)))
    assert caught.value.code == "input_too_large"


def test_too_many_files_are_refused():
    files = tuple(F(f"f{n}.txt", "text/plain", b"x") for n in range(engine.MAX_FILES + 1))
    with pytest.raises(engine.ScoringRejected) as caught:
        engine.score(engine.SubmissionInput(PY, "", files))
    assert caught.value.code == "too_many_files"


def test_a_rubric_whose_weights_do_not_add_up_is_refused():
    rubric = engine.RubricSpec("bad", (engine.CriterionSpec("code_quality", "C", 60),))
    with pytest.raises(engine.ScoringRejected) as caught:
        engine.score(engine.SubmissionInput(PY, ""), rubric)
    assert caught.value.code == "invalid_rubric"


def test_a_thousand_line_submission_scores_well_within_the_budget():
    source = "\n\n".join(f'def f{n}(xs):\n    """F."""\n    return sorted(xs)[{n % 3}]' for n in range(260))
    timed(lambda: score(source))
    assert source.count("\n") >= 1000


@pytest.mark.parametrize("source", ["x=1;" * 200_000, "x = " + "+".join(["1"] * 5000) + "\n"])
def test_explanations_name_the_source_as_the_learner_knows_it(source):
    outcome = score(source)
    assert outcome.feedback[0].message.startswith(("Your source code is", "Line 1 of your source code is"))
    assert all("source_code" not in t for i in outcome.feedback for t in (i.message, i.suggestion))
