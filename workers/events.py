"""Where a grading run's live events go: a Redis Stream per submission, or a callback (embedded, tests).

Every event gets the next sequence number; a sink that resumes a stream (a re-delivered task) continues
after the last number already there, so a follower never sees a number twice.
"""

import logging
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
    fence_key_of,
)

logger = logging.getLogger(__name__)


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
    """Writes a run's events to its submission's stream; a failed write never fails the run.

    Every write is one script that appends the pending events in order. With a claim token
    (`workers.claims`) it is fenced: Redis checks in the same script that the claim still holds this
    token, so a run whose claim was taken over (a stalled grader, a copy that should not have run) writes
    nothing more. An append Redis refuses (other than a repeat of an id already there) stops the script:
    that event and the later ones stay pending, so no event is skipped over while later ones are stored.
    Writes that fail (Redis away, or refusing) are kept (up to MAX_PENDING events, then the newest live
    lines are dropped and counted) and retried with the next event, at most once a RETRY_SECONDS, so a
    Redis restart costs live lines at worst, never the verdict.
    """

    MAX_PENDING = 5000
    RETRY_SECONDS = 1.0

    def __init__(
        self, client: Any, submission_id: int, claim: int | None = None, claim_key: str = ""
    ) -> None:
        self.client = client
        self.submission_id = submission_id
        self.key = event_stream_key(submission_id)
        self.claim = claim
        self.claim_key = claim_key
        self.fenced = False
        self.dropped = 0
        self._pending: list[GradeEvent] = []
        self._next_try = 0.0
        try:
            last = client.xrevrange(self.key, count=1)
        except Exception:  # Redis away at the start: number from 1; repeats of earlier ids are skipped
            logger.warning("submission %s: could not read the stream's last event", submission_id)
            last = []
        first = int(_text(last[0][0]).split("-", 1)[1]) + 1 if last else 1
        super().__init__(first)

    def _write(self, event: GradeEvent) -> None:
        if self.fenced:
            return
        if len(self._pending) >= self.MAX_PENDING:
            self.dropped += 1
        else:
            self._pending.append(event)
        now = time.monotonic()
        if now < self._next_try:
            return
        try:
            self._flush()
        except Exception as error:  # Redis away: keep the events for the next try
            self._next_try = now + self.RETRY_SECONDS
            logger.warning("submission %s: %d event(s) not written yet (%s)",
                           self.submission_id, len(self._pending), error)  # fmt: skip

    def flush(self) -> bool:
        """Write what is pending now (the run's end); True when nothing is left unwritten."""
        if self.fenced or not self._pending:
            return True
        try:
            self._flush()
        except Exception:
            logger.warning("submission %s: %d event(s) never written", self.submission_id, len(self._pending))
            return False
        return True

    def _flush(self) -> None:
        events, self._pending = self._pending, []
        arguments: list[Any] = [self.claim or 0, EVENT_STREAM_TTL_SECONDS, EVENT_STREAM_MAXLEN]
        for event in events:
            fields = encode_event(event)
            arguments += [event_stream_id(event.seq), fields["kind"], fields["payload"], fields["time"]]
        try:
            # Unfenced (no claim), the script checks nothing first; its claim keys are then the stream again.
            claim_keys = (
                [self.claim_key, fence_key_of(self.claim_key)] if self.claim is not None else [self.key] * 2
            )
            reply = self.client.eval(_APPEND, 3, claim_keys[0], self.key, claim_keys[1], *arguments)
        except Exception:
            self._pending = events + self._pending
            raise
        written, stopped = (int(value) for value in reply)
        if written < 0:
            self.fenced = True
            logger.error("submission %s: the claim (token %s) is no longer this run's; its events are refused",
                         self.submission_id, self.claim)  # fmt: skip
            return
        if stopped:
            # Redis refused an append for another reason than a repeat (out of memory, say): that event and
            # every later one wait for the next try, in order, so none is skipped over for good.
            self._pending = events[stopped - 1 :] + self._pending
            raise RuntimeError(f"Redis refused event {events[stopped - 1].seq}; {written} appended before it")


# Append events in order, only while the claim (KEYS[1]; ARGV[1] the writer's token, 0: unfenced) is
# still the writer's: {-1, 0} when it is not; else {appended, n}: n is 0, or the 1-based place of the
# first event Redis refused for another reason than a repeat (nothing after it is appended). A claim that
# expired while Redis was away is still the writer's while the fence (KEYS[3]) says nobody claimed it
# since: its holder's renewal takes it back (workers.claims). An id at or below the stream's last (a
# resumed stream, a retried write) is a repeat: skipped, not an error.
_APPEND = """
if ARGV[1] ~= '0' then
  local held = redis.call('GET', KEYS[1])
  if held then
    if string.match(held, '^%d+') ~= ARGV[1] then return {-1, 0} end
  elseif redis.call('GET', KEYS[3]) ~= ARGV[1] then
    return {-1, 0}
  end
end
local written = 0
local stopped = 0
for i = 4, #ARGV, 4 do
  local ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[i],
                         'kind', ARGV[i + 1], 'payload', ARGV[i + 2], 'time', ARGV[i + 3])
  if type(ok) == 'table' and ok.err then
    if not string.find(ok.err, 'equal or smaller', 1, true) then
      stopped = (i - 4) / 4 + 1
      break
    end
  else
    written = written + 1
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return {written, stopped}
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
