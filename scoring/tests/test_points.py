"""Points per item: a criterion's score is its maximum minus its items' points."""

from textwrap import dedent

import pytest

from scoring import engine
from scoring.engine.findings import Findings, apportion
from scoring.tests.helpers import rubric, score

CONCAT = """\
    def f(words):
        out = []
        for w in words:
            out = out + [w]
        return out
    """


def _adds_up(outcome: engine.Outcome) -> None:
    for criterion in outcome.criteria:
        charged = sum(i.points for i in outcome.feedback if i.criterion == criterion.key)
        assert round(criterion.max_score - charged, 1) == criterion.score


@pytest.mark.parametrize("total, weights, parts", [
    (10, [1.0, 1.0, 1.0], [4, 3, 3]),  # ties: the earlier weight gets the extra tenth
    (7, [0.5, 0.25, 0.25], [3, 2, 2]),  # 3.5, 1.75, 1.75: the larger remainders win
    (5, [0.0, 2.0], [0, 5]),
    (5, [0.0, 0.0], [0, 0]),
    (0, [1.0], [0]),
])
def test_apportion_adds_up_exactly_by_the_largest_remainder(total, weights, parts):
    assert apportion(total, weights) == parts


def test_an_info_item_cannot_carry_a_penalty():
    with pytest.raises(ValueError, match="costs nothing"):
        Findings(engine.PERFORMANCE).add("x.y", "info", "m", "s", penalty=0.1)


def test_points_follow_the_weights_of_the_rubric_version():
    heavy = score(CONCAT, rubric=rubric(("code_quality", 40), ("documentation", 30), ("performance", 30)))
    light = score(CONCAT, rubric=rubric(("code_quality", 50), ("documentation", 30), ("performance", 20)))

    def cost(outcome):
        return next(i.points for i in outcome.feedback if i.rule == "copies.concat-in-loop")

    assert (cost(heavy), cost(light)) == (4.5, 3.0)
    _adds_up(heavy)
    _adds_up(light)


def test_items_folded_into_one_more_item_keep_their_points():
    source = "".join(f"def Bad{n}(a):\n    '''D.'''\n    return a\n\n\n" for n in range(12))
    outcome = score(source)
    naming = [i for i in outcome.feedback if i.rule == "naming.convention"]
    folded = [i for i in naming if "more finding(s)" in i.message]
    assert len(naming) == 9 and [i.message[:17] for i in folded] == ["4 more finding(s)"]
    assert folded[0].points > 0
    _adds_up(outcome)


def test_a_csv_with_bad_rows_beyond_those_listed_still_adds_up():
    rows = "a,b\n" + "1,2\n" * 50 + "1\n" * 150
    files = (engine.InputFile("data.csv", "text/csv", rows.encode()),)
    outcome = score("", dedent("# Data\n\nRows of numbers.\n"), files,
                    rubric=rubric(("documentation", 50), ("data_files", 50)))
    bad = [i for i in outcome.feedback if i.rule == "csv.column-count"]
    folded = [i for i in bad if "more finding(s)" in i.message]
    assert len(bad) == 9 and [i.message[:19] for i in folded] == ["142 more finding(s)"]
    assert folded[0].points > max(i.points for i in bad if i is not folded[0])
    _adds_up(outcome)
    assert {c.key: c.score for c in outcome.criteria}["data_files"] < 50
