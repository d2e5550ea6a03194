"""The sample corpus under corpus/: one folder per submission.

A folder holds ``source_code.txt`` and ``documentation.md`` (the text fields,
either may be absent), ``files/<name>.sample`` attachments with their content
types in ``files.json`` (the suffix keeps linters off broken samples),
optionally ``rubric.json`` (a RubricVersion.definition), and ``expected.json``:
the pinned outcome (written by the command at the end of this module) and,
for samples with deliberately planted defects, ``planted``: hand-written
[criterion, rule, line] rows the engine must report (line null: no place).
"""

import json
from pathlib import Path

from scoring import engine

CORPUS = Path(__file__).resolve().parent / "corpus"
SAMPLE_SUFFIX = ".sample"


def sample_names() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def _text(path: Path) -> str:
    return path.read_bytes().decode() if path.exists() else ""


def load_input(name: str) -> engine.SubmissionInput:
    folder = CORPUS / name
    types_path = folder / "files.json"
    types = json.loads(types_path.read_text()) if types_path.exists() else {}
    files = tuple(
        engine.InputFile(name=file_name, content_type=content_type,
                         data=(folder / "files" / (file_name + SAMPLE_SUFFIX)).read_bytes())
        for file_name, content_type in sorted(types.items())
    )
    return engine.SubmissionInput(
        source_code=_text(folder / "source_code.txt"), documentation=_text(folder / "documentation.md"), files=files
    )


def load_rubric(name: str) -> engine.RubricSpec:
    path = CORPUS / name / "rubric.json"
    if not path.exists():
        return engine.DEFAULT_RUBRIC
    definition = json.loads(path.read_text())
    return engine.RubricSpec(
        version=f"sample {name}",
        criteria=tuple(engine.CriterionSpec(k, n, w) for k, n, w in definition["criteria"]),
        csv_required_headers=tuple(definition.get("csv_required_headers") or ()),
        json_schema=definition.get("json_schema"),
    )


def load_expected(name: str) -> dict:
    return json.loads((CORPUS / name / "expected.json").read_text())


def finding_key(item: engine.FeedbackItem) -> str:
    """How expected.json names a feedback item: criterion, rule, file:line when
    it has a place, and the points it cost (-4.5) when it cost any."""
    place = f" {item.file}:{item.line}" if item.file else ""
    points = f" -{item.points:g}" if item.points else ""
    return f"{item.criterion} {item.rule}{place}{points}"


def expectation(outcome: engine.Outcome) -> dict:
    """The part of an outcome expected.json pins."""
    return {
        "total": outcome.total,
        "criteria": {c.key: c.score for c in outcome.criteria},
        "findings": [finding_key(item) for item in outcome.feedback],
    }


if __name__ == "__main__":
    # `python -m scoring.tests.samples NAME...` (re)writes those samples'
    # expected.json after an intended engine change. Review every diff: the
    # corpus exists to catch unintended ones.
    import sys

    for sample in sys.argv[1:]:
        result = engine.score(load_input(sample), load_rubric(sample))
        path = CORPUS / sample / "expected.json"
        # The planted defects are written by hand and kept: the test checks the engine against them.
        planted = {key: value for key, value in json.loads(path.read_text()).items() if key == "planted"} \
            if path.exists() else {}
        text = json.dumps({"engine_version": result.engine_version, **expectation(result)}, indent=2)
        if planted:
            rows = ",\n".join("    " + json.dumps(row) for row in planted["planted"])
            listing = f"[\n{rows}\n  ]" if rows else "[]"
            text = text[:-2] + f',\n  "planted": {listing}\n}}'
        (CORPUS / sample / "expected.json").write_text(text + "\n")
