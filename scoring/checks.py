from django.conf import settings
from django.core.checks import Error, register


@register()
def scorer_is_importable(app_configs, **kwargs):
    """A wrong SCORER stops the start instead of failing every job later."""
    from django.utils.module_loading import import_string

    try:
        scorer = import_string(settings.SCORER)
    except ImportError as exc:
        return [Error(f"SCORER={settings.SCORER!r} cannot be imported: {exc}", id="scoring.E001")]
    if not callable(getattr(scorer, "score", None)):
        return [Error(f"SCORER={settings.SCORER!r} has no score() method.", id="scoring.E002")]
    return []


@register()
def ruff_matches_the_engine(app_configs, **kwargs):
    """The engine's results depend on ruff's version: a different ruff would
    silently score differently, so it stops the start instead."""
    from scoring.engine.analysers import ruff_lint

    try:
        version = ruff_lint.installed_version()
    except Exception as exc:  # noqa: BLE001 (any failure to run it is the same problem)
        return [Error(f"ruff cannot be run for scoring: {exc}", id="scoring.E003")]
    if version != ruff_lint.RUFF_VERSION:
        return [Error(f"ruff {version} is installed; the scoring engine is pinned to {ruff_lint.RUFF_VERSION}.",
                      id="scoring.E004")]
    return []
