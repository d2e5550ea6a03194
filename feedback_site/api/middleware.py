"""Every 4xx answer under /api/ in the API's error format, DEBUG or not."""

from feedback_site.api.envelope import TOO_LARGE_MESSAGE, is_api_path, json_error

_HTML_ERROR_CODES = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("request_too_large", TOO_LARGE_MESSAGE),
}


class ApiErrorFormatMiddleware:
    """Every 4xx answer under /api/ in the API's error format, DEBUG or not.

    The handlers above cover production; with DEBUG on, Django answers an
    unmatched URL (a malformed id such as ``null,null``) with its technical
    HTML page instead, and a plain Django view's 405 is an empty HTML body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (is_api_path(request) and response.status_code in _HTML_ERROR_CODES
                and response.get("Content-Type", "").startswith("text/html")):
            code, message = _HTML_ERROR_CODES[response.status_code]
            answer = json_error(response.status_code, code, message)
            if response.has_header("Allow"):
                answer["Allow"] = response["Allow"]
            return answer
        return response
