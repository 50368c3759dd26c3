"""The submission WebSocket over the in-memory event store: replay, live follow, resume, access, the end."""

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from huashen.asgi import websocket_routes
from huashen.grading import dispatch, results
from huashen.grading.consumers import SubmissionConsumer, parse_after
from huashen.grading.eventlog import MemoryEventLog, final_payload
from huashen.grading.hub import stream_hub
from huashen.grading.models import Status, Submission
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from tests.sockets import refusal
from workers.events import CallbackSink
from workers.protocol import EventKind, GradeResult, Verdict

# Transactional: Channels closes the thread's database connections when a socket disconnects, which on
# PostgreSQL would end a test wrapped in one transaction.
pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_routes)


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


@pytest.fixture
def submission(personas: Personas, curriculum: dict) -> Submission:
    return submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit")


def grader_sink(store: MemoryEventLog, submission_id: int) -> CallbackSink:
    """What the embedded grader writes through: events numbered by the grader itself."""
    return CallbackSink(lambda event: store.put(submission_id, event))


def connect(user: Any, submission_id: int, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/submissions/{submission_id}/{query}")
    communicator.scope["user"] = user
    return communicator


async def receive_all(communicator: WebsocketCommunicator, timeout: float = 5) -> tuple[list[dict], int]:
    """Every message until the server closes; the events and the close code."""
    events = []
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return events, message.get("code", 1000)
        events.append(json.loads(message["text"]))


def test_replays_then_follows_live_and_closes_after_the_final_event(
    personas: Personas, submission: Submission, memory_events: MemoryEventLog
) -> None:
    sink = grader_sink(memory_events, submission.pk)
    sink.emit(EventKind.STATUS, {"status": "running", "device": "cpu"})
    sink.emit(EventKind.STDOUT, "hello\n")

    async def scenario() -> tuple[list[dict], list[dict], int]:
        communicator = connect(personas.alice, submission.pk)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        replayed = [await communicator.receive_json_from(timeout=5) for _ in range(2)]

        def grader() -> None:  # live events come from another thread, as from the local executor
            time.sleep(0.05)
            sink.emit(EventKind.METRIC, {"step": 1, "metrics": {"loss": 0.25}})
            memory_events.append(
                submission.pk, EventKind.STATUS, final_payload(verdict="passed", score=100.0)
            )

        thread = threading.Thread(target=grader)
        thread.start()
        live, code = await receive_all(communicator)
        thread.join()
        return replayed, live, code

    replayed, live, code = async_to_sync(scenario)()
    assert [(m["type"], m["seq"], m["kind"]) for m in replayed] == [
        ("event", 1, "status"),
        ("event", 2, "stdout"),
    ]
    assert replayed[1]["payload"] == "hello\n" and isinstance(replayed[1]["time"], float)
    assert [(m["seq"], m["kind"]) for m in live] == [(3, "metric"), (4, "status")]
    assert live[-1]["payload"] == {"status": "done", "verdict": "passed", "score": 100.0}
    assert code == 1000


def test_resume_with_after_gets_exactly_the_rest(
    personas: Personas, submission: Submission, memory_events: MemoryEventLog
) -> None:
    sink = grader_sink(memory_events, submission.pk)
    for line in range(5):
        sink.emit(EventKind.STDOUT, f"{line}\n")

    async def scenario() -> tuple[list[int], int]:
        communicator = connect(personas.alice, submission.pk, "?after=3")
        assert (await communicator.connect(timeout=5))[0]
        first = [(await communicator.receive_json_from(timeout=5))["seq"] for _ in range(2)]
        # nothing more until the grader writes again
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        # the browser reconnects after the last seq it saw while the run goes on
        sink.emit(EventKind.STDOUT, "5\n")
        memory_events.append(submission.pk, EventKind.STATUS, final_payload(verdict="failed", score=0.0))
        again = connect(personas.alice, submission.pk, f"?after={first[-1]}")
        assert (await again.connect(timeout=5))[0]
        rest, code = await receive_all(again)
        return first + [m["seq"] for m in rest], code

    seqs, code = async_to_sync(scenario)()
    assert seqs == [4, 5, 6, 7]
    assert code == 1000


def test_a_finished_submission_whose_stream_expired_replays_its_stored_log(
    personas: Personas,
    submission: Submission,
    memory_events: MemoryEventLog,
    django_capture_on_commit_callbacks,
) -> None:
    sink = grader_sink(memory_events, submission.pk)
    for line in range(4):
        sink.emit(EventKind.STDOUT, f"{line}\n")
    with django_capture_on_commit_callbacks(execute=True):
        submission_record_result(
            result=GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0)
        )
    memory_events.clear()  # the stream has expired; the database holds the log

    async def scenario(query: str) -> tuple[list[dict], int]:
        communicator = connect(personas.alice, submission.pk, query)
        assert (await communicator.connect(timeout=5))[0]
        return await receive_all(communicator)

    everything, code = async_to_sync(scenario)("")
    assert [m["seq"] for m in everything] == [1, 2, 3, 4, 5] and code == 1000
    assert everything[-1]["payload"] == {"status": "done", "verdict": "passed", "score": 100.0}
    rest, code = async_to_sync(scenario)("?after=2")
    assert [m["seq"] for m in rest] == [3, 4, 5] and code == 1000
    nothing, code = async_to_sync(scenario)("?after=5")
    assert nothing == [] and code == 1000


