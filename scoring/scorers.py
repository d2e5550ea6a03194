"""Scorers: what turns a submission's content and a rubric into an Outcome.

settings.SCORER names the class (a dotted path). The default is the built-in
static-analysis engine, which is deterministic and needs no network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from scoring import engine


class Scorer(Protocol):
    def score(self, data: engine.SubmissionInput, rubric: engine.RubricSpec, *,
              checkpoint: Callable[[], None]) -> engine.Outcome:
        """Score ``data`` against ``rubric``, calling ``checkpoint()`` between
        steps (it raises to stop a cancelled or superseded run). Raise
        engine.ScoringRejected for input that can never be scored; any other
        exception is treated as transient by the pipeline and retried."""
        ...


class EngineScorer:
    """The built-in engine: static analysis only, learner code never runs."""

    def score(self, data: engine.SubmissionInput, rubric: engine.RubricSpec, *,
              checkpoint: Callable[[], None]) -> engine.Outcome:
        return engine.score(data, rubric, checkpoint=checkpoint)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Scorer:
    return import_string(path)()


def get_scorer() -> Scorer:
    """The configured scorer (one instance per dotted path and process)."""
    return _load(settings.SCORER)
