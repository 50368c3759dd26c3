"""A short-lived, per-process memory of what a WebSocket handshake looked up: who a token or session is,
and whether a user may follow a submission.

A class of students opening their sockets in the same minute would otherwise send one token lookup and
one access check per socket through Django's one database thread. Entries live
`WS_AUTH_CACHE_SECONDS` (0 turns the cache off), so a revoked token or a closed session is refused by new
handshakes within that bound; sockets already open on a revoked token are closed by
`huashen.api.ws_auth` within the same bound.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from django.conf import settings

MAX_ENTRIES = 20_000


def cache_seconds() -> float:
    return float(getattr(settings, "WS_AUTH_CACHE_SECONDS", 0))


class HandshakeCache:
    """Key → value for `cache_seconds()`; only the event loop's thread uses it, so it needs no lock."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._max_entries = max_entries
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}

    async def fetch(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value, or `load()`'s (kept unless None). Handshakes that miss the same key at the
        same moment (a class connecting at once) share one load instead of each asking the database."""
        if cache_seconds() <= 0:
            return await load()
        value = self.get(key)
        if value is not None:
            return value
        loop = asyncio.get_running_loop()
        loading = self._loading.get(key)
        if loading is None or loading.get_loop() is not loop:
            loading = asyncio.ensure_future(load())
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._forget_load(key, done))
        value = await asyncio.shield(loading)
        if value is not None:
            self.put(key, value)
        return value

    def _forget_load(self, key: Hashable, done: "asyncio.Future[Any]") -> None:
        if self._loading.get(key) is done:
            del self._loading[key]
        if not done.cancelled():
            done.exception()  # retrieved: a refusal is each waiter's to handle, not the loop's to log

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        ttl = cache_seconds()
        if ttl <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= self._max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
        self._entries[key] = (now + ttl, value)

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
