"""The short summary a learner reads first: strengths, improvements, next steps.

Two rules keep it consistent with the items: a strength is dropped when an
item on its topic (a rule prefix, see Findings.praise) is a warning or an
error of the same criterion, and "Full marks" needs a criterion with no
warning or error at all. Places are named as the learner knows them ("your
source code"), never by internal field names.
"""

from __future__ import annotations

from .findings import display_name
from .types import ERROR, INFO, CriterionScore, FeedbackItem

MAX_STRENGTHS = 5
MAX_IMPROVEMENTS = 3


def summarise(criteria: list[CriterionScore], feedback: list[FeedbackItem],
              strengths: list[tuple[str, str, str]]) -> dict:
    """``strengths``: (criterion, topic, text) as the analysers praised."""
    problems = [i for i in feedback if i.severity != INFO]
    by_weakness = sorted(criteria, key=lambda c: (c.score / c.max_score if c.max_score else 1.0, c.key))
    improvements: list[str] = []
    next_steps: list[str] = []
    for criterion in by_weakness:
        if criterion.score >= criterion.max_score:
            continue
        items = [i for i in problems if i.criterion == criterion.key] or [
            i for i in feedback if i.criterion == criterion.key
        ]
        if not items:
            continue
        # The costliest item; feedback is sorted (errors first, then by place), so ties keep that order.
        first = max(items, key=lambda i: i.points)
        where = f"{display_name(first.file)}, line {first.line}" if first.file and first.line else ""
        cost = f"−{first.points:g} points" if first.points else ""
        detail = "; ".join(part for part in (where, cost) if part)
        improvements.append(f"{criterion.name}: {first.message}" + (f" ({detail})" if detail else ""))
        if first.suggestion and first.suggestion not in next_steps:
            next_steps.append(first.suggestion)
        if len(improvements) == MAX_IMPROVEMENTS:
            break
    flawed = {i.criterion for i in problems}
    full = [c.name for c in criteria if c.max_score and c.score >= c.max_score and c.key not in flawed]
    listed = [f"Full marks for {name.lower()}." for name in full]
    listed += [text for key, topic, text in strengths if not _contradicted(key, topic, problems)]
    if not any(i.severity == ERROR for i in feedback) and feedback:
        listed.append("No errors: everything left to fix is a warning or a hint.")
    return {
        "strengths": _unique(listed)[:MAX_STRENGTHS],
        "improvements": improvements,
        "next_steps": next_steps,
    }


def _contradicted(criterion: str, topic: str, problems: list[FeedbackItem]) -> bool:
    return bool(topic) and any(i.criterion == criterion and i.rule.startswith(topic) for i in problems)


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return [v for v in values if not (v in seen or seen.add(v))]
