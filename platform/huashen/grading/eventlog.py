"""A submission's live events: one store, two shapes, the same interface.

- Redis (REDIS_URL set): the per-submission Redis Stream the graders write (`workers.events`), entry ids
  "0-<seq>". The platform reads it, follows it with XREAD BLOCK, appends its own final event and lets it
  expire once the log is safe in PostgreSQL.
- Memory (embedded): a process-global, thread-safe dict. The embedded grader runs in executor threads and
  `put`s its events here; followers are coroutines on the ASGI server's loop, woken through
  `loop.call_soon_threadsafe` (the in-memory channel layer cannot be used across threads and loops, see
  DESIGN.md "Two ways to run").

Keys, ids and encoding come from `workers.protocol`, the one source of truth both sides share. A follower
that reconnects with "after N" gets exactly the events after N: no gap, no duplicate.
"""

import asyncio
import bisect
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

from huashen.grading.redis_client import async_redis_client, redis_client, redis_url
from workers.protocol import (
    EVENT_STREAM_TTL_SECONDS,
    EventKind,
    GradeEvent,
    ProtocolError,
    decode_event,
    encode_event,
    event_stream_id,
    event_stream_key,
)

# Once a submission's log is copied into the database the stream is only a cache for late followers.
DONE_TTL_SECONDS = 3600
# What Submission.log keeps: the head and the tail of a longer run, with a notice between them.
LOG_MAX_EVENTS = 5000
LOG_MAX_PAYLOAD_BYTES = 1_000_000
READ_BATCH = 1000
# A follower re-checks its stop flag this often. It is never cancelled mid-command: redis-py's asyncio
# client can swallow a CancelledError that lands inside a blocking read (redis/redis-py#2028, #2579),
# leaving the task running, so followers are stopped by a flag, never by Task.cancel().
FOLLOW_BLOCK_MS = 1000
# A memory follower re-reads this often even without a wake-up (a safety net, not the mechanism).
MEMORY_FOLLOW_POLL_SECONDS = 1.0


class EventLogUnavailable(RuntimeError):
    """The store could not be read or written (Redis down); callers decide what that costs."""


class EventLog(Protocol):
    def read(self, submission_id: int, after: int = 0) -> list[GradeEvent]: ...

    def append(self, submission_id: int, kind: EventKind, payload: Any) -> GradeEvent: ...

    def put(self, submission_id: int, event: GradeEvent) -> None: ...

    def follow(
        self, submission_id: int, after: int, stop: asyncio.Event | None = None
    ) -> AsyncGenerator[GradeEvent, None]: ...

    def expire(self, submission_id: int) -> None: ...


def is_final(event: GradeEvent) -> bool:
    """The platform's own last event of a submission: nothing follows it."""
    return (
        event.kind == EventKind.STATUS
        and isinstance(event.payload, dict)
        and event.payload.get("status") == "done"
    )


def final_payload(*, verdict: str, score: float | None) -> dict[str, Any]:
    return {"status": "done", "verdict": verdict, "score": score}


# --- Memory -------------------------------------------------------------------------------------------


