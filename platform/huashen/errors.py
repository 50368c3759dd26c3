"""The one error type services raise, and its wire shape.

Every API error body is `{"error": {"code", "message", "field"}}`; pages show `message`. Services raise
DomainError with a stable machine `code`, a translated human `message`, the offending input `field` (or
None) and the HTTP status a client should see.
"""

from typing import Any


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.headers = headers or {}

    def as_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.field)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}