def test_a_finished_submission_with_its_stream_replays_from_the_stream(
    personas: Personas,
    submission: Submission,
    memory_events: MemoryEventLog,
    django_capture_on_commit_callbacks,
) -> None:
    sink = grader_sink(memory_events, submission.pk)
    sink.emit(EventKind.STDOUT, "a\n")
    with django_capture_on_commit_callbacks(execute=True):
        submission_record_result(
            result=GradeResult(submission_id=submission.pk, verdict=Verdict.FAILED, score=5.0)
        )
    Submission.objects.filter(pk=submission.pk).update(log=[])  # prove the stream, not the row, answered

    async def scenario() -> tuple[list[dict], int]:
        communicator = connect(personas.alice, submission.pk)
        assert (await communicator.connect(timeout=5))[0]
        return await receive_all(communicator)

    events, code = async_to_sync(scenario)()
    assert [(m["seq"], m["payload"]) for m in events] == [
        (1, "a\n"), (2, {"status": "done", "verdict": "failed", "score": 5.0}),
    ]  # fmt: skip
    assert code == 1000


def test_a_lost_final_event_is_recovered_from_the_database(
    personas: Personas, submission: Submission, memory_events: MemoryEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The result committed but its final event never reached the store: followers still finish."""
    monkeypatch.setattr(SubmissionConsumer, "recheck_seconds", 0.05)
    monkeypatch.setattr(results, "_publish_final", lambda *args, **kwargs: None)  # Redis was away
    sink = grader_sink(memory_events, submission.pk)
    sink.emit(EventKind.STDOUT, "a\n")

    async def scenario() -> tuple[list[dict], int]:
        communicator = connect(personas.alice, submission.pk)
        assert (await communicator.connect(timeout=5))[0]
        first = await communicator.receive_json_from(timeout=5)
        result = GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0)
        await database_sync_to_async(submission_record_result)(result=result)
        rest, code = await receive_all(communicator)
        return [first, *rest], code

    events, code = async_to_sync(scenario)()
    assert [m["seq"] for m in events] == [1, 2]
    assert events[-1]["payload"]["status"] == "done" and code == 1000
    assert [event.seq for event in memory_events.read(submission.pk)] == [1]  # the store never heard


@pytest.mark.parametrize("name", ["bob", "dave"])
def test_other_students_and_other_instructors_get_4404(
    personas: Personas, submission: Submission, name: str
) -> None:
    async def scenario() -> tuple[str, int | None]:
        return await refusal(connect(getattr(personas, name), submission.pk))

    assert async_to_sync(scenario)() == ("closed", 4404)


def test_anonymous_and_unknown_submissions_get_4404(personas: Personas, submission: Submission) -> None:
    async def scenario(user: Any, submission_id: int) -> tuple[str, int | None]:
        return await refusal(connect(user, submission_id))

    assert async_to_sync(scenario)(AnonymousUser(), submission.pk) == ("closed", 4404)
    assert async_to_sync(scenario)(personas.alice, submission.pk + 1000) == ("closed", 4404)


@pytest.mark.parametrize("name", ["carol", "erin"])
def test_the_cohort_instructor_and_admins_may_follow(
    personas: Personas, submission: Submission, memory_events: MemoryEventLog, name: str
) -> None:
    memory_events.append(submission.pk, EventKind.STATUS, final_payload(verdict="passed", score=100.0))

    async def scenario() -> tuple[list[dict], int]:
        communicator = connect(getattr(personas, name), submission.pk)
        assert (await communicator.connect(timeout=5))[0]
        return await receive_all(communicator)

    events, code = async_to_sync(scenario)()
    assert [m["seq"] for m in events] == [1] and code == 1000


def test_a_disconnect_stops_the_follower(
    personas: Personas, submission: Submission, memory_events: MemoryEventLog
) -> None:
    async def scenario() -> tuple[dict, dict, bool]:
        communicator = connect(personas.alice, submission.pk)
        assert (await communicator.connect(timeout=5))[0]
        await asyncio.sleep(0.05)
        following = stream_hub().streams
        await communicator.disconnect()
        for _ in range(100):  # the reader ends with its last stream
            if not stream_hub().reading:
                break
            await asyncio.sleep(0.01)
        return following, stream_hub().streams, stream_hub().reading

    following, after, reading = async_to_sync(scenario)()
    assert following == {submission.pk: 1}
    assert after == {} and not reading
    assert memory_events._listeners == set()  # the hub no longer listens to the store


@pytest.mark.parametrize(
    "query, after",
    [(b"", 0), (b"after=12", 12), (b"after=-3", 0), (b"after=abc", 0), (b"after=", 0), (b"x=1&after=7", 7)],
)
def test_parse_after(query: bytes, after: int) -> None:
    assert parse_after(query) == after


def test_a_queued_submission_waits_without_closing(personas: Personas, submission: Submission) -> None:
    async def scenario() -> bool:
        communicator = connect(personas.alice, submission.pk)
        assert (await communicator.connect(timeout=5))[0]
        quiet = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return quiet

    assert async_to_sync(scenario)()
    assert Submission.objects.get(pk=submission.pk).status == Status.QUEUED


def test_a_row_finished_before_logs_had_a_final_event_still_ends_cleanly(
    personas: Personas, submission: Submission
) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.DONE, verdict="failed", score=20.0, log=[]
    )

    async def scenario() -> tuple[list[dict], int]:
        communicator = connect(personas.alice, submission.pk)
        assert (await communicator.connect(timeout=5))[0]
        return await receive_all(communicator)

    events, code = async_to_sync(scenario)()
    assert [(m["seq"], m["payload"]) for m in events] == [
        (1, {"status": "done", "verdict": "failed", "score": 20.0})
    ]
    assert code == 1000


def test_a_batching_client_gets_the_waiting_events_as_one_array(
    personas: Personas, submission: Submission, memory_events: MemoryEventLog
) -> None:
    sink = grader_sink(memory_events, submission.pk)
    for line in range(4):
        sink.emit(EventKind.STDOUT, f"{line}\n")

    async def scenario() -> tuple[list, list, int]:
        communicator = connect(personas.alice, submission.pk, "?after=1&batch=1")
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        first = json.loads((await communicator.receive_output(timeout=5))["text"])
        memory_events.append(submission.pk, EventKind.STATUS, final_payload(verdict="failed", score=0.0))
        rest, code = await receive_all(communicator)
        return first, rest, code

    first, rest, code = async_to_sync(scenario)()
    assert isinstance(first, list) and [event["seq"] for event in first] == [2, 3, 4]  # the backlog, at once
    assert [event["payload"] for event in first] == ["1\n", "2\n", "3\n"]
    assert [[event["seq"] for event in message] for message in rest] == [[5]]
    assert rest[0][0]["payload"]["status"] == "done" and code == 1000


@pytest.mark.parametrize(("query", "batch"), [(b"batch=1", True), (b"after=3&batch=1", True), (b"", False),
                                              (b"batch=yes", False), (b"batch=0", False)])  # fmt: skip
def test_parse_batch(query: bytes, batch: bool) -> None:
    from huashen.grading.consumers import parse_batch

    assert parse_batch(query) is batch