class MemoryEventLog:
    """The embedded store: events per submission in seq order, shared by every thread of the process."""

    def __init__(
        self, done_ttl_seconds: float = DONE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self._events: dict[int, list[GradeEvent]] = {}
        self._seqs: dict[int, list[int]] = {}
        self._expires: dict[int, float] = {}
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listeners: set[tuple[asyncio.AbstractEventLoop, Callable[[int], None]]] = set()
        self._lock = threading.Lock()
        self._done_ttl = done_ttl_seconds
        self._clock = clock

    def read(self, submission_id: int, after: int = 0) -> list[GradeEvent]:
        with self._lock:
            self._purge()
            seqs = self._seqs.get(submission_id, [])
            return self._events.get(submission_id, [])[bisect.bisect_right(seqs, after) :]

    def append(self, submission_id: int, kind: EventKind, payload: Any) -> GradeEvent:
        with self._lock:
            self._purge()
            seqs = self._seqs.get(submission_id, [])
            event = GradeEvent((seqs[-1] if seqs else 0) + 1, kind, payload, time.time())
            self._insert(submission_id, event)
        self._wake(submission_id)
        return event

    def put(self, submission_id: int, event: GradeEvent) -> None:
        """Store an event that already has its seq (the embedded grader numbers its own); repeats are dropped."""
        with self._lock:
            self._purge()
            if not self._insert(submission_id, event):
                return
        self._wake(submission_id)

    async def follow(
        self, submission_id: int, after: int, stop: asyncio.Event | None = None
    ) -> AsyncGenerator[GradeEvent, None]:
        """The events after `after`, then each new one as it is stored, until `stop` is set."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        waiter = (loop, wake)
        with self._lock:
            self._waiters.setdefault(submission_id, set()).add(waiter)
        try:
            while not stop.is_set():
                wake.clear()  # before reading: a write after the read sets it again
                events = self.read(submission_id, after)
                for event in events:
                    after = event.seq
                    yield event
                if not events:
                    waits = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
                    _done, pending = await asyncio.wait(
                        waits, timeout=MEMORY_FOLLOW_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                    for waiting in pending:
                        waiting.cancel()
        finally:
            with self._lock:
                waiters = self._waiters.get(submission_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiters[submission_id]

    def listen(self, listener: tuple[asyncio.AbstractEventLoop, Callable[[int], None]]) -> None:
        """Have `callback(submission_id)` called on `loop` after each event stored (the stream hub)."""
        with self._lock:
            self._listeners.add(listener)

    def unlisten(self, listener: tuple[asyncio.AbstractEventLoop, Callable[[int], None]]) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def expire(self, submission_id: int) -> None:
        with self._lock:
            if submission_id in self._events:
                self._expires[submission_id] = self._clock() + self._done_ttl

    def clear(self) -> None:
        """Forget everything (tests: database ids are reused after a rollback)."""
        with self._lock:
            self._events.clear()
            self._seqs.clear()
            self._expires.clear()

    def _insert(self, submission_id: int, event: GradeEvent) -> bool:
        seqs = self._seqs.setdefault(submission_id, [])
        events = self._events.setdefault(submission_id, [])
        if not seqs or event.seq > seqs[-1]:
            seqs.append(event.seq)
            events.append(event)
            return True
        index = bisect.bisect_left(seqs, event.seq)
        if seqs[index] == event.seq:
            return False
        seqs.insert(index, event.seq)
        events.insert(index, event)
        return True

    def _purge(self) -> None:
        now = self._clock()
        for submission_id in [key for key, deadline in self._expires.items() if deadline <= now]:
            self._events.pop(submission_id, None)
            self._seqs.pop(submission_id, None)
            del self._expires[submission_id]

    def _wake(self, submission_id: int) -> None:
        with self._lock:
            waiters = list(self._waiters.get(submission_id, ()))
            listeners = list(self._listeners)
        for loop, wake in waiters:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that loop has closed; its follower is gone
                pass
        for loop, callback in listeners:
            try:
                loop.call_soon_threadsafe(callback, submission_id)
            except RuntimeError:  # that loop has closed; so has its hub
                self.unlisten((loop, callback))


# --- Redis --------------------------------------------------------------------------------------------

# Append after the stream's last entry in one step, so two writers can never pick the same seq.
_APPEND_SCRIPT = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = 1
if last[1] then
  seq = tonumber(string.match(last[1][1], '%-(%d+)$')) + 1
end
local args = {KEYS[1], '0-' .. seq}
for i = 1, #ARGV do args[#args + 1] = ARGV[i] end
redis.call('XADD', unpack(args))
return seq
"""


class RedisEventLog:
    """The distributed store: the grader-written Redis Stream of each submission."""

    def __init__(self, url: str) -> None:
        self.url = url

    def read(self, submission_id: int, after: int = 0) -> list[GradeEvent]:
        key = event_stream_key(submission_id)
        events: list[GradeEvent] = []
        start = after + 1
        try:
            while True:
                entries = self._client().xrange(key, min=event_stream_id(start), max="+", count=READ_BATCH)
                events.extend(decoded_entries(entries))
                if len(entries) < READ_BATCH:
                    return events
                start = events[-1].seq + 1
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot read {key}: {error}") from error

    def append(self, submission_id: int, kind: EventKind, payload: Any) -> GradeEvent:
        key = event_stream_key(submission_id)
        draft = GradeEvent(0, kind, payload, time.time())
        fields = [part for pair in encode_event(draft).items() for part in pair]
        try:
            seq = int(self._client().eval(_APPEND_SCRIPT, 1, key, *fields))
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot append to {key}: {error}") from error
        return GradeEvent(seq, kind, payload, draft.time)

    def put(self, submission_id: int, event: GradeEvent) -> None:
        """An event with its own seq (an embedded grader next to a Redis store); a repeat is dropped."""
        import redis

        key = event_stream_key(submission_id)
        try:
            pipeline = self._client().pipeline(transaction=False)
            pipeline.xadd(key, encode_event(event), id=event_stream_id(event.seq))
            pipeline.expire(key, EVENT_STREAM_TTL_SECONDS)
            pipeline.execute()
        except redis.ResponseError as error:
            if "equal or smaller" not in str(error):
                raise EventLogUnavailable(f"cannot write {key}: {error}") from error
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot write {key}: {error}") from error

    async def follow(
        self, submission_id: int, after: int, stop: asyncio.Event | None = None
    ) -> AsyncGenerator[GradeEvent, None]:
        """XREAD BLOCK from "0-<after>": the stream's entries after `after`, then each new one, until
        `stop` is set (noticed within FOLLOW_BLOCK_MS)."""
        stop = stop or asyncio.Event()
        key = event_stream_key(submission_id)
        client = async_redis_client(self.url)
        try:
            while not stop.is_set():
                reply = await client.xread(
                    {key: event_stream_id(after)}, count=READ_BATCH, block=FOLLOW_BLOCK_MS
                )
                for event in decoded_entries(_stream_entries(reply)):
                    after = event.seq
                    yield event
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot follow {key}: {error}") from error
        finally:
            await client.aclose()

    def expire(self, submission_id: int) -> None:
        key = event_stream_key(submission_id)
        try:
            self._client().expire(key, DONE_TTL_SECONDS)
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot expire {key}: {error}") from error

    def _client(self) -> Any:
        return redis_client(self.url)


def redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.RedisError, OSError)


