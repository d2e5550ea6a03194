"""The sample corpus: each submission's total and findings are pinned, and the
invariants every outcome must keep are checked on all of them."""

import pytest

from scoring import engine
from scoring.tests.samples import expectation, load_expected, load_input, load_rubric, sample_names

SAMPLES = sample_names()


def _score(name: str) -> engine.Outcome:
    return engine.score(load_input(name), load_rubric(name))


def test_the_corpus_has_at_least_twenty_samples():
    assert len(SAMPLES) >= 20


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_scores_exactly_as_pinned(name):
    expected = load_expected(name)
    assert expected.pop("engine_version") == engine.ENGINE_VERSION, "re-pin the corpus after an engine change"
    assert expectation(_score(name)) == expected


# (criterion, clearly better sample, clearly worse sample)
BETTER_THAN = [
    ("code_quality", "01_excellent", "03_syntax_error"),
    ("code_quality", "01_excellent", "02_lint_findings"),
    ("code_quality", "02_lint_findings", "24_undefined_name"),
    ("code_quality", "01_excellent", "08_naming"),
    ("code_quality", "01_excellent", "09_missing_docstrings"),
    ("code_quality", "01_excellent", "25_minimal_effort"),
    ("code_quality", "01_excellent", "06_documentation_only"),
    ("documentation", "01_excellent", "25_minimal_effort"),
    ("documentation", "01_excellent", "23_hard_to_read_documentation"),
    ("documentation", "25_minimal_effort", "05_no_documentation"),
    ("performance", "15_memoised_recursion", "14_unmemoised_recursion"),
    ("performance", "01_excellent", "11_list_membership"),
    ("performance", "01_excellent", "03_syntax_error"),
    ("data_files", "17_csv_valid", "18_csv_problems"),
    ("data_files", "19_json_schema_errors", "20_json_syntax_error"),
]


@pytest.mark.parametrize("criterion, better, worse", BETTER_THAN)
def test_a_clearly_better_submission_scores_higher_on_the_criterion(criterion, better, worse):
    def points(name):
        return {c.key: c.score for c in _score(name).criteria}[criterion]

    assert points(better) > points(worse)


def _line_counts(data: engine.SubmissionInput) -> dict[str, int]:
    def lines(text: str) -> int:
        return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1

    counts = {"source_code": lines(data.source_code), "documentation": lines(data.documentation)}
    for f in data.files:
        counts[f.name] = lines(f.data.decode("utf-8", "replace"))
    return counts


@pytest.mark.parametrize("name", SAMPLES)
def test_every_located_item_points_at_an_existing_line_and_scores_add_up(name):
    data, rubric = load_input(name), load_rubric(name)
    outcome = engine.score(data, rubric)
    counts = _line_counts(data)
    for item in outcome.feedback:
        assert item.criterion in {c.key for c in rubric.criteria}
        assert item.severity in {"error", "warning", "info"}
        assert item.message and item.suggestion
        if item.file:
            assert 1 <= item.line <= counts[item.file], item
        else:
            assert item.line is None, item
    for criterion in outcome.criteria:
        assert 0 <= criterion.score <= criterion.max_score
    assert sum(c.max_score for c in outcome.criteria) == 100
    assert outcome.total == round(sum(c.score for c in outcome.criteria), 1)
    assert 0 <= outcome.total <= 100
    assert set(outcome.summary) == {"strengths", "improvements", "next_steps"}
