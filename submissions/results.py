"""Turn a stored scoring result (plain JSON) into what the result page shows.

The result's shape belongs to the scoring engine, which keeps evolving, so
everything here is defensive: unknown keys are ignored, missing ones leave a
gap instead of an error, and nothing is assumed about types.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

CONTEXT_LINES = 2
# Read-only code views number (and give an anchor to) at most this many lines,
# so a text of a million empty lines cannot make a page of a million elements.
NUMBERED_LINES_MAX = 5000
# The anchor prefix of each text field's read-only view; a file's is file-<id>.
TEXT_FIELD_ANCHORS = {"source_code": "code", "documentation": "doc"}
TEXT_FIELD_LABELS = {"source_code": "Source code", "documentation": "Documentation"}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "suggestion": 3}


@dataclass
class CriterionView:
    name: str
    score: Decimal | None
    max_score: Decimal | None
    weight: str = ""

    @property
    def percent(self) -> int | None:
        if self.score is None or not self.max_score:
            return None
        return max(0, min(100, round(self.score * 100 / self.max_score)))


@dataclass
class ContextLine:
    number: int
    text: str
    is_target: bool


@dataclass
class FeedbackView:
    severity: str
    message: str
    suggestion: str = ""
    criterion: str = ""
    file: str = ""
    file_label: str = ""
    line: int | None = None
    context: list[ContextLine] = field(default_factory=list)
    # The id of the cited line in a read-only code view on the page, if shown there.
    anchor: str = ""
    # The points the item cost; None in results stored before items carried points (unknown, not zero).
    points: Decimal | None = None


@dataclass
class CodeView:
    """A read-only text with numbered lines; line n has the id ``<key>-L<n>``."""

    key: str
    label: str
    lines: list[str]
    rest: str = ""  # the text after NUMBERED_LINES_MAX lines, shown unnumbered (or not at all)
    total_lines: int = 0


@dataclass
class ResultView:
    total: Decimal | None
    criteria: list[CriterionView]
    feedback: list[FeedbackView]
    strengths: list[str]
    improvements: list[str]
    next_steps: list[str]
    overview: str = ""
    sources: list[CodeView] = field(default_factory=list)

    @property
    def has_points(self) -> bool:
        """Whether the items carry points (results stored before they did show none)."""
        return any(item.points is not None for item in self.feedback)


def present_result(
    *, total, criteria, feedback, summary, texts: dict[str, str], anchors: dict[str, str] | None = None,
    sources: list[CodeView] | None = None,
) -> ResultView:
    """``texts`` maps a feedback item's ``file`` to its content, for context lines;
    ``anchors`` maps it to the key of its read-only view on the page, so an item
    can link to its line; ``sources`` are views the result itself shows (cited files)."""
    summary = summary if isinstance(summary, dict) else {}
    items = [_feedback(item, texts, anchors or {}) for item in _as_dicts(feedback)]
    items.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.file_label, f.line or 0))
    return ResultView(
        total=_number(total),
        criteria=[_criterion(c) for c in _as_dicts(criteria)],
        feedback=items,
        strengths=_without_field_names(_strings(summary.get("strengths"))),
        improvements=_without_field_names(_strings(summary.get("improvements") or summary.get("weaknesses"))),
        next_steps=_strings(summary.get("next_steps") or summary.get("next")),
        overview=_text(summary.get("overview") or summary.get("text") or summary.get("summary")),
        sources=sources or [],
    )


def code_view(*, key: str, label: str, text: str, max_lines: int = NUMBERED_LINES_MAX) -> CodeView:
    """Split ``text`` into lines numbered as feedback cites them (as the context lines do)."""
    lines = text.splitlines()
    rest = "\n".join(lines[max_lines:])
    return CodeView(key=key, label=label, lines=lines[:max_lines], rest=rest, total_lines=len(lines))


def line_anchor(key: str, line: int) -> str:
    return f"{key}-L{line}"


def referenced_files(feedback) -> set[str]:
    """The ``file`` values the feedback items point at (besides the text fields)."""
    names = {_text(item.get("file")) for item in _as_dicts(feedback)}
    return {name for name in names if name and name not in TEXT_FIELD_LABELS}


def _criterion(data: dict) -> CriterionView:
    name = _text(data.get("name") or data.get("label") or data.get("key")) or "Criterion"
    weight = data.get("weight")
    return CriterionView(
        name=name,
        score=_number(data.get("score")),
        max_score=_number(data.get("max_score") or data.get("max") or data.get("weight")),
        weight=_text(weight) if weight is not None else "",
    )


def _feedback(data: dict, texts: dict[str, str], anchors: dict[str, str]) -> FeedbackView:
    file = _text(data.get("file"))
    line = _line_number(data.get("line"))
    context = _context(texts.get(file), line)
    linkable = context and file in anchors and line <= NUMBERED_LINES_MAX
    return FeedbackView(
        severity=(_text(data.get("severity")) or "info").lower(),
        message=_text(data.get("message")),
        suggestion=_text(data.get("suggestion")),
        criterion=_text(data.get("criterion")).replace("_", " "),
        file=file,
        file_label=TEXT_FIELD_LABELS.get(file, file),
        line=line,
        context=context,
        anchor=line_anchor(anchors[file], line) if linkable else "",
        points=_points(data.get("points")),
    )


def _points(value) -> Decimal | None:
    number = _number(value)
    return number if number is not None and number >= 0 else None


# Older engines named the text fields by their internal names in summary lines
# ("source_code: no lint findings.", "(source_code, line 8)").
_OLD_FIELD_NAMES = [("source_code:", "Source code:"), ("(source_code,", "(source code,")]


def _without_field_names(texts: list[str]) -> list[str]:
    for old, new in _OLD_FIELD_NAMES:
        texts = [text.replace(old, new) for text in texts]
    return texts


def _context(text: str | None, line: int | None) -> list[ContextLine]:
    if not text or not line:
        return []
    lines = text.splitlines()
    if line > len(lines):
        return []
    first, last = max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES)
    return [ContextLine(n, lines[n - 1][:300], n == line) for n in range(first, last + 1)]


def _as_dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        texts = (_text(v.get("message") or v.get("text")) if isinstance(v, dict) else _text(v) for v in value)
        return [text for text in texts if text]
    return []


def _text(value) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _number(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        return None


def _line_number(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