def _stream_entries(reply: Any) -> list[Any]:
    """XREAD's entries for the one stream asked about, in either reply shape (RESP2 list, RESP3 dict)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [entry for entries in reply.values() for entry in (entries[0] if entries else [])]
    return [entry for _key, entries in reply for entry in entries]


def decoded_entries(entries: list[Any]) -> list[GradeEvent]:
    events = []
    for entry_id, fields in entries:
        try:
            events.append(decode_event(entry_id, fields))
        except ProtocolError:  # a malformed entry is skipped, never allowed to stall a follower
            continue
    return events


# --- Choosing and capping -------------------------------------------------------------------------------

_memory = MemoryEventLog()


def memory_event_log() -> MemoryEventLog:
    return _memory


def get_event_log() -> EventLog:
    """Redis when REDIS_URL is set, else the process-global memory store; read from settings on each call."""
    url = redis_url()
    return RedisEventLog(url) if url else _memory


def payload_bytes(event: GradeEvent) -> int:
    return len(json.dumps(event.payload, ensure_ascii=False).encode("utf-8"))


def capped(
    events: list[GradeEvent], *, max_events: int = LOG_MAX_EVENTS, max_bytes: int = LOG_MAX_PAYLOAD_BYTES
) -> list[GradeEvent]:
    """What Submission.log keeps of a run: everything, or its head and tail with a notice between.

    The head holds how the run started (and its first error), the tail how it ended; both matter more
    than the middle of a long training log. Seqs are kept, so a follower resuming from the stored log
    never sees a number twice; the notice takes the seq of the first event left out.
    """
    sizes = [payload_bytes(event) for event in events]
    if len(events) <= max_events and sum(sizes) <= max_bytes:
        return list(events)
    half_events, half_bytes = (max_events - 1) // 2, max_bytes // 2
    head_end = _take(range(len(events)), sizes, half_events, half_bytes)
    tail_count = _take(range(len(events) - 1, head_end - 1, -1), sizes, max_events - 1 - head_end, half_bytes)
    tail_start = len(events) - tail_count
    omitted = events[head_end:tail_start]
    if not omitted:  # cannot happen when the budgets were exceeded; never fabricate a notice
        return list(events)
    notice = GradeEvent(
        omitted[0].seq,
        EventKind.LOG,
        {
            "notice": "log_truncated",
            "omitted": len(omitted),
            "first_seq": omitted[0].seq,
            "last_seq": omitted[-1].seq,
            "message": {
                "zh": f"……日志过长，中间省略了 {len(omitted)} 条（第 {omitted[0].seq}–{omitted[-1].seq} 条）……",
                "en": f"… the log was too long: {len(omitted)} events omitted (#{omitted[0].seq}–#{omitted[-1].seq}) …",
            },
        },
        omitted[0].time,
    )
    return [*events[:head_end], notice, *events[tail_start:]]


def _take(indexes: range, sizes: list[int], max_count: int, max_bytes: int) -> int:
    """How many of `indexes`, in order, fit under both budgets."""
    taken = used = 0
    for index in indexes:
        if taken >= max_count or used + sizes[index] > max_bytes:
            break
        taken += 1
        used += sizes[index]
    return taken
