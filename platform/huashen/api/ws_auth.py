"""Token authentication for WebSockets: `Authorization: Token <secret>` on the upgrade request.

Browsers follow submissions with their session cookie (Channels' AuthMiddlewareStack); the `huashen`
command-line client has no cookie, so it sends the same header it uses for the REST API. Only a header
is read, never a query parameter: URLs end up in access logs, and a token there would leak with them.
A header naming an unknown or revoked token closes the socket with 4401 at once, so a client can tell
"log in again" from "no such submission" (4404).
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator

from huashen.accounts.tokens import api_token_authenticate

UNAUTHORIZED = 4401

Scope = dict[str, Any]


def token_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The secret of an `Authorization: Token <secret>` header, or None when there is no such header."""
    for name, value in headers:
        if name.lower() != b"authorization":
            continue
        keyword, _space, secret = value.decode("latin-1").strip().partition(" ")
        if keyword.lower() == "token":
            return secret.strip()
    return None


def _user_for(secret: str) -> Any:
    token = api_token_authenticate(secret=secret)
    return token.user if token is not None else None


class TokenAuthMiddleware:
    """Puts the token's user in `scope["user"]`; place it inside AuthMiddlewareStack so a token wins."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        secret = token_from_headers(scope.get("headers", []))
        if scope["type"] != "websocket" or secret is None:
            return await self.inner(scope, receive, send)
        user = await database_sync_to_async(_user_for)(secret)
        if user is None:
            message = await receive()
            if message["type"] == "websocket.connect":
                # Accepted, then closed: a close before the accept reaches the client as a bare HTTP 403,
                # and the code is what tells it to log in again.
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": UNAUTHORIZED})
            return None
        return await self.inner({**scope, "user": user}, receive, send)


class OriginCheckedWhenPresent:
    """Refuses a WebSocket whose Origin names another site; lets one without Origin through to the rules.

    The Origin check is what stops another site's page from opening a socket with a student's cookie
    (cross-site WebSocket hijacking), and browsers always send the header. A client that sends none (the
    command-line client, a script) is no browser and carries no victim's cookie: it meets the same token
    and session rules as everyone else, so it can read 4401 and 4404 instead of a bare HTTP 403.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.checked = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if any(name.lower() == b"origin" for name, _value in scope.get("headers", [])):
            return await self.checked(scope, receive, send)
        return await self.inner(scope, receive, send)
