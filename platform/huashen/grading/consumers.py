"""The WebSocket a browser follows a submission on: `/ws/submissions/<id>/?after=N`.

Every event after N, in seq order, as `{"type": "event", "seq", "kind", "payload", "time"}`: replayed
from the event store (or, once a finished submission's stream has expired, from `Submission.log`), then
followed live until the final "done" event, after which the server closes normally (1000). A browser
that lost its connection reconnects with the last seq it saw and gets exactly the rest.

Live events come from the process's stream hub (`huashen.grading.hub`): one reader for every stream the
process follows, each event encoded once, queued for each socket. A socket whose queue overflows (its
client or this process cannot keep up) is closed with 4008, which asks the client to resume with
`?after=<last seq it got>` like any other reconnect. With `&batch=1` a client takes the events that are
waiting at once as one message, a JSON array of the same objects in seq order (never more than
`BATCH_MAX`): under load a socket sends fewer, larger frames, each costing the server one write, while a
quiet stream still sends each event as soon as it comes (nothing is held back to fill a batch). The handshake's access check is remembered for
`WS_AUTH_CACHE_SECONDS` (`huashen.handshake_cache`). With `WS_STREAM_HUB=0` each socket reads its own
stream (the path the fan-out benchmark keeps as its baseline). It uses no channel layer.
"""

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Coroutine
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from huashen.errors import DomainError
from huashen.grading.eventlog import EventLogUnavailable, get_event_log, is_final
from huashen.grading.hub import Frame, StreamHub, event_frame, stream_hub
from huashen.grading.models import Status, Submission
from huashen.grading.selectors import submission_get_for_viewer, submission_log_events
from huashen.handshake_cache import HandshakeCache
from workers.protocol import GradeEvent

logger = logging.getLogger(__name__)

NOT_FOUND = 4404
NORMAL = 1000
INTERNAL = 1011
# The server is shutting down: reconnect (to any web server) with ?after=<last seq seen>. 4503, not the
# standard 1012 (service restart): daphne's WebSocket library lets a server send only 1000 or 3000-4999.
SERVICE_RESTART = 4503
# This socket fell too far behind (its queue in the stream hub overflowed): reconnect with ?after=<last seq>.
RESUME = 4008
_END = object()
# (user id, submission id) -> whether the submission was finished, for users the access check let in.
_access = HandshakeCache()


# At most this many events in one batched message.
BATCH_MAX = 64


def parse_batch(query_string: bytes | str) -> bool:
    """`&batch=1`: the client takes JSON arrays of events."""
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return parse_qs(text).get("batch", ["0"])[-1] == "1"


def parse_after(query_string: bytes | str) -> int:
    """`?after=N` as a non-negative int; anything else means from the start."""
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    try:
        return max(0, int(parse_qs(text).get("after", ["0"])[-1]))
    except ValueError:
        return 0


_readers: set["asyncio.Task[None]"] = set()


