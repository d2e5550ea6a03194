"""One error format for every 4xx answer of the API:

    {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}

``code`` is stable and machine-readable, ``message`` is for people, ``fields``
maps an input field (or header, or query parameter) to its messages.
"""

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from feedback_site.api.envelope import TOO_LARGE_MESSAGE, error_body, is_api_path, json_error
from feedback_site.database_outage import current_outage, outage_response
from feedback_site.errors import DomainError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since the version named in If-Match."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Name the version you are changing, in If-Match or in the body's version."
    default_code = "precondition_required"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = TOO_LARGE_MESSAGE
    default_code = "request_too_large"


VALIDATION_MESSAGE = "The request is invalid; see fields."


def _plain(detail):
    """ErrorDetail trees → plain str/list/dict (the renderer would do it too,
    but the idempotency replay stores bodies as JSON)."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _from_validation_error(detail) -> dict:
    if isinstance(detail, dict):
        fields = _plain(detail)
        non_field = fields.pop("non_field_errors", None)
        if non_field and not fields:
            return error_body("invalid", " ".join(non_field))
        return error_body("invalid", VALIDATION_MESSAGE, fields)
    messages = _plain(detail if isinstance(detail, list) else [detail])
    return error_body("invalid", " ".join(str(m) for m in messages) or VALIDATION_MESSAGE)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


class Refused(exceptions.APIException):
    """A DomainError raised by a service, with its own status and code."""

    def __init__(self, error: DomainError):
        self.status_code = error.http_status
        super().__init__(str(error), code=error.code)


def _translate_django(exc):
    """Django's own exceptions, and the services' domain errors, that can
    escape a view → their API twins. The one place a domain error becomes
    an HTTP answer: views do not catch them."""
    if isinstance(exc, DomainError):
        return Refused(exc)
    if isinstance(exc, ObjectDoesNotExist):  # the services' "no such object for this user"
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError(exc.messages)
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request is malformed.")
    return exc


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: DRF's own handling (status, headers such as
    Retry-After and WWW-Authenticate), then the body in our one format."""
    exc = _translate_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: let it surface and be logged
    if isinstance(exc, exceptions.ValidationError):
        response.data = _from_validation_error(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        response.data = error_body(_code_of(exc), str(exc.detail))
    elif isinstance(exc, Http404):
        response.data = error_body("not_found", "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        response.data = error_body("permission_denied", "You do not have permission to perform this action.")
    return response


def error_response(status_code: int, code: str, message: str, fields: dict | None = None) -> Response:
    return Response(error_body(code, message, fields), status=status_code)


# --- Django-level handlers: requests that never reach a DRF view (an unknown
# path, a malformed UUID in a path, a crash) still answer in the API format.

def bad_request(request, exception, **kwargs):
    if is_api_path(request):
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, "request_too_large", RequestTooLarge.default_detail)
        return json_error(400, "bad_request", "The request is malformed.")
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request, exception, **kwargs):
    if is_api_path(request):
        return json_error(403, "permission_denied", "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request, exception, **kwargs):
    if is_api_path(request):
        return json_error(404, "not_found", "Not found.")
    return defaults.page_not_found(request, exception, **kwargs)


def server_error(request, **kwargs):
    outage = current_outage()
    if outage is not None:
        return outage_response(request, outage)
    if is_api_path(request):
        return json_error(500, "server_error", "An unexpected error occurred; it has been logged.")
    return defaults.server_error(request, **kwargs)

