"""The stream hub over the in-memory store (embedded mode): one reader for many followers, every event to
every follower once and in order, slow followers cut and resumed without a gap, streams started and
stopped by reference count."""

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from huashen.asgi import websocket_routes
from huashen.grading import dispatch
from huashen.grading.consumers import RESUME, SubmissionConsumer
from huashen.grading.eventlog import MemoryEventLog, final_payload
from huashen.grading.hub import MemoryStreamHub, stream_hub
from huashen.grading.models import Submission
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from workers.events import CallbackSink
from workers.protocol import EventKind, GradeEvent

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_routes)


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


def running(personas: Personas, curriculum: dict, count: int) -> list[Submission]:
    return [
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit")
        for _ in range(count)
    ]


def sinks_for(store: MemoryEventLog, submission_ids: list[int]) -> dict[int, CallbackSink]:
    """What the embedded grader writes through: events numbered by the grader itself."""
    return {sid: CallbackSink(lambda event, sid=sid: store.put(sid, event)) for sid in submission_ids}


def grade_in_a_thread(
    store: MemoryEventLog,
    submission_ids: list[int],
    lines: int,
    pause: float = 0.0,
    sinks: dict[int, CallbackSink] | None = None,
) -> threading.Thread:
    """What the embedded executor does: events from another thread, the runs interleaved, then the end."""

    def run() -> None:
        nonlocal sinks
        sinks = sinks or sinks_for(store, submission_ids)
        for line in range(lines):
            for sink in sinks.values():
                sink.emit(EventKind.STDOUT, f"line {line}\n")
            if pause:
                time.sleep(pause)
        for sid in submission_ids:
            store.append(sid, EventKind.STATUS, final_payload(verdict="passed", score=100.0))

    return threading.Thread(target=run)


def connect(user: Any, submission_id: int, after: int = 0) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/submissions/{submission_id}/?after={after}")
    communicator.scope["user"] = user
    return communicator


async def until_closed(communicator: WebsocketCommunicator, timeout: float = 10) -> tuple[list[int], int]:
    seqs = []
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return seqs, message.get("code", 1000)
        seqs.append(json.loads(message["text"])["seq"])


def test_many_followers_of_several_runs_get_every_event_once_in_order_from_one_reader(
    personas: Personas, curriculum: dict, memory_events: MemoryEventLog
) -> None:
    submissions = running(personas, curriculum, 3)
    lines = 60
    # Some lines are stored before anyone follows: the late ones join a stream already being read.
    sinks = sinks_for(memory_events, [s.pk for s in submissions])
    for sink in sinks.values():
        for line in range(5):
            sink.emit(EventKind.STDOUT, f"early {line}\n")

    async def scenario() -> tuple[list[tuple[int, list[int], int]], dict[int, int], int]:
        sockets = []
        for submission in submissions:
            for _ in range(10):
                socket = connect(personas.alice, submission.pk)
                assert (await socket.connect(timeout=5))[0]
                sockets.append((submission.pk, socket))
        await asyncio.sleep(0.1)
        followed = stream_hub().streams
        readers = len(memory_events._listeners)
        grader = grade_in_a_thread(memory_events, [s.pk for s in submissions], lines, sinks=sinks)
        grader.start()
        # latecomers join mid-run, resuming from a seq they already had
        late = []
        for submission in submissions:
            socket = connect(personas.alice, submission.pk, after=3)
            assert (await socket.connect(timeout=5))[0]
            late.append((submission.pk, socket))
        results = []
        for submission_id, socket in sockets + late:
            seqs, code = await until_closed(socket)
            results.append((submission_id, seqs, code))
        await asyncio.to_thread(grader.join)
        return results, followed, readers

    results, followed, readers = async_to_sync(scenario)()
    assert followed == {s.pk: 10 for s in submissions}  # one stream each, however many follow it
    assert readers == 1  # and one reader for all of them
    everything = list(range(1, 5 + lines + 2))  # 5 early lines, the run's lines, the final event
    for _submission_id, seqs, code in results[:30]:
        assert seqs == everything and code == 1000
    for _submission_id, seqs, code in results[30:]:
        assert seqs == everything[3:] and code == 1000


