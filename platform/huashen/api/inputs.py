"""What the API accepts: JSON that the decoder can hold, and text fields that take only text."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, except that nesting too deep for the decoder is the client's 400.

    Python's decoder recurses once per level and raises RecursionError (not a ValueError, which DRF
    turns into a 400) for a body like `[[[[…` 100,000 deep: without this it would be a 500.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON 嵌套太深。"), code="parse_error") from None


class TextField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of storing them as their text (`12` → "12")."""

    default_error_messages = {"invalid": _("必须是字符串。")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))
