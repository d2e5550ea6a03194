"""score(): from a submission's content and a rubric to an Outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from . import workspace
from .analysers import code_quality, data_files, documentation, performance
from .findings import Findings, apportion, limit_items
from .summary import summarise
from .types import (
    ANALYSERS,
    CODE_QUALITY,
    DATA_FILES,
    DEFAULT_RUBRIC,
    DOCUMENTATION,
    INFO,
    PERFORMANCE,
    WARNING,
    CriterionScore,
    FeedbackItem,
    Outcome,
    RubricSpec,
    ScoringRejected,
    SubmissionInput,
)

ANALYSE: dict[str, Callable[[workspace.Workspace, RubricSpec], tuple[float, Findings]]] = {
    CODE_QUALITY: lambda ws, rubric: code_quality.analyse(ws),
    DOCUMENTATION: lambda ws, rubric: documentation.analyse(ws),
    PERFORMANCE: lambda ws, rubric: performance.analyse(ws),
    DATA_FILES: data_files.analyse,
}


def check_rubric(rubric: RubricSpec) -> None:
    keys = [c.key for c in rubric.criteria]
    if not keys or len(set(keys)) != len(keys) or not set(keys) <= set(ANALYSERS):
        raise ScoringRejected("invalid_rubric", f"Rubric {rubric.version} has unknown or repeated criteria: {keys}.")
    if sum(c.weight for c in rubric.criteria) != 100 or any(c.weight <= 0 for c in rubric.criteria):
        raise ScoringRejected(
            "invalid_rubric", f"The weights of rubric {rubric.version} must be positive and add up to 100."
        )


def _no_checkpoint(step: str) -> None:
    return None


def score(data: SubmissionInput, rubric: RubricSpec = DEFAULT_RUBRIC, *,
          checkpoint: Callable[[str], None] = _no_checkpoint) -> Outcome:
    """Score a submission against a rubric. Pure and deterministic: the same
    input gives a byte-identical Outcome.to_json(). Raises ScoringRejected
    for input that can never be scored.

    ``checkpoint(step)`` is called before each step ("workspace", then each
    criterion's key); the sandbox records it, so a run stopped by a limit
    can tell the learner which step it was in."""
    check_rubric(rubric)
    workspace.check_bounds(data)
    checkpoint("workspace")
    ws = workspace.build(data)
    criteria: list[CriterionScore] = []
    items: list[FeedbackItem] = []
    unstored: dict[tuple[str, str, str], tuple[int, float]] = {}
    strengths: list[tuple[str, str, str]] = []
    for criterion in rubric.criteria:
        checkpoint(criterion.key)
        ratio, findings = ANALYSE[criterion.key](ws, rubric)
        points = _points(ratio, criterion.weight)
        charged, hidden = _charged(findings, criterion.weight, points)
        criteria.append(CriterionScore(criterion.key, criterion.name, points, float(criterion.weight)))
        items.extend(charged)
        unstored.update({(criterion.key, rule, file): value for (rule, file), value in hidden.items()})
        strengths.extend((criterion.key, topic, text) for topic, text in findings.strengths)
    items.extend(_ignored(ws, rubric))
    feedback = _in_order(_located(limit_items(items, unstored), ws.line_counts), rubric)
    total = round(sum(c.score for c in criteria), 1)
    return Outcome(
        total=total,
        criteria=criteria,
        feedback=feedback,
        summary=summarise(criteria, feedback, strengths),
        rubric_version=rubric.version,
        rubric_version_id=rubric.version_id,
        input_hash=workspace.input_hash(data, rubric),
    )


def _points(ratio: float, weight: int) -> float:
    return round(min(max(ratio, 0.0), 1.0) * weight, 1)


def _charged(findings: Findings, weight: int, score: float,
             ) -> tuple[list[FeedbackItem], dict[tuple[str, str], tuple[int, float]]]:
    """The criterion's items with the points each cost: the points lost
    (maximum minus score, in tenths) split over the items in proportion to
    their share of the loss (Findings.losses), so they add up exactly. Also
    the points of the unstored items, by (rule, file), with their count."""
    lost = round(weight * 10) - round(score * 10)
    stored, unstored = findings.losses()
    keys = sorted(unstored)
    shares = stored + [unstored[key] for key in keys]
    if lost > 0 and not any(shares):  # an analyser lost points without saying why: never hide it
        shares = [0.0 if item.severity == INFO else 1.0 for item in findings.items] + [1.0] * len(keys)
    tenths = apportion(lost, shares)
    items = [replace(item, points=part / 10) for item, part in zip(findings.items, tenths, strict=False)]
    hidden = {key: (findings.unstored[key], part / 10) for key, part in zip(keys, tenths[len(items):], strict=True)}
    if lost > sum(tenths):
        items.append(FeedbackItem(
            findings.criterion, WARNING, "Points were lost here without a specific finding.",
            "Ask your teacher to review this result.", rule="score.unexplained", points=(lost - sum(tenths)) / 10,
        ))
    return items, hidden


def _ignored(ws: workspace.Workspace, rubric: RubricSpec) -> list[FeedbackItem]:
    if not ws.ignored:
        return []
    return [FeedbackItem(
        rubric.criteria[0].key, INFO, f"Not analysed (no analyser reads this kind of file): {', '.join(ws.ignored)}.",
        "Attach code, documentation (.md, .rst, .txt) or data (.csv, .json) for them to count.", rule="input.ignored",
    )]


def _located(items: list[FeedbackItem], line_counts: dict[str, int]) -> list[FeedbackItem]:
    """Every item that names a file names a line that exists in it (parsers
    may point one past the end, e.g. at an unexpected end of file)."""
    located = []
    for item in items:
        if item.file:
            last = line_counts.get(item.file, 1)
            line = min(max(item.line or 1, 1), last)
            if line != item.line:
                item = replace(item, line=line)
        located.append(item)
    return located


def _in_order(items: list[FeedbackItem], rubric: RubricSpec) -> list[FeedbackItem]:
    position = {c.key: n for n, c in enumerate(rubric.criteria)}
    return sorted(items, key=lambda i: (position.get(i.criterion, 99), *i.sort_key(), i.suggestion))
