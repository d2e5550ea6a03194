"""OpenAPI helpers: the error body as a component, documented responses per
status code, the response headers clients rely on, and a hook that lists
each route once."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from feedback_site.api.pagination import MAX_PAGE, PageNumberPagination


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable code, e.g. `not_found`, `invalid`, `conflict`.")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Input field, query parameter or header → its messages. Empty when no field is at fault.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Malformed or invalid input: a wrong type, an unknown or server-only field, a bad filter or page.",
    401: "No credentials, or invalid ones.",
    403: "Authenticated, but not allowed (for a session: a missing CSRF token).",
    404: "No such object among yours.",
    409: "The object's state does not allow this (for example: already submitted).",
    412: "If-Match names an older version than the current one.",
    413: "The request body is larger than the configured cap.",
    415: "The body is not JSON.",
    422: "The Idempotency-Key was used before with a different request.",
    428: "Neither If-Match nor a version in the body: name the version you are changing.",
    429: "Too many requests; see Retry-After.",
}

_EXAMPLES = {
    400: {"code": "invalid", "message": "The request is invalid; see fields.",
          "fields": {"status": ["This field is set by the server and cannot be written."]}},
    404: {"code": "not_found", "message": "Not found.", "fields": {}},
    409: {"code": "submission_locked", "message": "This submission has been submitted and can no longer be changed.",
          "fields": {}},
    429: {"code": "throttled", "message": "Request was throttled. Expected available in 12 seconds.", "fields": {}},
}


def error_responses(*status_codes: int) -> dict:
    """``responses`` entries for extend_schema; 400/401/403/429 apply to every
    authenticated endpoint and are always included."""
    codes = sorted({400, 401, 403, 429, *status_codes})
    responses = {}
    for code in codes:
        example = _EXAMPLES.get(code)
        examples = [OpenApiExample(f"error {code}", value={"error": example}, response_only=True,
                                   status_codes=[str(code)])] if example else []
        responses[code] = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code], examples=examples)
    return responses


# --- response headers (OpenApiParameter with response=... documents a header
# of those responses rather than a request parameter).

RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the next request.",
)

ETAG_HEADER = OpenApiParameter(
    "ETag",
    {"type": "string", "pattern": '^"[0-9]+"$'},
    OpenApiParameter.HEADER,
    required=True,
    response=[200, 201],
    description='The submission\'s version, quoted (`"3"`): send it back in If-Match.',
)


def location_header(*status_codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Location",
        OpenApiTypes.URI,
        OpenApiParameter.HEADER,
        required=True,
        response=list(status_codes),
        description="The URL of the object: the one created, or the job to poll.",
    )


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"  # honoured by idempotency.api.idempotent

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    # What idempotency.api accepts: "!" to "~" are the visible ASCII characters.
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


# Every POST takes an Idempotency-Key (and, like every operation, can be throttled).
POST_PARAMETERS = [IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENT_REPLAYED_HEADER, RETRY_AFTER_HEADER]

PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        OpenApiParameter.QUERY,
        description="Page number, from 1. Past the last page: 404.",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": PageNumberPagination.max_page_size,
         "default": PageNumberPagination.page_size},
        OpenApiParameter.QUERY,
        description="Results per page.",
    ),
]


def paginated(serializer_class, name: str):
    """The page envelope of PageNumberPagination around ``serializer_class``."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def drop_trailing_slash_twins(endpoints, **kwargs):
    """Every API route answers with and without a trailing slash; document
    the form without it only."""
    paths = {path for path, *_ in endpoints}
    return [
        (path, regex, method, callback)
        for path, regex, method, callback in endpoints
        if not (path.endswith("/") and path.rstrip("/") in paths)
    ]
