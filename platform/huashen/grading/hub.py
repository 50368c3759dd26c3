"""One reader per web process for every submission stream its sockets follow, fanned out in memory.

A lab session is hundreds of browsers following tens of runs on each web process. Were each socket to
read its stream itself, every event would cost one Redis read, one decode and one JSON encoding per
follower. The hub reads once for all of them:

- Redis (REDIS_URL set): one task per process (per event loop) runs one XREAD over every stream some
  local socket follows, from the last seq it has seen of each. A new stream joins the next XREAD: the
  hub writes to its own small wake stream, which that XREAD also waits on, so it returns at once.
- Memory (embedded): one task per loop, woken through `MemoryEventLog.listen` when an executor thread
  stores an event, reads the streams it was told about.

Each event is JSON-encoded once into the frame every follower sends, `{"type": "event", "seq", "kind",
"payload", "time"}`, and appended to each local follower's bounded queue. A follower takes whatever has
piled up since it last looked, so under load one read of the hub becomes one burst of sends per socket.
A follower whose queue is full is cut (`Follower.cut`): it is dropped from the stream at once, and its
socket closes with a code that asks the client to resume with `?after=<last seq it got>`, so it loses and
repeats nothing while the others are never held up by it.

Streams are started by their first follower and stopped with their last. Starting one snapshots the last
seq already stored, after which the hub delivers only newer events; a follower reads what came before
(`StreamHub.backlog`) after it is registered, so the two overlap rather than leave a gap, and it drops
any seq it already sent. If Redis goes away the reader retries with backoff from the same positions,
and followers resume when it is back.
"""

import asyncio
import collections
import contextlib
import json
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from huashen.grading.eventlog import (
    FOLLOW_BLOCK_MS,
    MEMORY_FOLLOW_POLL_SECONDS,
    READ_BATCH,
    EventLogUnavailable,
    MemoryEventLog,
    decoded_entries,
    is_final,
    memory_event_log,
    redis_errors,
)
from huashen.grading.redis_client import async_redis_client, redis_url
from workers.protocol import GradeEvent, event_stream_id, event_stream_key

logger = logging.getLogger(__name__)

# How many frames a follower may have waiting before it is cut (and told to resume): two reads' worth, so
# a follower that keeps up is never cut by one burst.
QUEUE_LIMIT = 2 * READ_BATCH
# The reader's backoff while Redis does not answer: from the first to the last, doubling.
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 2.0
WAKE_TTL_SECONDS = 3600
# The Redis reader reads at most this often: under load one XREAD then brings many events (and each
# follower one burst of sends) instead of one XREAD over every followed stream per event.
READ_INTERVAL_SECONDS = 0.025
# How often the hub ends the waits of followers that have had nothing for their timeout (one timer for all).
QUIET_TICK_SECONDS = 0.25


def event_frame(event: GradeEvent) -> str:
    """The text frame a follower sends for one event (the same for every follower of it)."""
    return json.dumps(
        {
            "type": "event",
            "seq": event.seq,
            "kind": event.kind.value,
            "payload": event.payload,
            "time": event.time,
        }
    )


@dataclass(frozen=True)
class Frame:
    seq: int
    text: str
    final: bool


class Follower:
    """One socket's place on a stream: the frames the hub gave it that it has not taken yet."""

    def __init__(self, stream: "_Stream", limit: int, hub: "StreamHub") -> None:
        self.stream = stream
        self.limit = limit
        self.hub = hub
        self.cut = False
        self._frames: collections.deque[Frame] = collections.deque()
        # A bare future, not an Event under wait_for: that would start a task per wait, per event.
        self._waiter: asyncio.Future[None] | None = None
        self._deadline = 0.0

    @property
    def submission_id(self) -> int:
        return self.stream.submission_id

    def push(self, frame: Frame) -> bool:
        """Queue a frame; False when the queue was full and this follower is now cut."""
        if len(self._frames) >= self.limit:
            self.abort()
            return False
        self._frames.append(frame)
        self._wake()
        return True

    def abort(self) -> None:
        """Cut this follower whatever its queue holds: its socket closes and its client resumes."""
        self.cut = True
        self._frames.clear()
        self._wake()

    async def take(self, timeout: float) -> list[Frame]:
        """Every frame waiting (at least one unless `timeout` passes or the follower was cut).

        The timeout is kept by the hub's one clock for all its followers (up to QUIET_TICK_SECONDS
        late), not by a timer of this wait: a timer per wait, made and cancelled for every frame, cost
        the fan-out CPU, and the cancelled ones piling up in the loop's heap set off full garbage
        collections of the web process (200 ms pauses with 1,000 sockets)."""
        if not self._frames and not self.cut:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            self._deadline = loop.time() + timeout
            self.hub._keep_time()
            try:
                await waiter
            finally:
                self._waiter = None
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def _expire(self, now: float) -> None:
        if self._waiter is not None and now >= self._deadline:
            _resolve(self._waiter)

    def _wake(self) -> None:
        if self._waiter is not None:
            _resolve(self._waiter)


