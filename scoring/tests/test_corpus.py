"""The sample corpus: each submission's total and findings are pinned, and the
invariants every outcome must keep are checked on all of them."""

import functools

import pytest

from scoring import engine
from scoring.tests.samples import expectation, load_expected, load_input, load_rubric, sample_names

SAMPLES = sample_names()


@functools.cache  # each sample once per test process: ruff runs as a subprocess per Python file
def _score(name: str) -> engine.Outcome:
    return engine.score(load_input(name), load_rubric(name))


def test_the_corpus_has_at_least_forty_samples():
    assert len(SAMPLES) >= 40
    assert len([name for name in SAMPLES if load_expected(name).get("planted")]) >= 18


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_scores_exactly_as_pinned(name):
    expected = load_expected(name)
    expected.pop("planted", None)
    assert expected.pop("engine_version") == engine.ENGINE_VERSION, "re-pin the corpus after an engine change"
    assert expectation(_score(name)) == expected


PLANTED = [name for name in SAMPLES if load_expected(name).get("planted")]


@pytest.mark.parametrize("name", PLANTED)
def test_every_planted_defect_is_reported_at_its_line_with_its_rule_and_points(name):
    outcome = _score(name)
    for criterion, rule, line in load_expected(name)["planted"]:
        matches = [i for i in outcome.feedback if (i.criterion, i.rule, i.line) == (criterion, rule, line)]
        assert len(matches) == 1, (criterion, rule, line, [(i.rule, i.line) for i in outcome.feedback])
        assert matches[0].severity != "info" and matches[0].points > 0, matches[0]


def _praise_for_performance(outcome: engine.Outcome) -> list[str]:
    return [s for s in outcome.summary["strengths"]
            if s == "Full marks for performance." or s.startswith("No performance smells")]


@pytest.mark.parametrize("name", SAMPLES)
def test_no_performance_praise_beside_a_performance_problem(name):
    outcome = _score(name)
    planted = [row for row in load_expected(name).get("planted", []) if row[0] == engine.PERFORMANCE]
    problems = [i for i in outcome.feedback if i.criterion == engine.PERFORMANCE and i.severity != "info"]
    if planted or problems:
        assert _praise_for_performance(outcome) == []
        assert {c.key: c.score for c in outcome.criteria}[engine.PERFORMANCE] < 30


def test_the_patterns_learners_reported_cost_points_and_a_nest_of_three_is_one_cubic_item():
    outcome = _score("31_issue_all_patterns")
    nests = [i for i in outcome.feedback if i.rule == "nested-loops.same-collection"]
    assert len(nests) == 1 and "O(n³)" in nests[0].message and "(lines 16, 17, 18)" in nests[0].message
    assert {i.rule for i in outcome.feedback if i.points > 0} >= {
        "resources.open-without-with", "membership.dict-keys", "copies.concat-in-loop", "nested-loops.same-collection"}
    three = [i for i in _score("29_triple_nested_loops").feedback if i.rule == "nested-loops.same-collection"]
    assert len(three) == 1 and "O(n³)" in three[0].message
    two = [i for i in _score("39_pairs_with_offset_ranges").feedback if i.rule == "nested-loops.same-collection"]
    assert len(two) == 1 and "O(n²)" in two[0].message


def test_the_efficient_rewrite_has_no_performance_item_that_costs_points():
    outcome = _score("43_efficient_word_statistics")
    assert [i for i in outcome.feedback if i.criterion == engine.PERFORMANCE and i.points] == []
    assert "Full marks for performance." in outcome.summary["strengths"]


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
        charged = [i.points for i in outcome.feedback if i.criterion == criterion.key]
        assert round(criterion.max_score - sum(charged), 1) == criterion.score, criterion
    for item in outcome.feedback:
        assert item.points >= 0 and round(item.points, 1) == item.points, item
        assert item.severity != "info" or item.points == 0, item
        assert item.rule != "score.unexplained", item
    assert sum(c.max_score for c in outcome.criteria) == 100
    assert outcome.total == round(sum(c.score for c in outcome.criteria), 1)
    assert 0 <= outcome.total <= 100
    assert set(outcome.summary) == {"strengths", "improvements", "next_steps"}


def _learner_texts(outcome: engine.Outcome) -> list[str]:
    texts = [t for i in outcome.feedback for t in (i.message, i.suggestion)]
    return texts + [t for values in outcome.summary.values() for t in values]


@pytest.mark.parametrize("name", SAMPLES)
def test_learner_text_never_shows_internal_labels(name):
    for text in _learner_texts(_score(name)):
        assert "source_code" not in text and "documentation:" not in text and "(documentation," not in text, text


# A strength and the rule prefixes of items that would contradict it.
CONTRADICTIONS = {
    "The documentation shows code examples.": ("examples.",),
    "The documentation covers overview, usage and examples.": ("sections.", "examples."),
    "The documentation refers to every public function and class.": ("references.",),
    "The documentation is easy to read.": ("readability.hard",),
    "The documentation is substantial": ("length.",),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_no_strength_contradicts_an_improvement(name):
    outcome = _score(name)
    problems = [i.rule for i in outcome.feedback if i.severity != "info"]
    for strength in outcome.summary["strengths"]:
        for start, rules in CONTRADICTIONS.items():
            if strength.startswith(start):
                assert not [r for r in problems if r.startswith(rules)], (strength, problems)
        if strength.startswith("Full marks for "):
            criterion = next(c.key for c in outcome.criteria if strength == f"Full marks for {c.name.lower()}.")
            assert not [i for i in outcome.feedback if i.criterion == criterion and i.severity != "info"]


def test_code_without_an_examples_heading_is_not_praised_as_examples():
    outcome = _score("44_examples_without_heading")
    assert "The documentation shows code examples." not in outcome.summary["strengths"]
    item = next(i for i in outcome.feedback if i.rule == "examples.no-section")
    assert item.points > 0 and "no Examples section" in item.message