def test_a_follower_too_slow_for_its_queue_is_cut_and_resumes_without_a_gap(
    personas: Personas, curriculum: dict, memory_events: MemoryEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    [submission] = running(personas, curriculum, 1)
    lines = 200
    original_send = SubmissionConsumer.send

    async def slow_send(self: SubmissionConsumer, *args: Any, **kwargs: Any) -> None:
        if self.scope.get("slow"):
            await asyncio.sleep(0.002)  # this client's connection is slow
        await original_send(self, *args, **kwargs)

    monkeypatch.setattr(SubmissionConsumer, "send", slow_send)

    async def follow_resuming(slow: bool) -> tuple[list[int], list[int]]:
        """A client that reconnects from the last seq it got whenever it is told to resume (4008)."""
        seen: list[int] = []
        codes: list[int] = []
        while not codes or codes[-1] == RESUME:
            socket = connect(personas.alice, submission.pk, after=seen[-1] if seen else 0)
            socket.scope["slow"] = slow
            assert (await socket.connect(timeout=5))[0]
            seqs, code = await until_closed(socket)
            seen += seqs
            codes.append(code)
        return seen, codes

    async def scenario() -> tuple[tuple[list[int], list[int]], tuple[list[int], list[int]]]:
        stream_hub().queue_limit = 8
        clients = [asyncio.ensure_future(follow_resuming(slow)) for slow in (True, False)]
        while stream_hub().streams.get(submission.pk) != 2:
            await asyncio.sleep(0.01)
        grader = grade_in_a_thread(memory_events, [submission.pk], lines, pause=0.001)
        grader.start()
        slow, steady = await asyncio.gather(*clients)
        await asyncio.to_thread(grader.join)
        return slow, steady

    (seen, codes), (steady_seqs, steady_codes) = async_to_sync(scenario)()
    everything = list(range(1, lines + 2))
    assert RESUME in codes and codes[-1] == 1000  # it was cut at least once, and then finished
    assert seen == everything  # nothing lost, nothing repeated across the reconnects
    assert steady_seqs == everything and steady_codes[-1] == 1000
    assert len(steady_codes) < len(codes)  # the slow client was cut more often than the steady one


def test_streams_start_and_stop_with_their_followers(memory_events: MemoryEventLog) -> None:
    async def scenario() -> list[Any]:
        hub = MemoryStreamHub(memory_events)
        memory_events.append(7, EventKind.STDOUT, "before\n")
        first = await hub.follow(7)
        second = await hub.follow(7)
        other = await hub.follow(8)
        states: list[Any] = [hub.streams, hub.reading]
        memory_events.append(7, EventKind.STDOUT, "after\n")
        frames = await first.take(timeout=2)
        states.append([(frame.seq, json.loads(frame.text)["payload"]) for frame in frames])
        states.append([frame.seq for frame in await second.take(timeout=2)])
        hub.leave(first)
        hub.leave(second)
        states.append(hub.streams)
        hub.leave(other)
        for _ in range(200):
            if not hub.reading:
                break
            await asyncio.sleep(0.01)
        states += [hub.streams, hub.reading, len(memory_events._listeners)]
        return states

    states = async_to_sync(scenario)()
    assert states[0] == {7: 2, 8: 1} and states[1] is True
    assert states[2] == [(2, "after\n")]  # from the position it started at: the backlog is the socket's
    assert states[3] == [2]
    assert states[4] == {8: 1}
    assert states[5:] == [{}, False, 0]


def test_each_event_is_encoded_once_for_all_its_followers(
    memory_events: MemoryEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huashen.grading import hub as hub_module

    encoded: list[int] = []
    real = hub_module.event_frame

    def counting(event: GradeEvent) -> str:
        encoded.append(event.seq)
        return real(event)

    monkeypatch.setattr(hub_module, "event_frame", counting)

    async def scenario() -> list[list[int]]:
        hub = MemoryStreamHub(memory_events)
        followers = [await hub.follow(3) for _ in range(50)]
        for line in range(4):
            memory_events.append(3, EventKind.STDOUT, f"{line}\n")
        got: list[list[int]] = [[] for _ in followers]
        for _ in range(100):
            for index, follower in enumerate(followers):
                got[index] += [frame.seq for frame in await follower.take(timeout=0.01)]
            if all(len(seqs) == 4 for seqs in got):
                break
        for follower in followers:
            hub.leave(follower)
        return got

    got = async_to_sync(scenario)()
    assert all(seqs == [1, 2, 3, 4] for seqs in got)
    assert sorted(encoded) == [1, 2, 3, 4]


def test_quiet_sockets_asking_while_a_done_query_runs_are_answered_by_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huashen.grading import consumers

    queries: list[list[int]] = []

    def slow_done_among(submission_ids: list[int]) -> set[int]:
        queries.append(sorted(submission_ids))
        time.sleep(0.2)  # a database under load
        return {2}

    monkeypatch.setattr(consumers, "_done_among", slow_done_among)

    async def scenario() -> list[bool]:
        check = consumers.DoneCheck()
        first = [asyncio.ensure_future(check.done(1)), asyncio.ensure_future(check.done(1))]
        await asyncio.sleep(0.1)  # the first query is running now
        later = asyncio.ensure_future(check.done(2))
        return list(await asyncio.wait_for(asyncio.gather(*first, later), timeout=5))

    assert async_to_sync(scenario)() == [False, False, True]
    assert queries == [[1], [2]]  # one query for both sockets of run 1, the next for the latecomer


@pytest.mark.parametrize("pause", [0.01, 0.0], ids=["a-frame-at-a-time", "frames-in-bursts"])
def test_a_socket_gets_from_the_store_what_the_hub_did_not_bring(
    personas: Personas,
    curriculum: dict,
    memory_events: MemoryEventLog,
    monkeypatch: pytest.MonkeyPatch,
    pause: float,
) -> None:
    from huashen.grading import hub as hub_module

    [submission] = running(personas, curriculum, 1)
    lines = 12
    real_publish = hub_module.StreamHub.publish

    def skipping(self: hub_module.StreamHub, submission_id: int, events: list[GradeEvent]) -> None:
        # a fan-out that loses seqs 3 and 7 on their way to the followers (the store holds them)
        real_publish(self, submission_id, [event for event in events if event.seq not in (3, 7)])

    monkeypatch.setattr(hub_module.StreamHub, "publish", skipping)

    async def scenario() -> list[tuple[list[int], int]]:
        sockets = []
        for _ in range(3):
            socket = connect(personas.alice, submission.pk)
            assert (await socket.connect(timeout=5))[0]
            sockets.append(socket)
        while stream_hub().streams.get(submission.pk) != 3:
            await asyncio.sleep(0.01)
        grader = grade_in_a_thread(memory_events, [submission.pk], lines, pause=pause)
        grader.start()
        results = [await until_closed(socket) for socket in sockets]
        await asyncio.to_thread(grader.join)
        return results

    results = async_to_sync(scenario)()
    assert results == [(list(range(1, lines + 2)), 1000)] * 3  # every seq once, in order


def test_the_hub_counts_the_seqs_its_store_never_held(memory_events: MemoryEventLog) -> None:
    async def scenario() -> tuple[list[int], int]:
        hub = MemoryStreamHub(memory_events)
        follower = await hub.follow(11)
        for seq in (1, 2, 5):  # 3 and 4 were dropped by a grader that could not store them
            memory_events.put(11, GradeEvent(seq, EventKind.STDOUT, f"{seq}\n", time.time()))
        got: list[int] = []
        for _ in range(100):
            got += [frame.seq for frame in await follower.take(timeout=0.05)]
            if got[-1:] == [5]:
                break
        hub.leave(follower)
        return got, hub.gaps

    got, gaps = async_to_sync(scenario)()
    assert got == [1, 2, 5] and gaps == 2


def test_waiting_followers_share_the_hubs_one_clock(memory_events: MemoryEventLog) -> None:
    from huashen.grading import hub as hub_module

    async def scenario() -> tuple[list[list[Any]], float, list[Any]]:
        hub = MemoryStreamHub(memory_events)
        followers = [await hub.follow(21) for _ in range(100)]
        loop = asyncio.get_running_loop()
        timers: list[Any] = []
        real = loop.call_later

        def counting(delay: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
            timers.append(callback)
            return real(delay, callback, *args, **kwargs)

        loop.call_later = counting  # type: ignore[method-assign]
        try:
            started = loop.time()
            got = await asyncio.gather(*(follower.take(timeout=0.3) for follower in followers))
            waited = loop.time() - started
        finally:
            del loop.call_later
        for follower in followers:
            hub.leave(follower)
        return got, waited, timers

    got, waited, timers = async_to_sync(scenario)()
    assert got == [[]] * 100  # nothing came: each wait ended by its timeout
    assert 0.3 <= waited < 0.3 + 2 * hub_module.QUIET_TICK_SECONDS  # at most a tick late
    assert hub_module._resolve not in timers  # no timer of its own per wait
    assert 1 <= sum(1 for timer in timers if getattr(timer, "__name__", "") == "_tick") <= 4


def test_a_hole_the_store_cannot_fill_now_does_not_stop_the_socket(
    personas: Personas, curriculum: dict, memory_events: MemoryEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huashen.grading import hub as hub_module
    from huashen.grading.eventlog import EventLogUnavailable

    [submission] = running(personas, curriculum, 1)
    lines = 6
    real_publish = hub_module.StreamHub.publish
    real_backlog = hub_module.MemoryStreamHub.backlog

    def skipping(self: hub_module.StreamHub, submission_id: int, events: list[GradeEvent]) -> None:
        real_publish(self, submission_id, [event for event in events if event.seq != 3])

    async def away_for_holes(
        self: hub_module.MemoryStreamHub, submission_id: int, after: int, until: int | None = None
    ) -> list[GradeEvent]:
        if until is not None:  # the store went away after the socket's first read
            raise EventLogUnavailable("gone")
        return await real_backlog(self, submission_id, after)

    monkeypatch.setattr(hub_module.StreamHub, "publish", skipping)
    monkeypatch.setattr(hub_module.MemoryStreamHub, "backlog", away_for_holes)

    async def scenario() -> tuple[list[int], int]:
        socket = connect(personas.alice, submission.pk)
        assert (await socket.connect(timeout=5))[0]
        while stream_hub().streams.get(submission.pk) != 1:
            await asyncio.sleep(0.01)
        grader = grade_in_a_thread(memory_events, [submission.pk], lines, pause=0.01)
        grader.start()
        result = await until_closed(socket)
        await asyncio.to_thread(grader.join)
        return result

    seqs, code = async_to_sync(scenario)()
    assert seqs == [seq for seq in range(1, lines + 2) if seq != 3] and code == 1000