def _resolve(waiter: "asyncio.Future[None]") -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass(eq=False)
class _Stream:
    submission_id: int
    position: int = 0  # the last seq the hub has read (and fanned out) of this stream
    started: "asyncio.Future[None] | None" = None
    followers: set[Follower] = field(default_factory=set)


class StreamHub:
    """The fan-out; subclasses read the store (`_start_position`, `_run`, `backlog`, `_wake`)."""

    def __init__(self, *, queue_limit: int = QUEUE_LIMIT) -> None:
        self.queue_limit = queue_limit
        self.gaps = 0  # seqs the hub found missing between the events it read (see `publish`)
        self._streams: dict[int, _Stream] = {}
        self._reader: asyncio.Task[None] | None = None
        self._clock: asyncio.TimerHandle | None = None

    # --- what a socket calls ------------------------------------------------------------------------

    async def follow(self, submission_id: int) -> Follower:
        """Register a follower of the submission's new events; raises EventLogUnavailable."""
        stream = self._streams.get(submission_id)
        if stream is None:
            stream = _Stream(submission_id)
            self._streams[submission_id] = stream
            stream.started = asyncio.ensure_future(self._start(stream))
        follower = Follower(stream, self.queue_limit, self)
        stream.followers.add(follower)
        assert stream.started is not None
        try:
            await asyncio.shield(stream.started)
        except BaseException:
            self.leave(follower)
            raise
        self._ensure_reader()
        return follower

    def leave(self, follower: Follower) -> None:
        stream = follower.stream
        stream.followers.discard(follower)
        if not stream.followers and self._streams.get(stream.submission_id) is stream:
            del self._streams[stream.submission_id]
            self._wake()  # the reader drops the stream now, and ends with the last one

    async def backlog(self, submission_id: int, after: int, until: int | None = None) -> list[GradeEvent]:
        """The stored events after seq `after` (up to seq `until` when given)."""
        raise NotImplementedError

    @property
    def streams(self) -> dict[int, int]:
        """Followed submissions and their follower counts (for tests and the ops page)."""
        return {key: len(stream.followers) for key, stream in self._streams.items()}

    @property
    def reading(self) -> bool:
        return self._reader is not None and not self._reader.done()

    # --- the followers' one clock ---------------------------------------------------------------------

    def _keep_time(self) -> None:
        """Tick every QUIET_TICK_SECONDS while a stream is followed (a follower waiting asks for it)."""
        if self._clock is None:
            self._clock = asyncio.get_running_loop().call_later(QUIET_TICK_SECONDS, self._tick)

    def _tick(self) -> None:
        self._clock = None
        now = asyncio.get_running_loop().time()
        for stream in list(self._streams.values()):
            for follower in list(stream.followers):
                follower._expire(now)
        if self._streams:
            self._keep_time()

    # --- the fan-out ----------------------------------------------------------------------------------

    def publish(self, submission_id: int, events: list[GradeEvent]) -> None:
        """Fan out the events read of one stream: each encoded once, queued for every local follower."""
        stream = self._streams.get(submission_id)
        if stream is None:
            return
        for event in events:
            if event.seq <= stream.position:
                continue
            if event.seq > stream.position + 1:
                # Read in order from a store written in order: what lies between was never stored (a
                # grader that lost Redis and dropped lines) or was trimmed. The sockets ask the store too.
                self.gaps += event.seq - stream.position - 1
                logger.warning("submission %s: the store holds no seq %d-%d",
                               submission_id, stream.position + 1, event.seq - 1)  # fmt: skip
            stream.position = event.seq
            frame = Frame(event.seq, event_frame(event), is_final(event))
            for follower in list(stream.followers):
                if not follower.push(frame):
                    stream.followers.discard(follower)
                    logger.warning(
                        "submission %s: a follower fell %d frames behind and was told to resume",
                        submission_id,
                        self.queue_limit,
                    )
        if not stream.followers and self._streams.get(submission_id) is stream:
            del self._streams[submission_id]

    async def _start(self, stream: _Stream) -> None:
        try:
            stream.position = await self._start_position(stream.submission_id)
        except BaseException:
            if self._streams.get(stream.submission_id) is stream:
                del self._streams[stream.submission_id]  # the next follower tries again
            raise
        self._ensure_reader(new_stream=True)

    def _ensure_reader(self, *, new_stream: bool = False) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._run_reader())
        elif new_stream:
            self._wake()  # the read in progress does not ask for this stream yet

    async def _run_reader(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:  # the loop is closing
            self._reader = None
            raise
        except Exception:
            logger.exception("the stream hub's reader failed")
            self._reader = None
            for stream in list(self._streams.values()):  # their sockets close and the clients resume
                for follower in list(stream.followers):
                    follower.abort()
            self._streams.clear()
            return
        self._reader = None
        if self._streams:  # a follower arrived while the reader was ending: start another
            self._reader = asyncio.ensure_future(self._run_reader())

    def _ready_streams(self) -> dict[int, _Stream]:
        return {
            key: stream
            for key, stream in self._streams.items()
            if stream.started is not None
            and stream.started.done()
            and not stream.started.cancelled()
            and stream.started.exception() is None
        }

    async def _start_position(self, submission_id: int) -> int:
        raise NotImplementedError

    async def _run(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        raise NotImplementedError


class MemoryStreamHub(StreamHub):
    """The embedded shape: woken by the memory store whenever an executor thread stores an event."""

    def __init__(self, store: MemoryEventLog, *, queue_limit: int = QUEUE_LIMIT) -> None:
        super().__init__(queue_limit=queue_limit)
        self.store = store
        self._dirty: set[int] = set()
        self._signal = asyncio.Event()

    async def backlog(self, submission_id: int, after: int, until: int | None = None) -> list[GradeEvent]:
        events = self.store.read(submission_id, after)
        return events if until is None else [event for event in events if event.seq <= until]

    async def _start_position(self, submission_id: int) -> int:
        events = self.store.read(submission_id, 0)
        return events[-1].seq if events else 0

    def _stored(self, submission_id: int) -> None:
        self._dirty.add(submission_id)
        self._signal.set()

    def _wake(self) -> None:
        self._signal.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        listener = (loop, self._stored)
        self.store.listen(listener)
        try:
            poll = True  # the first pass reads every stream: events may have come before the listener
            while self._streams:
                self._signal.clear()
                ready = self._ready_streams()
                wanted = set(ready) if poll else self._dirty & set(ready)
                self._dirty -= wanted
                for submission_id in wanted:
                    events = self.store.read(submission_id, ready[submission_id].position)
                    if len(events) > READ_BATCH:  # a batch at a time, as from Redis: the rest next pass
                        events = events[:READ_BATCH]
                        self._stored(submission_id)
                    self.publish(submission_id, events)
                try:
                    await asyncio.wait_for(self._signal.wait(), timeout=MEMORY_FOLLOW_POLL_SECONDS)
                    poll = False
                except TimeoutError:
                    poll = True  # a safety net, not the mechanism
        finally:
            self.store.unlisten(listener)


class RedisStreamHub(StreamHub):
    """The distributed shape: one XREAD BLOCK over every followed stream and the hub's wake stream."""

    def __init__(self, url: str, *, queue_limit: int = QUEUE_LIMIT) -> None:
        super().__init__(queue_limit=queue_limit)
        self.url = url
        self.wake_key = f"huashen:hub-wake:{uuid.uuid4().hex}"
        self._commands: Any = None  # short commands (snapshots, backlogs, wake-ups); the reader has its own

    def _client(self) -> Any:
        if self._commands is None:
            self._commands = async_redis_client(self.url)
        return self._commands

    async def backlog(self, submission_id: int, after: int, until: int | None = None) -> list[GradeEvent]:
        key = event_stream_key(submission_id)
        last = "+" if until is None else event_stream_id(until)
        events: list[GradeEvent] = []
        try:
            while True:
                if until is not None and after >= until:
                    return events
                entries = await self._client().xrange(
                    key, min=event_stream_id(after + 1), max=last, count=READ_BATCH
                )
                events.extend(decoded_entries(entries))
                if len(entries) < READ_BATCH or not events:
                    return events
                after = events[-1].seq
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot read {key}: {error}") from error

    async def _start_position(self, submission_id: int) -> int:
        key = event_stream_key(submission_id)
        try:
            last = await self._client().xrevrange(key, max="+", min="-", count=1)
        except redis_errors() as error:
            raise EventLogUnavailable(f"cannot read {key}: {error}") from error
        if not last:
            return 0
        entry_id = last[0][0]
        text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        return int(text.rpartition("-")[2])

    def _wake(self) -> None:
        if self.reading:
            task = asyncio.ensure_future(self._send_wake())
            _wakes.add(task)
            task.add_done_callback(_wakes.discard)

    async def _send_wake(self) -> None:
        try:
            pipeline = self._client().pipeline(transaction=False)
            pipeline.xadd(self.wake_key, {"w": "1"}, maxlen=1, approximate=False)
            pipeline.expire(self.wake_key, WAKE_TTL_SECONDS)
            await pipeline.execute()
        except redis_errors():
            pass  # the reader is retrying anyway; it will see the new stream when it reads again

    async def _run(self) -> None:
        """Read until no stream is followed. Never cancelled mid-XREAD (redis-py can swallow that
        cancel, see eventlog.FOLLOW_BLOCK_MS): the wake stream ends a blocked read instead."""
        wake_last = "0-0"
        retry = RETRY_FIRST_SECONDS
        client: Any = None
        read_at = 0.0
        try:
            while self._streams:
                pause = read_at + READ_INTERVAL_SECONDS - asyncio.get_running_loop().time()
                if pause > 0:
                    await asyncio.sleep(pause)
                ready = self._ready_streams()
                submissions = {event_stream_key(key): key for key in ready}
                keys: dict[Any, Any] = {
                    key: event_stream_id(ready[sid].position) for key, sid in submissions.items()
                }
                keys[self.wake_key] = wake_last
                try:
                    if client is None:
                        client = async_redis_client(self.url)
                    reply = await client.xread(keys, count=READ_BATCH, block=FOLLOW_BLOCK_MS)
                except redis_errors() as error:
                    logger.warning("the stream hub lost Redis (%s); retrying in %.1f s", error, retry)
                    with contextlib.suppress(Exception):
                        await client.aclose()
                    client = None
                    await asyncio.sleep(retry)
                    retry = min(RETRY_MAX_SECONDS, retry * 2)
                    continue
                retry = RETRY_FIRST_SECONDS
                read_at = asyncio.get_running_loop().time()
                for key, entries in _by_stream(reply):
                    if key == self.wake_key:
                        if entries:
                            last = entries[-1][0]
                            wake_last = last.decode() if isinstance(last, bytes) else str(last)
                        continue
                    if key in submissions:
                        self.publish(submissions[key], decoded_entries(entries))
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
            with contextlib.suppress(Exception):
                await self._client().delete(self.wake_key)


def _by_stream(reply: Any) -> list[tuple[str, list[Any]]]:
    """XREAD's reply as (key, entries) pairs, in either reply shape (RESP2 list, RESP3 dict)."""
    if not reply:
        return []
    pairs = (
        [(key, entries[0] if entries else []) for key, entries in reply.items()]
        if isinstance(reply, dict)
        else [(key, entries) for key, entries in reply]
    )
    return [(key.decode() if isinstance(key, bytes) else str(key), entries) for key, entries in pairs]


_wakes: set["asyncio.Task[None]"] = set()
_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamHub]" = weakref.WeakKeyDictionary()


def stream_hub() -> StreamHub:
    """The hub of the running event loop (one per web process: the ASGI server runs one loop), for the
    store the settings name now (Redis when REDIS_URL is set, else the process's memory store)."""
    loop = asyncio.get_running_loop()
    url = redis_url()
    hub = _hubs.get(loop)
    if hub is None or getattr(hub, "url", "") != url:
        hub = RedisStreamHub(url) if url else MemoryStreamHub(memory_event_log())
        _hubs[loop] = hub
    return hub
