"""The ``Idempotency-Key`` header on the API's POSTs, as a view decorator."""

import functools
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from feedback_site.api.errors import Unprocessable
from idempotency.services import KeyReused, idempotent_call

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    # What _VALID_KEY accepts: "!" to "~" are the visible ASCII characters.
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is a good choice), 1-255 visible ASCII characters. A retry with the same key "
        "and body answers with the first response (header `Idempotent-Replayed: true`) and changes nothing; the "
        "same key with a different request is refused with 422. Keys are kept for 24 hours."
    ),
)

IDEMPOTENT_REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=True,
    description="Present on a response replayed for a retry with the same Idempotency-Key.",
)


def idempotent(handler):
    """Wrap a DRF view's ``post``: runs after authentication, permissions and
    throttling, so only requests that would run at all claim a key."""

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
            )
        except KeyReused:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request.", code="idempotency_key_reused"
            ) from None

    return wrapper
