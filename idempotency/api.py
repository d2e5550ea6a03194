"""The ``Idempotency-Key`` header on the API's POSTs, as a DRF view decorator
(the header's schema is feedback_site.api.schema.IDEMPOTENCY_KEY_PARAMETER)."""

import functools
import re

from rest_framework.exceptions import ValidationError

from feedback_site.api.errors import Unprocessable, error_response
from feedback_site.api.schema import IDEMPOTENCY_KEY_HEADER as HEADER
from idempotency.services import KeyInProgress, KeyReused, idempotent_call

# The visible ASCII characters, "!" to "~", as the header's schema says.
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotent(handler=None, *, atomic: bool = True):
    """Wrap a DRF view's ``post``: runs after authentication, permissions and
    throttling, so only requests that would run at all claim a key.

    ``@idempotent(atomic=False)`` for a handler that is safe to repeat and
    does slow work outside the database (see idempotent_call)."""
    if handler is None:
        return functools.partial(idempotent, atomic=atomic)

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            raise ValidationError({HEADER: ["Use 1 to 255 visible ASCII characters."]})
        try:
            return idempotent_call(
                user=request.user,
                key=key,
                method=request.method,
                path=request.path.rstrip("/"),  # both spellings of a route are one request
                body=request.data,
                call=lambda: handler(view, request, *args, **kwargs),
                atomic=atomic,
            )
        except KeyInProgress:
            response = error_response(
                409, "idempotency_key_in_progress",
                "A request with this Idempotency-Key is still running; send it again in a moment for its answer.",
            )
            response["Retry-After"] = "1"
            return response
        except KeyReused:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request.", code="idempotency_key_reused"
            ) from None

    return wrapper
