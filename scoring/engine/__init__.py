"""The scoring engine: pure functions from plain data to a score and feedback.

No Django, no I/O, no network, and learner code is never executed: everything
is static analysis. ``score(SubmissionInput, RubricSpec) -> Outcome``; the
same input always gives a byte-identical ``Outcome.to_json()``.

Layout: ``types`` (the plain data in and out), ``workspace`` (decoding,
classification and size limits), ``analysers/`` (one module per criterion),
``summary`` and ``pipeline`` (putting it together).
"""

from .analysers.data_files import check_json_schema
from .pipeline import check_rubric, score
from .types import (
    ANALYSERS,
    CODE_QUALITY,
    DATA_FILES,
    DEFAULT_RUBRIC,
    DOCUMENTATION,
    ENGINE_VERSION,
    PERFORMANCE,
    CriterionScore,
    CriterionSpec,
    FeedbackItem,
    InputFile,
    Outcome,
    RubricSpec,
    ScoringRejected,
    SubmissionInput,
)
from .workspace import MAX_FILES, MAX_TOTAL_BYTES, input_hash

__all__ = [
    "ANALYSERS", "CODE_QUALITY", "DATA_FILES", "DEFAULT_RUBRIC", "DOCUMENTATION", "ENGINE_VERSION", "PERFORMANCE",
    "CriterionScore", "CriterionSpec", "FeedbackItem", "InputFile", "Outcome", "RubricSpec", "ScoringRejected",
    "SubmissionInput", "check_json_schema", "check_rubric", "input_hash", "score", "MAX_FILES", "MAX_TOTAL_BYTES",
]
