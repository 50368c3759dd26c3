"""Redis connections for the platform's own reads and writes of grading data (streams, heartbeats).

Channels and Celery keep their own connections; these are the plain redis-py clients the event store,
routing and readiness use. A sync client is shared per URL (its pool is thread-safe); an asyncio client
belongs to one event loop, so each follower makes its own.
"""

import functools
from typing import Any

from django.conf import settings

CONNECT_TIMEOUT_SECONDS = 3.0
# Above the event store's XREAD BLOCK time, so a blocked follower is not mistaken for a dead socket.
SOCKET_TIMEOUT_SECONDS = 30.0


def redis_url() -> str:
    """The configured Redis URL, or "" in the embedded shape."""
    return str(getattr(settings, "REDIS_URL", "") or "")


@functools.lru_cache(maxsize=8)
def _sync_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS
    )


def redis_client(url: str | None = None) -> Any:
    """The shared sync client for `url` (default: settings.REDIS_URL)."""
    url = url or redis_url()
    if not url:
        raise RuntimeError("no REDIS_URL is configured (the embedded shape has no Redis)")
    return _sync_client(url)


def async_redis_client(url: str | None = None) -> Any:
    """A fresh asyncio client bound to the running loop; the caller closes it (`await client.aclose()`)."""
    import redis.asyncio

    url = url or redis_url()
    if not url:
        raise RuntimeError("no REDIS_URL is configured (the embedded shape has no Redis)")
    return redis.asyncio.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS
    )
