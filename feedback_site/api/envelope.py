"""The API's error body, without Django REST framework: the error handlers
and the middleware that need it load before DRF's settings do."""

from django.http import JsonResponse

TOO_LARGE_MESSAGE = "The request body is too large."


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def is_api_path(request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)
