"""Scorers: what turns a submission's content and a rubric into an Outcome.

settings.SCORER names the class (a dotted path). The default is the built-in
static-analysis engine, which is deterministic and needs no network. A scorer
runs in a child process of the worker under time and memory limits
(scoring/sandbox.py), so it must be importable by its dotted path and its
inputs and outputs are plain data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from django.utils.module_loading import import_string

from scoring import engine


class Scorer(Protocol):
    def score(self, data: engine.SubmissionInput, rubric: engine.RubricSpec, *,
              checkpoint: Callable[[str], None]) -> engine.Outcome:
        """Score ``data`` against ``rubric``, calling ``checkpoint(step)``
        before each step with its name (the sandbox reports the step that
        was running when a limit was hit). Raise engine.ScoringRejected for
        input that can never be scored; any other exception is treated as
        transient by the pipeline and retried."""
        ...


class EngineScorer:
    """The built-in engine: static analysis only, learner code never runs."""

    def score(self, data: engine.SubmissionInput, rubric: engine.RubricSpec, *,
              checkpoint: Callable[[str], None]) -> engine.Outcome:
        return engine.score(data, rubric, checkpoint=checkpoint)


@functools.lru_cache(maxsize=8)
def load_scorer(path: str) -> Scorer:
    """The scorer class at a dotted path, instantiated once per process."""
    return import_string(path)()

