"""A server shutting down closes the sockets still following a run with 4503 (service restart), so the
browser reconnects at once with ?after=<last seq> instead of seeing a dropped connection."""

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from huashen.asgi import websocket_routes
from huashen.grading import dispatch
from huashen.grading.consumers import SERVICE_RESTART
from huashen.grading.eventlog import MemoryEventLog
from huashen.grading.models import Submission
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from tests.sockets import refusal
from workers.protocol import EventKind

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


@pytest.fixture
def running(personas: Personas, curriculum: dict, memory_events: MemoryEventLog) -> Submission:
    submission = submission_create(
        user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
    )
    memory_events.append(submission.pk, EventKind.STATUS, {"status": "running"})
    memory_events.append(submission.pk, EventKind.STDOUT, "epoch 1\n")
    return submission


def test_a_cancelled_follower_closes_with_service_restart(personas: Personas, running: Submission) -> None:
    async def scenario() -> tuple[list[int], dict]:
        communicator = WebsocketCommunicator(URLRouter(websocket_routes), f"/ws/submissions/{running.pk}/")
        communicator.scope["user"] = personas.alice
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        seqs = [(await communicator.receive_json_from(timeout=5))["seq"] for _ in range(2)]
        communicator.future.cancel()  # what daphne does to every connection on SIGTERM
        with pytest.raises(asyncio.CancelledError):
            await communicator.future
        return seqs, communicator.output_queue.get_nowait()

    seqs, closing = async_to_sync(scenario)()
    assert seqs == [1, 2]
    assert closing == {"type": "websocket.close", "code": SERVICE_RESTART}


def test_a_finished_socket_is_not_closed_twice(personas: Personas, running: Submission) -> None:
    async def scenario() -> list[dict]:
        communicator = WebsocketCommunicator(
            URLRouter(websocket_routes), f"/ws/submissions/{running.pk + 999}/"
        )
        communicator.scope["user"] = personas.alice
        assert await refusal(communicator) == ("closed", 4404)
        communicator.future.cancel()
        with pytest.raises(asyncio.CancelledError):
            await communicator.future
        leftovers = []
        while not communicator.output_queue.empty():
            leftovers.append(communicator.output_queue.get_nowait())
        return leftovers

    assert not [m for m in async_to_sync(scenario)() if m.get("code") == SERVICE_RESTART]


@pytest.mark.integration  # starts a daphne process
def test_daphne_sends_service_restart_on_sigterm(
    personas: Personas, running: Submission, tmp_path: Path
) -> None:
    """A real daphne: its SIGTERM handler cancels the applications before the reactor drops the sockets."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    if not os.environ.get("DATABASE_URL"):
        pytest.fail("this test shares its database with a daphne process: it needs DATABASE_URL (PostgreSQL)")
    from django.db import connection

    database = connection.settings_dict
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": "",  # the in-memory event store: the run stays "running" with no events to come
        "HUASHEN_EXECUTOR": "celery",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    import subprocess

    log = (tmp_path / "daphne.log").open("w")
    daphne = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "huashen.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        client = Client()
        client.force_login(personas.alice)
        cookie = client.cookies["sessionid"].value
        with connect(
            f"ws://127.0.0.1:{port}/ws/submissions/{running.pk}/",
            additional_headers={"Cookie": f"sessionid={cookie}", "Origin": f"http://127.0.0.1:{port}"},
            open_timeout=20,
        ) as follower:
            time.sleep(1.0)  # following now: the run has no further events
            daphne.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    json.loads(follower.recv(timeout=20))
        assert closed.value.rcvd is not None, (tmp_path / "daphne.log").read_text()
        assert closed.value.rcvd.code == SERVICE_RESTART
        assert daphne.wait(timeout=30) == 0
    finally:
        if daphne.poll() is None:
            daphne.kill()
            daphne.wait()
        log.close()
