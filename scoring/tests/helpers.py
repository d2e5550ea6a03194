from textwrap import dedent

from scoring import engine

DOC = dedent("""\
    # Tool

    ## Overview

    This tool does one small thing well and is documented so that anyone can
    use it without reading the code first.

    ## Usage

    Import the function and call it with your data; it returns a new value and
    never changes what you pass in.

    ## Examples

    ```python
    main()
    ```
    """)


def score(source: str = "", documentation: str = DOC, files=(), rubric=engine.DEFAULT_RUBRIC) -> engine.Outcome:
    data = engine.SubmissionInput(dedent(source), documentation, tuple(files))
    return engine.score(data, rubric)


def found(outcome: engine.Outcome, criterion: str) -> list[tuple[str, str, int | None]]:
    """(rule, file, line) of a criterion's items, in feedback order."""
    return [(i.rule, i.file, i.line) for i in outcome.feedback if i.criterion == criterion]


def points(outcome: engine.Outcome, criterion: str) -> float:
    return {c.key: c.score for c in outcome.criteria}[criterion]


def rubric(*criteria, csv_required_headers=(), json_schema=None) -> engine.RubricSpec:
    return engine.RubricSpec(
        version="test v1",
        criteria=tuple(engine.CriterionSpec(key, key.title(), weight) for key, weight in criteria),
        csv_required_headers=tuple(csv_required_headers),
        json_schema=json_schema,
    )
