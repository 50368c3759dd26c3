"""The client's follower against a small WebSocket server of the test's own: a socket the server closes
with 4008 (this client fell behind) or 4503 (a server restart) is resumed from the last seq shown."""

import json
import threading
from collections.abc import Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

from huashen_cli.client import ApiClient
from huashen_cli.live import Follower
from huashen_cli.messages import Language


def _event(seq: int, kind: str = "stdout", payload: object = None) -> str:
    return json.dumps(
        {"type": "event", "seq": seq, "kind": kind, "payload": payload or f"{seq}\n", "time": 0}
    )


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []

    def handler(connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else ""
        paths.append(path)
        after = int(path.rpartition("after=")[2])
        if after == 0:  # the first connection: two lines, then "you fell behind"
            connection.send(_event(1))
            connection.send(_event(2))
            connection.close(4008)
        elif after == 2:  # resumed: a line, then a server restart
            connection.send(_event(2))  # a replay overlapping what was shown already
            connection.send(_event(3))
            connection.close(4503)
        else:
            connection.send(_event(4, "status", {"status": "done", "verdict": "passed", "score": 100.0}))
            connection.close(1000)

    with serve(handler, "127.0.0.1", 0) as websocket_server:
        thread = threading.Thread(target=websocket_server.serve_forever, daemon=True)
        thread.start()
        host, port = websocket_server.socket.getsockname()[:2]
        yield f"http://{host}:{port}", paths
        websocket_server.shutdown()


def test_the_follower_resumes_after_4008_and_4503_without_a_gap_or_a_repeat(
    server: tuple[str, list[str]],
) -> None:
    address, paths = server
    api = ApiClient(address, "hs_test", Language("en"))
    shown: list[int] = []
    try:
        Follower(
            api, "hs_test", 9, lambda event: shown.append(event["seq"]), lambda _s: None, lambda _m: None
        ).run()
    finally:
        api.close()
    assert shown == [1, 2, 3, 4]
    assert paths == ["/ws/submissions/9/?after=0", "/ws/submissions/9/?after=2", "/ws/submissions/9/?after=3"]
