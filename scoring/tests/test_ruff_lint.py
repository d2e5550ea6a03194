"""ruff as the engine runs it: pinned, bounded, and never running the code."""

from pathlib import Path

from scoring import engine
from scoring.engine.analysers import ruff_lint
from scoring.tests.helpers import score

ROOT = Path(__file__).resolve().parents[2]
MUTABLE_DEFAULT = "def collect(word, into=[]):\n    into.append(word)\n    return into\n"


def test_the_installed_ruff_is_the_version_the_engine_and_requirements_pin():
    assert ruff_lint.installed_version() == ruff_lint.RUFF_VERSION
    assert f"ruff=={ruff_lint.RUFF_VERSION}\n" in (ROOT / "requirements.txt").read_text()


def test_ruff_reads_the_code_but_never_runs_it(tmp_path):
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n"
    outcome = score(source)
    assert not marker.exists()
    assert [(i.rule, i.line) for i in outcome.feedback if i.rule.startswith("resources.")] == [
        ("resources.open-without-with", 1)]


def test_a_ruff_run_over_its_time_limit_is_a_hint_and_costs_nothing(monkeypatch):
    monkeypatch.setattr(ruff_lint, "TIMEOUT_SECONDS", 0.0001)
    outcome = score(MUTABLE_DEFAULT)
    skipped = [i for i in outcome.feedback if i.rule == "lint.skipped"]
    assert [(i.severity, i.points, i.line) for i in skipped] == [("info", 0.0, 1)]
    assert not [i for i in outcome.feedback if i.rule.startswith("bugbear.")]


def test_only_the_first_python_files_are_linted_and_the_rest_are_named():
    files = tuple(engine.InputFile(f"m{n:02}.py", "text/x-python", MUTABLE_DEFAULT.encode())
                  for n in range(ruff_lint.MAX_FILES + 2))
    outcome = score(files=files)
    linted = sorted(i.file for i in outcome.feedback if i.rule == "bugbear.B006")
    skipped = sorted(i.file for i in outcome.feedback if i.rule == "lint.skipped")
    assert linted == [f"m{n:02}.py" for n in range(ruff_lint.MAX_FILES)]
    assert skipped == [f"m{n:02}.py" for n in range(ruff_lint.MAX_FILES, ruff_lint.MAX_FILES + 2)]


def test_the_largest_python_text_the_workspace_accepts_is_linted():
    line = "# " + "padding " * 8 + "\n"  # cheap for the other analysers; ruff still reads all of it
    source = "def f(words, seen={}):\n    return words\n" + line * ((500 * 1024) // len(line))
    outcome = score(source)
    assert not [i for i in outcome.feedback if i.rule == "lint.skipped"]
    assert [i.line for i in outcome.feedback if i.rule == "bugbear.B006"] == [1]
