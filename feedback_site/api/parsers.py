"""The API reads JSON only, and never more of it than the configured cap.

DRF reads the request stream itself, bypassing the check Django makes on
``request.body`` against DATA_UPLOAD_MAX_MEMORY_SIZE; this parser applies
the same cap, so a huge body is a clean 413 rather than a memory spike.
"""

import io
import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from feedback_site.api.errors import RequestTooLarge


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
        _require_encodable(data)
        return data


def _require_encodable(data) -> None:
    # JSON may carry "\ud800", a lone surrogate: valid JSON, but no UTF-8
    # encoder (nor PostgreSQL) takes it, so refuse it here as bad input.
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError("The JSON contains text that is not valid Unicode.") from None
