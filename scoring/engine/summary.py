"""The short summary a learner reads first: strengths, improvements, next steps."""

from __future__ import annotations

from .types import ERROR, INFO, CriterionScore, FeedbackItem

MAX_STRENGTHS = 5
MAX_IMPROVEMENTS = 3


def summarise(criteria: list[CriterionScore], feedback: list[FeedbackItem], strengths: list[str]) -> dict:
    by_weakness = sorted(criteria, key=lambda c: (c.score / c.max_score if c.max_score else 1.0, c.key))
    improvements: list[str] = []
    next_steps: list[str] = []
    for criterion in by_weakness:
        if criterion.score >= criterion.max_score:
            continue
        items = [i for i in feedback if i.criterion == criterion.key and i.severity != INFO] or [
            i for i in feedback if i.criterion == criterion.key
        ]
        if not items:
            continue
        first = items[0]  # feedback is sorted: errors first, then by place
        where = f" ({first.file}, line {first.line})" if first.file and first.line else ""
        improvements.append(f"{criterion.name}: {first.message}{where}")
        if first.suggestion and first.suggestion not in next_steps:
            next_steps.append(first.suggestion)
        if len(improvements) == MAX_IMPROVEMENTS:
            break
    full = [c.name for c in criteria if c.max_score and c.score >= c.max_score]
    listed = [f"Full marks for {name.lower()}." for name in full] + strengths
    if not any(i.severity == ERROR for i in feedback) and feedback:
        listed.append("No errors: everything left to fix is a warning or a hint.")
    return {
        "strengths": _unique(listed)[:MAX_STRENGTHS],
        "improvements": improvements,
        "next_steps": next_steps,
    }


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return [v for v in values if not (v in seen or seen.add(v))]