def _background(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a reader detached, holding a reference until it ends (the loop keeps only weak ones)."""
    task = asyncio.create_task(coroutine)
    _readers.add(task)
    task.add_done_callback(_readers.discard)


async def _put_unless_stopped(queue: "asyncio.Queue[Any]", item: Any, stop: asyncio.Event) -> None:
    """Queue an item; give up if the follower stops first (a full queue must not strand the reader)."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(queue.put(item), timeout=1.0)
            return
        except TimeoutError:
            continue


async def _until_disconnected(receive: Any) -> None:
    while (await receive()).get("type") != "websocket.disconnect":
        pass


class DoneCheck:
    """Which submissions the database says are done, asked for all of one process's quiet sockets at once.

    A socket whose stream has been quiet for `recheck_seconds` asks; questions arriving within
    `GATHER_SECONDS` of each other share one query, so a class waiting in the queue costs one query per
    interval, not one per socket.
    """

    GATHER_SECONDS = 0.05

    def __init__(self) -> None:
        self._asking: dict[int, list[asyncio.Future[bool]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def done(self, submission_id: int) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asking.setdefault(submission_id, []).append(answer)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._ask())
        return await answer

    async def _ask(self) -> None:
        # Until nobody is waiting: whoever asked while a query was running is answered by the next one.
        while self._asking:
            await asyncio.sleep(self.GATHER_SECONDS)
            asking, self._asking = self._asking, {}
            try:
                done = await database_sync_to_async(_done_among)(list(asking))
            except Exception as error:
                for answers in asking.values():
                    for answer in answers:
                        if not answer.done():
                            answer.set_exception(error)
                continue
            for submission_id, answers in asking.items():
                for answer in answers:
                    if not answer.done():
                        answer.set_result(submission_id in done)


def _done_among(submission_ids: list[int]) -> set[int]:
    return set(
        Submission.objects.filter(pk__in=submission_ids, status=Status.DONE).values_list("pk", flat=True)
    )


_done_checks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DoneCheck]" = weakref.WeakKeyDictionary()


def done_check() -> DoneCheck:
    loop = asyncio.get_running_loop()
    check = _done_checks.get(loop)
    if check is None:
        check = _done_checks[loop] = DoneCheck()
    return check


class SubmissionConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "huashen-no-channel-layer"  # not configured: get_channel_layer() gives None
    # With no event for this long, the database is asked whether the submission finished anyway (its final
    # event lost with Redis, say); two such answers in a row and the stored log finishes the replay.
    recheck_seconds = 5.0
    queue_size = 1000
    restart_close_seconds = 2.0

    async def connect(self) -> None:
        self.submission_id = int(self.scope["url_route"]["kwargs"]["submission_id"])
        self.sent = parse_after(self.scope.get("query_string", b""))
        self.batch = parse_batch(self.scope.get("query_string", b""))
        self.stream: asyncio.Task[None] | None = None
        try:
            finished = await self._access_check()
        except DomainError:
            # Accepted, then closed: a close before the accept reaches a browser as a bare HTTP 403
            # (close code 1006), which a client cannot tell from a network fault and keeps retrying.
            await self.accept()
            await self.close(code=NOT_FOUND)
            return
        await self.accept()
        self.stream = asyncio.create_task(self._stream(finished))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """On shutdown the ASGI server cancels every connection's application (daphne does so on SIGTERM,
        before its reactor drops the sockets): a socket still following a run is closed with 4503 first,
        so the browser reconnects to another server instead of seeing a dropped connection."""
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            stream = getattr(self, "stream", None)
            if stream is not None and not stream.done():
                stream.cancel()
                with contextlib.suppress(Exception):
                    await send({"type": "websocket.close", "code": SERVICE_RESTART})
                    # The server drops its sockets as soon as every application has ended: wait (briefly)
                    # for the browser's answer to the close, so the frame is on the wire first.
                    await asyncio.wait_for(_until_disconnected(receive), timeout=self.restart_close_seconds)
                logger.info("submission %s: closed its follower for a server restart", self.submission_id)
            raise

    async def disconnect(self, code: int) -> None:
        if self.stream is not None and not self.stream.done():
            self.stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.stream

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """The browser has nothing to say on this socket; whatever it sends (even not JSON) is ignored."""

    # --- the stream ------------------------------------------------------------------------------------

    async def _stream(self, finished: bool) -> None:
        try:
            if finished:
                await self._replay_finished()
            elif getattr(settings, "WS_STREAM_HUB", True):
                if not await self._follow_hub():
                    await self.close(code=RESUME)
                    return
            else:
                await self._follow_alone()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("following submission %s failed", self.submission_id)
            await self.close(code=INTERNAL)
            return
        await self.close(code=NORMAL)

    async def _replay_finished(self) -> None:
        """A finished submission: send the rest, from the event store or else the stored log."""
        try:
            events = await asyncio.to_thread(get_event_log().read, self.submission_id, self.sent)
        except EventLogUnavailable:
            logger.warning(
                "submission %s: event store unavailable, replaying the stored log", self.submission_id
            )
            events = []
        if await self._send_until_final(events):
            return
        # The stream expired (or its final event never got there): the database log is the record.
        submission = await database_sync_to_async(self._submission)()
        await self._send_until_final(submission_log_events(submission=submission))

    async def _follow_hub(self) -> bool:
        """Follow through the process's stream hub until the final event (True), or until the hub cut
        this socket for falling behind (False: the client resumes from what it got)."""
        hub = stream_hub()
        follower = await hub.follow(self.submission_id)
        try:
            # After registering: what was stored before is read here, everything newer arrives queued.
            backlog = await hub.backlog(self.submission_id, self.sent)
            if await self._send_frames([Frame(e.seq, event_frame(e), is_final(e)) for e in backlog]):
                return True
            strikes = 0
            while True:
                frames = await follower.take(timeout=self.recheck_seconds)
                if follower.cut:
                    return False
                if frames:
                    strikes = 0
                    if await self._send_frames(await self._with_gap_filled(hub, frames)):
                        return True
                    continue
                # Quiet: is it done anyway? Twice in a row, and its final event never reached the store.
                # Asked together with every other quiet socket of the process: one query, not one each.
                strikes = strikes + 1 if await done_check().done(self.submission_id) else 0
                if strikes >= 2:
                    logger.warning(
                        "submission %s is done but its final event never arrived; replaying the stored log",
                        self.submission_id,
                    )
                    submission = await database_sync_to_async(self._submission)()
                    await self._send_until_final(submission_log_events(submission=submission))
                    return True
        finally:
            hub.leave(follower)

    async def _with_gap_filled(self, hub: StreamHub, frames: list[Frame]) -> list[Frame]:
        """The frames, with whatever the store holds of the seqs missing between the last one sent and
        the last frame, in order.

        Seqs are dense and the hub reads each stream in order, so a hole means the events were never
        stored (dropped by a grader that could not reach Redis) — or that the hub skipped them, which the
        store then repairs. Reading the store costs one read per hole and socket, none while there is none."""
        first, last = frames[0].seq, frames[-1].seq
        if first <= self.sent + 1 and last - first == len(frames) - 1:
            return frames
        have = {frame.seq for frame in frames}
        try:
            stored = await hub.backlog(self.submission_id, self.sent, until=last)
        except EventLogUnavailable:  # the store is away: send what came; the hub's reader is retrying
            return frames
        missing = [Frame(e.seq, event_frame(e), is_final(e)) for e in stored if e.seq not in have]
        if not missing:
            return frames
        logger.warning(
            "submission %s: %d event(s) from seq %d reached this socket from the store, not the hub",
            self.submission_id, len(missing), missing[0].seq,
        )  # fmt: skip
        return sorted(frames + missing, key=lambda frame: frame.seq)

    async def _send_frames(self, frames: list[Frame]) -> bool:
        """Send the frames after the last seq sent, in one burst; True once the final one has gone out.
        A batching client gets them as arrays of up to BATCH_MAX, each frame's text as it was encoded once."""
        fresh: list[Frame] = []
        for frame in frames:
            if frame.seq <= self.sent or (fresh and frame.seq <= fresh[-1].seq):
                continue
            fresh.append(frame)
            if frame.final:
                break
        if not fresh:
            return False
        if not self.batch:
            for frame in fresh:
                await self.send(text_data=frame.text)
                self.sent = frame.seq
            return fresh[-1].final
        for start in range(0, len(fresh), BATCH_MAX):
            chunk = fresh[start : start + BATCH_MAX]
            await self.send(text_data="[" + ",".join(frame.text for frame in chunk) + "]")
            self.sent = chunk[-1].seq
        return fresh[-1].final

    async def _follow_alone(self) -> None:
        """The path before the hub (WS_STREAM_HUB=0): this socket reads its own stream."""
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.queue_size)
        stop = asyncio.Event()
        _background(self._read_into(queue, self.sent, stop))
        strikes = 0
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=self.recheck_seconds)
                except TimeoutError:
                    submission = await database_sync_to_async(self._submission)()
                    strikes = strikes + 1 if submission.status == Status.DONE else 0
                    if strikes >= 2:
                        logger.warning(
                            "submission %s is done but its final event never arrived; replaying the stored log",
                            self.submission_id,
                        )
                        await self._send_until_final(submission_log_events(submission=submission))
                        return
                    continue
                if item is _END:
                    raise EventLogUnavailable("the event store stopped answering")
                if await self._send_until_final([item]):
                    return
        finally:
            # Stopped by a flag, never cancelled (see eventlog.FOLLOW_BLOCK_MS): it ends on its own
            # within a second, and nothing it reads after this is sent.
            stop.set()

    async def _read_into(self, queue: "asyncio.Queue[Any]", after: int, stop: asyncio.Event) -> None:
        """Only reads: sending stays in one task, so stopping this one can never lose or repeat an event."""
        try:
            async with contextlib.aclosing(get_event_log().follow(self.submission_id, after, stop)) as events:
                async for event in events:
                    if stop.is_set():
                        return
                    await _put_unless_stopped(queue, event, stop)
        except EventLogUnavailable:
            logger.warning("submission %s: lost the event store while following", self.submission_id)
            await _put_unless_stopped(queue, _END, stop)

    async def _send_until_final(self, events: list[GradeEvent]) -> bool:
        """Send the events after the last one sent; True once the final event has gone out."""
        for event in events:
            if event.seq <= self.sent:
                continue
            await self.send_json(
                {"type": "event", "seq": event.seq, "kind": event.kind.value, "payload": event.payload,
                 "time": event.time}
            )  # fmt: skip
            self.sent = event.seq
            if is_final(event):
                return True
        return False

    # --- database (in a thread) ----------------------------------------------------------------------------

    async def _access_check(self) -> bool:
        """Whether this user may follow the submission (DomainError if not) and whether it was finished;
        a positive answer is remembered for the handshake cache's lifetime."""
        user = self.scope.get("user")
        user_id = getattr(user, "pk", None)
        load = database_sync_to_async(self._authorized)
        if user_id is None:
            return bool(await load())
        return bool(await _access.fetch((user_id, self.submission_id), load))

    def _authorized(self) -> bool:
        submission = submission_get_for_viewer(user=self.scope["user"], submission_id=self.submission_id)
        return submission.status == Status.DONE

    def _submission(self) -> Submission:
        return Submission.objects.get(pk=self.submission_id)


def access_cache_clear() -> None:
    """Forget the access answers remembered for handshakes (tests)."""
    _access.clear()
