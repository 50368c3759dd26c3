from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from huashen.accounts.tokens import SECRET_PREFIX, api_token_authenticate


class LanguageTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <secret>` with the named, hashed tokens of `huashen.accounts.tokens`.

    Keys of DRF's own authtoken table (`manage.py drf_create_token`) keep working for existing scripts.
    It also switches to the user's saved language: middleware runs before DRF authenticates a token, so
    UserLanguageMiddleware sees such a caller as anonymous; this puts their language on for the rest of
    the request.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            language = getattr(result[0], "language", None)
            if language:
                translation.activate(language)
                request._request.LANGUAGE_CODE = language
        return result

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if not key.startswith(SECRET_PREFIX):
            return super().authenticate_credentials(key)
        token = api_token_authenticate(secret=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已被撤销。"))
        return token.user, token
