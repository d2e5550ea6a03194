import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from scoring import engine
from scoring.tests.samples import load_input, load_rubric

ROOT = Path(__file__).resolve().parents[2]
# Samples that exercise every analyser, attachments and a custom rubric.
SAMPLES = ["01_excellent", "08_naming", "13_invariant_work", "16_javascript_attachment", "18_csv_problems",
           "19_json_schema_errors"]

CHILD = """
import sys
from scoring import engine
from scoring.tests.samples import load_input, load_rubric
name = sys.argv[1]
sys.stdout.buffer.write(engine.score(load_input(name), load_rubric(name)).to_json())
"""


def _in_child_process(name: str, hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", CHILD, name], cwd=ROOT, env=env, capture_output=True, check=True, timeout=60
    ).stdout


@pytest.mark.parametrize("name", SAMPLES)
def test_scoring_twice_in_one_process_gives_identical_bytes(name):
    first = engine.score(load_input(name), load_rubric(name)).to_json()
    second = engine.score(load_input(name), load_rubric(name)).to_json()
    assert first == second


@pytest.mark.parametrize("name", SAMPLES)
def test_two_processes_with_different_hash_seeds_give_identical_output(name):
    here = engine.score(load_input(name), load_rubric(name)).to_json()
    assert _in_child_process(name, "1") == here
    assert _in_child_process(name, "4242") == here


def test_the_order_of_attachments_does_not_matter():
    data = load_input("16_javascript_attachment")
    extra = engine.InputFile("notes.txt", "text/plain", b"Some notes about validation.\n")
    forward = replace(data, files=(*data.files, extra))
    backward = replace(data, files=(extra, *data.files))
    assert engine.score(forward).to_json() == engine.score(backward).to_json()


def test_the_input_hash_covers_text_files_and_rubric():
    data = load_input("18_csv_problems")
    rubric = load_rubric("18_csv_problems")
    base = engine.input_hash(data, rubric)
    assert len(base) == 64 and base == engine.score(data, rubric).input_hash
    changed_text = replace(data, documentation=data.documentation + " ")
    changed_file = replace(data, files=(replace(data.files[0], data=data.files[0].data + b"\n"),))
    changed_rubric = replace(rubric, csv_required_headers=("date",))
    assert len({base, engine.input_hash(changed_text, rubric), engine.input_hash(changed_file, rubric),
                engine.input_hash(data, changed_rubric), engine.input_hash(data, engine.DEFAULT_RUBRIC)}) == 5


def test_the_outcome_records_engine_and_rubric_versions():
    rubric = replace(load_rubric("17_csv_valid"), version="rubric 3 v2", version_id=17)
    outcome = engine.score(load_input("17_csv_valid"), rubric)
    assert (outcome.engine_version, outcome.rubric_version, outcome.rubric_version_id) == (
        engine.ENGINE_VERSION, "rubric 3 v2", 17)
    default = engine.score(load_input("01_excellent"))
    assert (default.rubric_version, default.rubric_version_id) == ("default v1", None)
