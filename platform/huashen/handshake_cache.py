"""A short-lived, per-process memory of what a WebSocket handshake looked up: who a token or session is,
and whether a user may follow a submission.

A class of students opening their sockets in the same minute would otherwise send one token lookup and
one access check per socket through Django's one database thread. Entries live
`WS_AUTH_CACHE_SECONDS` (0 turns the cache off), so a revoked token or a closed session is refused by new
handshakes within that bound; sockets already open on a revoked token are closed by
`huashen.api.ws_auth` within the same bound.
"""

import time
from collections.abc import Hashable
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
