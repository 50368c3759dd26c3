"""Where a grading run's live events go: a Redis Stream per submission, or a callback (embedded, tests).

Every event gets the next sequence number; a sink that resumes a stream (a re-delivered task) continues
after the last number already there, so a follower never sees a number twice.
"""

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from workers.protocol import (
    EVENT_STREAM_MAXLEN,
    EVENT_STREAM_TTL_SECONDS,
    EventKind,
    GradeEvent,
    encode_event,
    event_stream_id,
    event_stream_key,
)


class EventSink(Protocol):
    def emit(self, kind: EventKind, payload: Any) -> GradeEvent: ...


class SequencedSink:
    def __init__(self, first_seq: int = 1) -> None:
        self._next = first_seq
        self._lock = threading.Lock()

    def emit(self, kind: EventKind, payload: Any) -> GradeEvent:
        with self._lock:
            event = GradeEvent(self._next, kind, payload, time.time())
            self._next += 1
            self._write(event)
        return event

    def _write(self, event: GradeEvent) -> None:
        raise NotImplementedError


class CallbackSink(SequencedSink):
    def __init__(self, callback: Callable[[GradeEvent], None], first_seq: int = 1) -> None:
        super().__init__(first_seq)
        self._callback = callback

    def _write(self, event: GradeEvent) -> None:
        self._callback(event)


class ListSink(CallbackSink):
    """Keeps events in memory (tests, and the result's stored log)."""

    def __init__(self) -> None:
        self.events: list[GradeEvent] = []
        super().__init__(self.events.append)


class RedisStreamSink(SequencedSink):
    def __init__(self, client: Any, submission_id: int) -> None:
        self.client = client
        self.key = event_stream_key(submission_id)
        last = client.xrevrange(self.key, count=1)
        first = int(_text(last[0][0]).split("-", 1)[1]) + 1 if last else 1
        super().__init__(first)

    def _write(self, event: GradeEvent) -> None:
        pipeline = self.client.pipeline(transaction=False)
        pipeline.xadd(
            self.key, encode_event(event), id=event_stream_id(event.seq), maxlen=EVENT_STREAM_MAXLEN
        )
        pipeline.expire(self.key, EVENT_STREAM_TTL_SECONDS)
        pipeline.execute()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
