"""The client's live follower against a scripted WebSocket server: it resumes after a dropped connection
with `?after=<last seq>` (no line lost or shown twice), and falls back to polling when refused."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from huashen_cli.client import EXIT_USAGE, CliError
from huashen_cli.live import Follower
from huashen_cli.messages import Language

RESTART = 4503  # what a web server says when it shuts down: come back with ?after=N


def _event(seq: int, kind: str, payload: Any) -> str:
    return json.dumps({"type": "event", "seq": seq, "kind": kind, "payload": payload, "time": float(seq)})


class Script:
    """Per connection: what to send and how to close, and the paths the client asked for."""

    def __init__(self, connections: list[tuple[list[str], int]]) -> None:
        self.connections = connections
        self.paths: list[str] = []
        self.headers: list[Any] = []

    def handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.paths.append(connection.request.path)
        self.headers.append(connection.request.headers)  # case-insensitive
        messages, code = self.connections[len(self.paths) - 1]
        for message in messages:
            connection.send(message)
        connection.close(code)


@pytest.fixture
def scripted() -> Iterator[Any]:
    servers: list[Server] = []

    def start(script: Script) -> str:
        server = serve(script.handle, "127.0.0.1", 0)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.socket.getsockname()[1]}"

    yield start
    for server in servers:
        server.shutdown()


class FakeApi:
    """What the follower needs of ApiClient: the server, the language, and a detail to poll."""

    def __init__(self, server: str, detail: dict | None = None) -> None:
        self.server = server
        self.say = Language("en")
        self.detail = detail

    def get(self, path: str) -> dict:
        assert self.detail is not None, path
        return self.detail


def _follow(api: FakeApi) -> tuple[list[int], list[str]]:
    seen: list[int] = []
    notices: list[str] = []
    follower = Follower(api, "hs_secret", 7, lambda e: seen.append(e["seq"]), lambda s: None, notices.append)  # type: ignore[arg-type]
    follower.run()
    return seen, notices


def test_a_dropped_connection_is_resumed_after_the_last_event_seen(scripted) -> None:
    script = Script(
        [
            ([_event(1, "status", {"status": "running", "device": "cpu"}), _event(2, "stdout", "a\n")], RESTART),
            # the server replays from ?after=2; an event repeated by mistake is not shown twice
            ([_event(2, "stdout", "a\n"), _event(3, "stdout", "b\n"),
              _event(4, "status", {"status": "done", "verdict": "passed", "score": 100.0})], 1000),
        ]
    )  # fmt: skip
    seen, notices = _follow(FakeApi(scripted(script)))
    assert seen == [1, 2, 3, 4]
    assert script.paths == ["/ws/submissions/7/?after=0", "/ws/submissions/7/?after=2"]
    assert notices == ["Connection lost; reconnecting…"]
    assert all(headers["Authorization"] == "Token hs_secret" for headers in script.headers)
    assert all(headers["Origin"].startswith("http://127.0.0.1:") for headers in script.headers)


def test_a_refused_token_is_an_authentication_error(scripted) -> None:
    script = Script([([], 4401)])
    with pytest.raises(CliError) as refused:
        _follow(FakeApi(scripted(script)))
    assert refused.value.exit_code == EXIT_USAGE and "revoked" in refused.value.message


def test_without_the_socket_the_result_is_polled_and_its_log_shown(scripted) -> None:
    done = {"status": "done", "log": [json.loads(_event(1, "stdout", "x\n")),
                                      json.loads(_event(2, "status", {"status": "done"}))]}  # fmt: skip
    seen, notices = _follow(FakeApi(scripted(Script([([], 4404)])), detail=done))
    assert seen == [1, 2]
    assert notices and "polling" in notices[0]
