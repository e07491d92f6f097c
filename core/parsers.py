"""The API reads JSON only (settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]): a form or multipart
body is answered 415 by DRF, so a client that sends `values` as a form part cannot store an empty draft
by accident, and every operation documents exactly one request content type (generated clients import).
A NUL character anywhere in the document is refused here, once, instead of reaching the database."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        from .parsing import has_nul

        data = super().parse(stream, media_type, parser_context)
        if has_nul(data):
            raise ParseError(_("文本中不能含有 NUL（\\u0000）字符"))
        return data
