"""Page-number pagination whose parameters are validated, not guessed.

DRF silently falls back to the default page size on a bad ``page_size``; we
answer 400 instead, so a client's bug shows up as an error it can read.
"""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE = 1_000_000


def _bounded_int(request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [f"A whole number between {minimum} and {maximum} is required."]}) from None
    if not minimum <= value <= maximum:
        raise ValidationError({name: [f"A whole number between {minimum} and {maximum} is required."]})
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        return _bounded_int(
            request, self.page_size_query_param, default=self.page_size, minimum=1, maximum=self.max_page_size
        )

    def get_page_number(self, request, paginator):
        return _bounded_int(request, self.page_query_param, default=1, minimum=1, maximum=MAX_PAGE)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1, "maximum": MAX_PAGE},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size, "default": self.page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
