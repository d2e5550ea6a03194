"""Collecting feedback items together with the points they cost."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .types import FeedbackItem

# A rule that fires more often than this in one file keeps its first items and
# one summary item, so a learner reads a few actionable points, not a wall.
MAX_ITEMS_PER_RULE_AND_FILE = 8
# Items kept in memory per rule and file while analysing; the rest are only
# counted. An 8 MB data file with a bad row on every line would otherwise hold
# an item per row (1.6 GB measured before this cap).
MAX_STORED_PER_RULE_AND_FILE = 100


@dataclass
class Findings:
    """Feedback items of one criterion and their penalties (fractions of the
    criterion's maximum). Penalties add up per rule group (the part of the
    rule before the first dot) and each group's total is capped, so one kind
    of problem cannot cost everything."""

    criterion: str
    items: list[FeedbackItem] = field(default_factory=list)
    strengths: list[str] = field(default_factory=list)
    # (rule, file) -> items found beyond MAX_STORED_PER_RULE_AND_FILE, counted only
    unstored: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _stored: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _penalties: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    _caps: dict[str, float] = field(default_factory=dict)

    def add(
        self,
        rule: str,
        severity: str,
        message: str,
        suggestion: str = "",
        *,
        file: str = "",
        line: int | None = None,
        penalty: float = 0.0,
        cap: float = 1.0,
    ) -> None:
        key = (rule, file)
        if self._stored[key] < MAX_STORED_PER_RULE_AND_FILE:
            self._stored[key] += 1
            self.items.append(FeedbackItem(self.criterion, severity, message, suggestion, file, line, rule))
        else:
            self.unstored[key] += 1
        self.charge(rule, penalty, file=file, cap=cap)

    def charge(self, rule: str, penalty: float, *, file: str = "", cap: float = 1.0) -> None:
        """Count a penalty without an item of its own (e.g. a coverage ratio)."""
        group = rule.split(".")[0]
        self._penalties[(file, group)] += penalty
        self._caps[group] = min(cap, self._caps.get(group, cap))

    def penalty_for(self, file: str | None = None) -> float:
        """Total capped penalty, for one file or (None) for all of them."""
        per_group: dict[str, float] = defaultdict(float)
        for (item_file, group), value in self._penalties.items():
            if file is None or item_file == file:
                per_group[group] += value
        return sum(min(value, self._caps[group]) for group, value in sorted(per_group.items()))

    def ratio(self, file: str | None = None) -> float:
        return max(0.0, 1.0 - self.penalty_for(file))


def limit_items(items: list[FeedbackItem], unstored: dict[tuple[str, str, str], int] | None = None,
                ) -> list[FeedbackItem]:
    """Keep the first items of each (criterion, rule, file) in line order and
    replace the rest by one item saying how many more there are (``unstored``
    adds those that were only counted, by (criterion, rule, file))."""
    unstored = unstored or {}
    groups: dict[tuple[str, str, str], list[FeedbackItem]] = defaultdict(list)
    for item in sorted(items, key=FeedbackItem.sort_key):
        groups[(item.criterion, item.rule, item.file)].append(item)
    kept: list[FeedbackItem] = []
    for key, group in groups.items():
        criterion, rule, file = key
        kept.extend(group[:MAX_ITEMS_PER_RULE_AND_FILE])
        hidden = len(group) - MAX_ITEMS_PER_RULE_AND_FILE + unstored.get(key, 0)
        if hidden > 0 and rule:
            first = group[MAX_ITEMS_PER_RULE_AND_FILE]
            kept.append(
                FeedbackItem(
                    criterion,
                    first.severity,
                    f"{hidden} more finding(s) like this in {file or 'the submission'} are not listed.",
                    first.suggestion,
                    rule=rule,
                )
            )
    return kept
