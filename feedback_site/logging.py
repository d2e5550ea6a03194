"""Structured logs: one JSON object per line, for web, workers and the relay.

The code logs through the standard library (``logging.getLogger(__name__)``);
structlog's ``ProcessorFormatter`` renders every record, the library's own
included, and merges what is bound in context: the web request id (bound by
feedback_site.request_id) and, in a worker, the job's id and the request id
that created it (bound by jobs.actors). Fields passed with ``extra=`` become
keys of the object.

settings.LOGGING names ``structured_formatter`` as its formatter factory, so
this module is imported when logging is configured, never by app code.
"""

import structlog
from django.core.exceptions import ImproperlyConfigured

RENDERERS = ("json", "console")


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _configure_structlog() -> None:
    # For code that prefers structlog.get_logger(): same pipeline, same output.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def structured_formatter(renderer: str = "json") -> structlog.stdlib.ProcessorFormatter:
    """The logging.Formatter of every handler: JSON lines, or readable lines for a terminal."""
    if renderer not in RENDERERS:
        raise ImproperlyConfigured(f"LOG_FORMAT={renderer!r} is not one of {', '.join(RENDERERS)}")
    _configure_structlog()
    final = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks as one string field, so a line stays one JSON object.
            *([structlog.processors.format_exc_info] if renderer == "json" else []),
            final,
        ],
    )
