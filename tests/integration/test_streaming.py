"""Live streaming over the real parts: a grader's RedisStreamSink writes a submission's events, the
WebSocket (full ASGI stack: session auth, origin check) replays and follows them over Redis Streams,
resumes with ?after=N, ends with the platform's final event, and the log lands in PostgreSQL.

Each xdist worker uses its own Redis database for streams: submission ids repeat across the workers'
test databases, so a shared keyspace would mix their streams.
"""

import asyncio
import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client, override_settings

from huashen.asgi import application
from huashen.grading import dispatch
from huashen.grading.eventlog import DONE_TTL_SECONDS, RedisEventLog, get_event_log
from huashen.grading.hub import stream_hub
from huashen.grading.models import Status, Submission
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.conftest import PASSWORD, Personas, SentRequests
from tests.sockets import refusal
from workers.events import RedisStreamSink
from workers.protocol import (
    HEARTBEAT_KEY_PREFIX,
    EventKind,
    GradeEvent,
    GradeRequest,
    GradeResult,
    Mode,
    Verdict,
    event_stream_key,
)

pytestmark = pytest.mark.usefixtures("_no_dispatch")

ROOT = Path(__file__).resolve().parents[2]
HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


@pytest.fixture
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


@pytest.fixture
def stream_redis(services: dict, settings: Any) -> redis.Redis:
    """A Redis database of this xdist worker's own, made the platform's REDIS_URL for the test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = 1 + int(worker.removeprefix("gw") or 0) % 15
    url = re.sub(r"/\d*$", f"/{index}", services["redis"])
    settings.REDIS_URL = url
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()


def _session_cookie(username: str) -> bytes:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def communicator(submission_id: int, cookie: bytes, query: str = "") -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/submissions/{submission_id}/{query}", headers=[(b"cookie", cookie), *HEADERS]
    )


async def receive_until_closed(socket: WebsocketCommunicator, timeout: float = 15) -> tuple[list[dict], int]:
    events = []
    while True:
        message = await socket.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return events, message.get("code", 1000)
        events.append(json.loads(message["text"]))


def submit(personas: Personas, curriculum: dict) -> Submission:
    return submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit")


@override_settings(ALLOWED_HOSTS=["testserver", "localhost"])
def test_the_websocket_replays_and_follows_a_grader_stream_to_the_final_event(
    stream_redis: redis.Redis, transactional_db: None, personas: Personas, curriculum: dict
) -> None:
    submission = submit(personas, curriculum)
    sink = RedisStreamSink(stream_redis, submission.pk)  # what a grader process writes with
    sink.emit(EventKind.STATUS, {"status": "running", "device": "cpu"})
    sink.emit(EventKind.STDOUT, "epoch 1\n")
    cookie = _session_cookie("alice")

    async def scenario() -> tuple[list[dict], list[dict], list[dict], int]:
        socket = communicator(submission.pk, cookie)
        connected, code = await socket.connect(timeout=10)
        assert connected, code
        replayed = [await socket.receive_json_from(timeout=10) for _ in range(2)]
        assert await socket.receive_nothing(timeout=0.3)  # caught up: waiting on XREAD BLOCK
        await asyncio.to_thread(sink.emit, EventKind.METRIC, {"step": 1, "metrics": {"loss": 0.5}})
        live = [await socket.receive_json_from(timeout=10)]
        result = GradeResult(submission_id=submission.pk, verdict=Verdict.FAILED, score=25.0)
        await database_sync_to_async(submission_record_result)(result=result)
        rest, code = await receive_until_closed(socket)
        return replayed, live, rest, code

    replayed, live, rest, code = async_to_sync(scenario)()
    assert [(m["type"], m["seq"], m["kind"]) for m in replayed] == [
        ("event", 1, "status"),
        ("event", 2, "stdout"),
    ]
    assert [(m["seq"], m["kind"], m["payload"]) for m in live] == [
        (3, "metric", {"step": 1, "metrics": {"loss": 0.5}})
    ]
    assert [(m["seq"], m["payload"]) for m in rest] == [
        (4, {"status": "done", "verdict": "failed", "score": 25.0})
    ]
    assert code == 1000

    # the log is in PostgreSQL, final event included, and the stream is left to expire
    submission.refresh_from_db()
    assert submission.status == Status.DONE
    stored = [GradeEvent.from_wire(wire) for wire in submission.log]
    assert [(e.seq, e.kind) for e in stored] == [
        (1, EventKind.STATUS), (2, EventKind.STDOUT), (3, EventKind.METRIC), (4, EventKind.STATUS),
    ]  # fmt: skip
    assert stored[1].payload == "epoch 1\n"
    assert 0 < stream_redis.ttl(event_stream_key(submission.pk)) <= DONE_TTL_SECONDS
    assert [e.seq for e in get_event_log().read(submission.pk)] == [1, 2, 3, 4]

    # bob may not follow alice's submission
    bob = _session_cookie("bob")

    async def as_bob() -> tuple[str, int | None]:
        return await refusal(communicator(submission.pk, bob), timeout=10)

    assert async_to_sync(as_bob)() == ("closed", 4404)


@override_settings(ALLOWED_HOSTS=["testserver", "localhost"])
def test_resuming_with_after_gets_exactly_the_rest_live_and_after_the_stream_expired(
    stream_redis: redis.Redis, transactional_db: None, personas: Personas, curriculum: dict
) -> None:
    submission = submit(personas, curriculum)
    sink = RedisStreamSink(stream_redis, submission.pk)
    for line in range(5):
        sink.emit(EventKind.STDOUT, f"line {line}\n")
    cookie = _session_cookie("alice")

    async def first_connection() -> list[int]:
        socket = communicator(submission.pk, cookie, "?after=2")
        assert (await socket.connect(timeout=10))[0]
        seen = [(await socket.receive_json_from(timeout=10))["seq"] for _ in range(3)]
        await socket.disconnect()  # the browser loses its connection mid-run
        return seen

    assert async_to_sync(first_connection)() == [3, 4, 5]
    sink.emit(EventKind.STDOUT, "line 5\n")  # written while nobody follows
    submission_record_result(
        result=GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0)
    )

    async def reconnect(query: str) -> tuple[list[int], int]:
        socket = communicator(submission.pk, cookie, query)
        assert (await socket.connect(timeout=10))[0]
        events, code = await receive_until_closed(socket)
        return [m["seq"] for m in events], code

    assert async_to_sync(reconnect)("?after=5") == ([6, 7], 1000)  # from the stream
    stream_redis.delete(event_stream_key(submission.pk))  # the stream expired
    assert async_to_sync(reconnect)("?after=3") == ([4, 5, 6, 7], 1000)  # from PostgreSQL
    assert async_to_sync(reconnect)("?after=7") == ([], 1000)


def test_gpu_routing_follows_real_heartbeats(stream_redis: redis.Redis, settings: Any) -> None:
    settings.HUASHEN_EXECUTOR = "celery"
    request = GradeRequest(
        submission_id=1, trial="t", content_hash="h", mode=Mode.SUBMIT, code="x", device="gpu"
    )
    assert dispatch.queue_for(request) == "cpu"  # no GPU grader: the CPU fallback
    beat = {"hostname": "gpu-1", "queues": ["gpu"], "device": "gpu", "slots": 1, "load": 0.1, "time": 0}
    stream_redis.set(HEARTBEAT_KEY_PREFIX + "gpu-1", json.dumps(beat), ex=60)
    assert dispatch.queue_for(request) == "gpu"


@pytest.mark.django_db
def test_readyz_reads_real_heartbeats(stream_redis: redis.Redis, settings: Any) -> None:
    settings.HUASHEN_EXECUTOR = "celery"
    response = Client().get("/readyz")
    assert (response.status_code, response.json()["reasons"]) == (
        503,
        ["graders: none seen for the cpu queue"],
    )
    stale = {"hostname": "cpu-0", "queues": ["cpu"], "slots": 1, "time": time.time() - 3600}  # a hung beat
    stream_redis.set(HEARTBEAT_KEY_PREFIX + "cpu-0", json.dumps(stale), ex=60)
    assert Client().get("/readyz").status_code == 503
    beat = {
        "hostname": "cpu-1",
        "queues": ["cpu"],
        "device": "cpu",
        "slots": 2,
        "load": 0.1,
        "time": time.time(),
    }
    stream_redis.set(HEARTBEAT_KEY_PREFIX + "cpu-1", json.dumps(beat), ex=60)
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert (response.json()["database"], response.json()["redis"], response.json()["graders"]["cpu"]) == (
        "ok", "ok", 1,
    )  # fmt: skip


@override_settings(ALLOWED_HOSTS=["testserver", "localhost"])
def test_a_disconnected_follower_stops_reading_redis(
    stream_redis: redis.Redis, transactional_db: None, personas: Personas, curriculum: dict
) -> None:
    """The hub's reader is stopped by its last stream's last follower leaving, never by Task.cancel()
    (redis-py can swallow a cancel mid-XREAD): after a disconnect it must still end, and close its
    connection, promptly (its wake stream ends the blocked read)."""
    submission = submit(personas, curriculum)
    RedisStreamSink(stream_redis, submission.pk).emit(EventKind.STDOUT, "a\n")
    cookie = _session_cookie("alice")

    async def scenario() -> tuple[dict, bool, bool, bool]:
        socket = communicator(submission.pk, cookie)
        assert (await socket.connect(timeout=10))[0]
        await socket.receive_json_from(timeout=10)
        hub = stream_hub()
        following, reading = hub.streams, hub.reading
        await socket.disconnect()
        started = asyncio.get_running_loop().time()
        while hub.reading and asyncio.get_running_loop().time() - started < 5:
            await asyncio.sleep(0.05)
        return following, reading, hub.reading, bool(stream_redis.exists(hub.wake_key))

    following, reading, still_reading, wake_key_left = async_to_sync(scenario)()
    assert following == {submission.pk: 1} and reading
    assert not still_reading and not wake_key_left


@override_settings(ALLOWED_HOSTS=["testserver", "localhost"])
def test_followers_resume_after_a_redis_restart_mid_stream(
    services: dict, settings: Any, transactional_db: None, personas: Personas, curriculum: dict
) -> None:
    """Redis stops and starts again while sockets follow a run: the hub retries from the seqs it had,
    and every follower gets every event once, in order, without reconnecting."""
    directory = ROOT / "var" / f"svc-hub-restart-{uuid.uuid4().hex[:8]}"
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "start", str(directory)], check=True)
    try:
        env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (directory / "env").read_text().split("\n")
            if line
        )
        settings.REDIS_URL = env["REDIS_URL"]
        client = redis.Redis.from_url(env["REDIS_URL"])
        submission = submit(personas, curriculum)
        sink = RedisStreamSink(client, submission.pk)
        sink.emit(EventKind.STDOUT, "before\n")
        cookie = _session_cookie("alice")

        def restart() -> None:
            time.sleep(1.2)  # appendfsync everysec: what is older than a second survives the restart
            subprocess.run([str(directory / "redis-ctl"), "stop"], check=True)
            time.sleep(1.0)  # down for a while: the hub's reads fail and it retries
            subprocess.run([str(directory / "redis-ctl"), "start"], check=True)

        async def scenario() -> list[tuple[list[int], int]]:
            sockets = [communicator(submission.pk, cookie) for _ in range(3)]
            for socket in sockets:
                assert (await socket.connect(timeout=10))[0]
                assert (await socket.receive_json_from(timeout=10))["seq"] == 1
            await asyncio.to_thread(sink.emit, EventKind.STDOUT, "still up\n")
            await asyncio.to_thread(restart)
            await asyncio.to_thread(sink.emit, EventKind.STDOUT, "after the restart\n")
            await asyncio.to_thread(
                RedisEventLog(env["REDIS_URL"]).append,
                submission.pk,
                EventKind.STATUS,
                {"status": "done", "verdict": "passed", "score": 100.0},
            )
            results = []
            for socket in sockets:
                events, code = await receive_until_closed(socket, timeout=20)
                results.append(([m["seq"] for m in events], code))
            return results

        results = async_to_sync(scenario)()
        assert results == [([2, 3, 4], 1000)] * 3
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "stop", str(directory)], check=True)
