"""Riding out a database or Redis outage on the write path, so a grader's result is never dropped.

A result that reaches the platform worker while PostgreSQL restarts must wait and be written, not be
logged and forgotten: the student's run is done and cannot be had again without a new submission.
`through_outages` calls a service again and again, backing off, while the failure is one that says "not
now" (any database error, the event store away); services on this path are idempotent, so repeating one
that half-happened is safe. After `patience_seconds` it gives up and raises `StillUnavailable`: a Celery
task then hands its message back to the queue (`Reject(requeue=True)`) rather than acknowledge it.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, close_old_connections, connection

from huashen.grading.eventlog import EventLogUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Backoff between attempts: 0.25 s doubling up to this. Short enough that a restarted database is seen
# within seconds, long enough not to hammer one that is starting.
MAX_BACKOFF_SECONDS = 8.0


class StillUnavailable(RuntimeError):
    """The service kept failing for the whole patience; the caller keeps the work for later."""


def is_outage(error: BaseException) -> bool:
    """A failure that may pass: any database error, the event store or Redis not answering."""
    if isinstance(error, DatabaseError | EventLogUnavailable | ConnectionError | TimeoutError):
        return True
    try:
        import redis.exceptions

        return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)
    except ImportError:  # pragma: no cover - redis is a platform dependency
        return False


def through_outages(
    function: Callable[[], T],
    *,
    what: str,
    patience_seconds: float,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> T:
    """`function()`, repeated with backoff while it fails with an outage, for up to `patience_seconds`."""
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    started = clock()
    backoff = 0.25
    attempt = 1
    while True:
        try:
            return function()
        except Exception as error:
            if not is_outage(error):
                raise
            # A broken connection stays broken in this thread until Django is told to drop it (outside
            # a transaction: inside one, the caller's transaction owns the connection).
            if not connection.in_atomic_block:
                close_old_connections()
            waited = clock() - started
            if waited + backoff > patience_seconds:
                logger.error("%s: still failing after %d attempts in %.0f s (%s: %s)",
                             what, attempt, waited, type(error).__name__, error)  # fmt: skip
                raise StillUnavailable(what) from error
            logger.warning("%s failed (%s: %s); attempt %d again in %.2f s",
                           what, type(error).__name__, error, attempt + 1, backoff)  # fmt: skip
            sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            attempt += 1
