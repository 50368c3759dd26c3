"""The OpenAPI schema's view of errors: every operation documents the error answers it can give.

Views declare their success bodies (and any unusual error, such as 429 on submission create, with
`ErrorOutput`); this schema class adds the errors every operation of a kind shares, all in the one body
`{"error": {"code", "message", "field"}}`, so clients and the fuzz tests know what to expect.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField(help_text="stable, machine-readable, e.g. `not_found`, `rate_limited`")
    message = serializers.CharField(help_text="for people, in the caller's language")
    field = serializers.CharField(allow_null=True, help_text="the input at fault, or null")
    line = serializers.IntegerField(
        required=False, allow_null=True, help_text="`syntax_error` only: the line of the error (1-based)"
    )
    column = serializers.IntegerField(
        required=False, allow_null=True, help_text="`syntax_error` only: the column of the error (1-based)"
    )


class ErrorOutput(serializers.Serializer):
    error = ErrorDetailOutput()


_DESCRIPTIONS = {
    "400": "invalid input (the `field` names it)",
    "401": "no credentials, or an unknown or revoked token",
    "403": "signed in, but not allowed",
    "404": "no such thing, or not yours to see",
    "413": "the body (or the code in it) is too large",
    "415": "a body that is not JSON",
    "503": "the database or Redis did not answer: nothing was stored; repeat after `Retry-After` seconds",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorOutput, code, direction=direction)
                response["description"] = _DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        has_body = self.method in ("POST", "PUT", "PATCH")
        has_query = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        if has_body or has_query:
            codes.append("400")
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes += ["401", "403"]
        has_path_parameters = "{" in self.path
        # POST may name a missing thing in its body; a page number past the end is a 404 as well.
        if has_path_parameters or self.method == "POST" or self._is_list_view():
            codes.append("404")
        if has_body:
            codes += ["413", "415"]
        codes.append("503")  # any operation may meet a database or Redis outage
        return codes
