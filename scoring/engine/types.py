"""Plain data in and out of the engine: no Django, no I/O."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ENGINE_VERSION = "2.0.0"

CODE_QUALITY = "code_quality"
DOCUMENTATION = "documentation"
PERFORMANCE = "performance"
DATA_FILES = "data_files"
ANALYSERS = (CODE_QUALITY, DOCUMENTATION, PERFORMANCE, DATA_FILES)

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}

# Names under which the two text fields appear in feedback items.
SOURCE_FIELD = "source_code"
DOCUMENTATION_FIELD = "documentation"


class ScoringRejected(Exception):
    """The input cannot be scored; retrying will not help."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code

    def __reduce__(self):  # crosses the scoring sandbox's process boundary
        return type(self), (self.code, str(self))


@dataclass(frozen=True)
class InputFile:
    """A verified attachment: its display name, sniffed content type and bytes."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class SubmissionInput:
    source_code: str
    documentation: str
    files: tuple[InputFile, ...] = ()


@dataclass(frozen=True)
class CriterionSpec:
    key: str  # one of ANALYSERS
    name: str
    weight: int  # points out of 100


@dataclass(frozen=True)
class RubricSpec:
    """A rubric version as plain data. ``version`` is a label shown to people;
    ``version_id`` is the stored version's id (None for the built-in default)."""

    version: str
    criteria: tuple[CriterionSpec, ...]
    version_id: int | None = None
    csv_required_headers: tuple[str, ...] = ()
    json_schema: dict | None = None

    def definition(self) -> dict:
        """What determines scoring (the part of the rubric that goes into the input hash)."""
        return {
            "criteria": [[c.key, c.name, c.weight] for c in self.criteria],
            "csv_required_headers": list(self.csv_required_headers),
            "json_schema": self.json_schema,
        }


DEFAULT_RUBRIC = RubricSpec(
    version="default v1",
    criteria=(
        CriterionSpec(CODE_QUALITY, "Code quality", 40),
        CriterionSpec(DOCUMENTATION, "Documentation", 30),
        CriterionSpec(PERFORMANCE, "Performance", 30),
    ),
)


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
    rule: str = ""
    # The points of the criterion this item cost (0 for a hint). A criterion's
    # score is its maximum minus its items' points, exactly (pipeline.py).
    points: float = 0.0

    def sort_key(self) -> tuple:
        return (SEVERITY_RANK.get(self.severity, 9), self.file, self.line or 0, self.rule, self.message)


@dataclass(frozen=True)
class Outcome:
    total: float
    criteria: list[CriterionScore]
    feedback: list[FeedbackItem]
    summary: dict = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION
    rubric_version: str = ""
    rubric_version_id: int | None = None
    input_hash: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        """Canonical bytes: the same outcome always serialises identically."""
        return json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
