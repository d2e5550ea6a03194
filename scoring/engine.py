"""The scoring engine: pure functions from plain data to a score.

This is the walking skeleton's scorer: deterministic, fast, no network and no
execution of learner code. The rubric-based analysers replace it later behind
the same ``score`` signature.
"""

import ast
import hashlib
import json
from dataclasses import asdict, dataclass, field

ENGINE_VERSION = "0.1.0"


class ScoringRejected(Exception):
    """The input cannot be scored; retrying will not help."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SubmissionInput:
    source_code: str
    documentation: str


@dataclass(frozen=True)
class CriterionScore:
    key: str
    name: str
    score: float
    max_score: float


@dataclass(frozen=True)
class FeedbackItem:
    criterion: str
    severity: str
    message: str
    suggestion: str = ""
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Outcome:
    total: float
    criteria: list[CriterionScore]
    feedback: list[FeedbackItem]
    summary: dict = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION
    input_hash: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def input_hash(data: SubmissionInput) -> str:
    canonical = json.dumps(asdict(data), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(canonical).hexdigest()


def _code_quality(source: str) -> tuple[float, list[FeedbackItem]]:
    if not source.strip():
        return 0.0, [FeedbackItem("code_quality", "error", "No source code was submitted.", "Add your code.")]
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return 10.0, [
            FeedbackItem(
                "code_quality",
                "error",
                f"Syntax error: {exc.msg}.",
                "Fix the syntax so the code can be analysed.",
                file="source_code",
                line=exc.lineno,
            )
        ]
    return 40.0, []


def _documentation(text: str) -> tuple[float, list[FeedbackItem]]:
    words = len(text.split())
    score = min(30.0, words / 5)
    if words < 150:
        return score, [
            FeedbackItem(
                "documentation",
                "warning",
                f"The documentation has {words} words.",
                "Describe what the code does, how to use it, and an example (about 150 words).",
            )
        ]
    return score, []


def score(data: SubmissionInput) -> Outcome:
    """Score a submission's text; the same input always gives the same outcome."""
    code_points, code_items = _code_quality(data.source_code)
    doc_points, doc_items = _documentation(data.documentation)
    criteria = [
        CriterionScore("code_quality", "Code quality", code_points, 40.0),
        CriterionScore("documentation", "Documentation", round(doc_points, 1), 30.0),
        CriterionScore("performance", "Performance", 30.0, 30.0),
    ]
    total = round(sum(c.score for c in criteria), 1)
    return Outcome(total=total, criteria=criteria, feedback=code_items + doc_items, input_hash=input_hash(data))
