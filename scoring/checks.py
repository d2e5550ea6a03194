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
