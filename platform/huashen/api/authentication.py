from typing import Any

from django.utils import translation
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request


class LanguageTokenAuthentication(TokenAuthentication):
    """Token authentication that also switches to the user's saved language.

    Middleware runs before DRF authenticates a token, so UserLanguageMiddleware sees such a caller as
    anonymous; this puts their language on for the rest of the request.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            language = getattr(result[0], "language", None)
            if language:
                translation.activate(language)
                request._request.LANGUAGE_CODE = language
        return result
