"""Collecting feedback items together with the points they cost."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

from .types import DOCUMENTATION_FIELD, INFO, SOURCE_FIELD, FeedbackItem

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
    of problem cannot cost everything.

    Every penalty belongs to an item: an ``info`` item is a hint and costs
    nothing, so the points a criterion lost can be traced item by item
    (``losses``). ``shares`` is set by criteria that average a ratio per file
    (file -> its share of the criterion); without it all files form one pool."""

    criterion: str
    items: list[FeedbackItem] = field(default_factory=list)
    strengths: list[tuple[str, str]] = field(default_factory=list)  # (topic, text), see praise()
    # (rule, file) -> items found beyond MAX_STORED_PER_RULE_AND_FILE, counted only
    unstored: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    shares: dict[str, float] | None = None
    _item_penalties: list[float] = field(default_factory=list)
    _unstored_penalties: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
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
        if severity == INFO and penalty:
            raise ValueError(f"{rule}: an info item is a hint and costs nothing")
        key = (rule, file)
        if self._stored[key] < MAX_STORED_PER_RULE_AND_FILE:
            self._stored[key] += 1
            self.items.append(FeedbackItem(self.criterion, severity, message, suggestion, file, line, rule))
            self._item_penalties.append(penalty)
        else:
            self.unstored[key] += 1
            self._unstored_penalties[key] += penalty
        group = rule.split(".")[0]
        self._penalties[(file, group)] += penalty
        self._caps[group] = min(cap, self._caps.get(group, cap))

    def count_more(self, rule: str, count: int, *, file: str, penalty: float) -> None:
        """``count`` more findings of a rule that are only counted (their
        lines are not known), each with ``penalty``."""
        if count <= 0:
            return
        self.unstored[(rule, file)] += count
        self._unstored_penalties[(rule, file)] += penalty * count
        self._penalties[(file, rule.split(".")[0])] += penalty * count
        self._caps.setdefault(rule.split(".")[0], 1.0)

    def praise(self, text: str, *, topic: str = "") -> None:
        """A strength. ``topic`` is a rule prefix: the summary drops the
        strength when an item whose rule starts with it costs points, so a
        strength never contradicts an improvement."""
        self.strengths.append((topic, text))

    def penalty_for(self, file: str | None = None) -> float:
        """Total capped penalty, for one file or (None) for all of them."""
        per_group: dict[str, float] = defaultdict(float)
        for (item_file, group), value in self._penalties.items():
            if file is None or item_file == file:
                per_group[group] += value
        return sum(min(value, self._caps[group]) for group, value in sorted(per_group.items()))

    def ratio(self, file: str | None = None) -> float:
        return max(0.0, 1.0 - self.penalty_for(file))

    def losses(self) -> tuple[list[float], dict[tuple[str, str], float]]:
        """Each stored item's share of the criterion lost (its penalty, scaled
        down where its group's cap or the pool's floor at zero applied, times
        its file's share), and the same for the unstored items by (rule, file)."""
        def pool(file: str) -> str:
            return file if self.shares is not None else ""

        totals: dict[tuple[str, str], float] = defaultdict(float)
        for (file, group), value in self._penalties.items():
            totals[(pool(file), group)] += value
        pool_totals: dict[str, float] = defaultdict(float)
        for (where, group), value in sorted(totals.items()):
            pool_totals[where] += min(value, self._caps[group])

        def factor(file: str, rule: str) -> float:
            where, group = pool(file), rule.split(".")[0]
            total = totals[(where, group)]
            if total <= 0:
                return 0.0
            scale = min(total, self._caps[group]) / total / max(pool_totals[where], 1.0)
            share = 1.0 if self.shares is None else self.shares.get(file, 0.0)
            return scale * share

        stored = [p * factor(item.file, item.rule) if p else 0.0 for item, p in zip(
            self.items, self._item_penalties, strict=True)]
        unstored = {key: p * factor(key[1], key[0]) for key, p in sorted(self._unstored_penalties.items()) if p}
        return stored, unstored


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` (an integer, tenths of a point) in proportion to
    ``weights`` by the largest remainder, so the parts add up exactly; ties go
    to the earlier weight. All zero weights give all zero parts."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def limit_items(items: list[FeedbackItem], unstored: dict[tuple[str, str, str], tuple[int, float]] | None = None,
                ) -> list[FeedbackItem]:
    """Keep the first items of each (criterion, rule, file) in line order and
    replace the rest by one item saying how many more there are and carrying
    their points (``unstored`` adds those that were only counted, by
    (criterion, rule, file): (count, points))."""
    unstored = unstored or {}
    groups: dict[tuple[str, str, str], list[FeedbackItem]] = defaultdict(list)
    for item in sorted(items, key=FeedbackItem.sort_key):
        groups[(item.criterion, item.rule, item.file)].append(item)
    for key in sorted(set(unstored) - set(groups)):  # cannot happen (stored come first); kept for safety
        groups[key] = []
    kept: list[FeedbackItem] = []
    for key, group in groups.items():
        criterion, rule, file = key
        kept.extend(group[:MAX_ITEMS_PER_RULE_AND_FILE])
        count, points = unstored.get(key, (0, 0.0))
        hidden_items = group[MAX_ITEMS_PER_RULE_AND_FILE:]
        hidden = len(hidden_items) + count
        if hidden > 0 and rule:
            first = hidden_items[0] if hidden_items else group[-1]
            tenths = round(points * 10) + sum(round(i.points * 10) for i in hidden_items if i.points)
            kept.append(replace(
                first,
                message=f"{hidden} more finding(s) like this in {display_name(file) or 'the submission'} are not "
                        "listed.",
                file="", line=None, points=tenths / 10,
            ))
    return kept


def display_name(name: str) -> str:
    """How a learner knows a place: the text fields by their labels on the form."""
    return {SOURCE_FIELD: "your source code", DOCUMENTATION_FIELD: "your documentation"}.get(name, name)


def place_label(name: str) -> str:
    """display_name() at the start of a sentence."""
    label = display_name(name)
    return label[:1].upper() + label[1:]
