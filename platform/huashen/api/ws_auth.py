"""Token authentication for WebSockets: `Authorization: Token <secret>` on the upgrade request.

Browsers follow submissions with their session cookie (Channels' AuthMiddlewareStack); the `huashen`
command-line client has no cookie, so it sends the same header it uses for the REST API. Only a header
is read, never a query parameter: URLs end up in access logs, and a token there would leak with them.
A header naming an unknown or revoked token closes the socket with 4401 at once, so a client can tell
"log in again" from "no such submission" (4404).

Handshakes are cheap (`huashen.handshake_cache`): who a token or a session is comes from a short-lived
per-process cache, and a socket without a session cookie skips the session lookup altogether. So that a
revoked token still takes effect within that bound, `TokenWatch` re-checks, every
`WS_AUTH_CACHE_SECONDS`, the tokens of every open socket of the process in one query, and closes the
sockets of a token that is gone with 4401.
"""

import asyncio
import contextlib
import logging
import weakref
from importlib import import_module
from typing import Any

from channels.auth import AuthMiddleware, get_user
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import CookieMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from huashen.accounts.tokens import api_token_authenticate, api_token_hash, api_tokens_live
from huashen.handshake_cache import HandshakeCache, cache_seconds

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401
# Open sockets' tokens are re-checked this often when the handshake cache is off.
REVOCATION_CHECK_SECONDS = 5.0

_token_users = HandshakeCache()  # token hash -> its user
_session_users = HandshakeCache()  # session key -> its (signed-in) user

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
        key = api_token_hash(secret=secret)
        user = await _token_users.fetch(key, lambda: database_sync_to_async(_user_for)(secret))
        if user is None:
            message = await receive()
            if message["type"] == "websocket.connect":
                # Accepted, then closed: a close before the accept reaches the client as a bare HTTP 403,
                # and the code is what tells it to log in again.
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": UNAUTHORIZED})
            return None
        watch = token_watch()
        guard = watch.add(key, send)
        try:
            return await self.inner({**scope, "user": user}, guard.receive(receive), guard.send(send))
        finally:
            watch.discard(guard)


class _Guard:
    """One token-authenticated socket: closed with 4401, and its application told it disconnected, once
    the token is revoked."""

    def __init__(self, key: str, send: Any) -> None:
        self.key = key
        self._send = send
        self.revoked = asyncio.Event()

    def send(self, send: Any) -> Any:
        async def guarded(message: dict[str, Any]) -> None:
            if not self.revoked.is_set():  # after the 4401 nothing more goes out
                await send(message)

        return guarded

    def receive(self, receive: Any) -> Any:
        async def guarded() -> dict[str, Any]:
            if self.revoked.is_set():
                return {"type": "websocket.disconnect", "code": UNAUTHORIZED}
            message = asyncio.ensure_future(receive())
            revoked = asyncio.ensure_future(self.revoked.wait())
            try:
                await asyncio.wait({message, revoked}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                revoked.cancel()
                if not message.done():
                    message.cancel()
            if message.done() and not message.cancelled():
                return message.result()
            return {"type": "websocket.disconnect", "code": UNAUTHORIZED}

        return guarded

    async def revoke(self) -> None:
        if self.revoked.is_set():
            return
        self.revoked.set()
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": UNAUTHORIZED})


class TokenWatch:
    """The open token sockets of one event loop, and the task that re-checks their tokens."""

    def __init__(self) -> None:
        self._guards: dict[str, set[_Guard]] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, key: str, send: Any) -> _Guard:
        guard = _Guard(key, send)
        self._guards.setdefault(key, set()).add(guard)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        return guard

    def discard(self, guard: _Guard) -> None:
        guards = self._guards.get(guard.key)
        if guards is not None:
            guards.discard(guard)
            if not guards:
                del self._guards[guard.key]

    @property
    def sockets(self) -> int:
        return sum(len(guards) for guards in self._guards.values())

    async def _run(self) -> None:
        while self._guards:
            await asyncio.sleep(cache_seconds() or REVOCATION_CHECK_SECONDS)
            keys = list(self._guards)
            if not keys:
                break
            try:
                live = await database_sync_to_async(_live_hashes)(keys)
            except Exception:  # the database is away: keep the sockets, ask again next time
                logger.warning("could not re-check the tokens of open sockets", exc_info=True)
                continue
            for key in keys:
                if key in live:
                    continue
                _token_users.discard(key)
                for guard in list(self._guards.pop(key, ())):
                    await guard.revoke()


def _live_hashes(keys: list[str]) -> set[str]:
    live: set[str] = set()
    for start in range(0, len(keys), 1000):
        live |= api_tokens_live(key_hashes=keys[start : start + 1000])
    return live


_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TokenWatch]" = weakref.WeakKeyDictionary()


def token_watch() -> TokenWatch:
    """The watch of the running event loop (one per web process)."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = TokenWatch()
    return watch


class CachedSessionAuthMiddleware(AuthMiddleware):
    """Channels' session authentication, with the user of a session key kept for `WS_AUTH_CACHE_SECONDS`
    and no lookup at all for a socket that brings no session cookie (a token client)."""

    async def resolve_scope(self, scope: Scope) -> None:
        session_key = scope["session"].session_key
        if not session_key:
            scope["user"]._wrapped = AnonymousUser()
            return
        user = await _session_users.fetch(session_key, lambda: _signed_in_user(scope))
        scope["user"]._wrapped = user or AnonymousUser()


async def _signed_in_user(scope: Scope) -> Any:
    """The session's user, or None (not cached) when it is not signed in."""
    user = await get_user(scope)
    return user if user.is_authenticated else None


class SessionReader:
    """The session named by the socket's cookie, read only. A socket never writes its session, so unlike
    Channels' SessionMiddleware this does not wrap every frame sent to check whether to save it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        key = scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
        return await self.inner({**scope, "session": self.store(key)}, receive, send)


def WebsocketAuthStack(inner: Any) -> Any:
    """Session cookie or API token, whichever the socket brings (a token wins)."""
    return CookieMiddleware(SessionReader(CachedSessionAuthMiddleware(TokenAuthMiddleware(inner))))


def handshake_caches_clear() -> None:
    """Forget every cached token and session user (tests)."""
    _token_users.clear()
    _session_users.clear()


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
