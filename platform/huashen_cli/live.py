"""Following a submission: the WebSocket `/ws/submissions/<id>/?after=N`, with the REST API as fallback.

The server sends `{"type": "event", "seq", "kind", "payload", "time"}` for each event after N and closes
(1000) after the final status event `{"status": "done", "verdict", "score"}`. A dropped connection is
resumed with the last seq seen, so no line is shown twice; 4401 means the token was refused, 4404 that
the submission is not ours to see. If the socket cannot be used at all, the result is polled instead.
"""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

from huashen_cli.client import EXIT_USAGE, ApiClient, CliError

UNAUTHORIZED = 4401
NOT_FOUND = 4404
RECONNECTS = 5

Event = dict[str, Any]


def websocket_url(server: str, submission_id: int, after: int) -> str:
    parts = urlsplit(server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + f"/ws/submissions/{submission_id}/"
    return urlunsplit((scheme, parts.netloc, path, f"after={after}", ""))


def is_final(event: Event) -> bool:
    payload = event.get("payload")
    return event.get("kind") == "status" and isinstance(payload, dict) and payload.get("status") == "done"


class Follower:
    """Calls `on_event` for each event in order, and `on_wait(seconds)` about once a second while quiet."""

    def __init__(
        self,
        api: ApiClient,
        token: str,
        submission_id: int,
        on_event: Callable[[Event], None],
        on_wait: Callable[[int], None],
        on_notice: Callable[[str], None],
    ) -> None:
        self.api = api
        self.token = token
        self.submission_id = submission_id
        self.on_event = on_event
        self.on_wait = on_wait
        self.on_notice = on_notice
        self.seen = 0
        self.started = time.monotonic()

    def run(self) -> None:
        try:
            asyncio.run(self._follow())
        except _Unavailable as unavailable:
            self.on_notice(self.api.say("live_unavailable", reason=unavailable.reason))
            self._poll()

    async def _follow(self) -> None:
        attempts = 0
        while True:
            try:
                if await self._one_connection():
                    return
                attempts = 0  # a clean close before the end: the server went away; resume
            except (OSError, InvalidHandshake, TimeoutError) as error:
                if isinstance(error, InvalidStatus) and error.response.status_code in (403, 404):
                    raise _Unavailable(f"HTTP {error.response.status_code}") from None
                attempts += 1
                if attempts > RECONNECTS:
                    raise _Unavailable(str(error) or type(error).__name__) from None
            self.on_notice(self.api.say("reconnecting"))
            await asyncio.sleep(min(2.0, 0.25 * 2**attempts))

    async def _one_connection(self) -> bool:
        """True once the final event is in; False when the connection ended early (resume)."""
        url = websocket_url(self.api.server, self.submission_id, self.seen)
        origin = Origin(self.api.server)  # the server checks it against its allowed hosts
        async with connect(
            url, additional_headers={"Authorization": f"Token {self.token}"}, origin=origin, open_timeout=15
        ) as socket:
            while True:
                try:
                    raw = await asyncio.wait_for(socket.recv(), timeout=1.0)
                except TimeoutError:
                    self.on_wait(int(time.monotonic() - self.started))
                    continue
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    if code == UNAUTHORIZED:
                        raise CliError(self.api.say("bad_token"), EXIT_USAGE) from None
                    if code == NOT_FOUND:
                        raise _Unavailable("4404") from None
                    return False
                event = json.loads(raw)
                if event.get("type") != "event" or int(event.get("seq", 0)) <= self.seen:
                    continue
                self.seen = int(event["seq"])
                self.on_event(event)
                if is_final(event):
                    return True

    def _poll(self) -> None:
        """Without a socket: wait for the result over HTTP, then show the stored log."""
        while True:
            submission = self.api.get(f"submissions/{self.submission_id}/")
            if submission["status"] == "done":
                for event in submission.get("log") or []:
                    if int(event.get("seq", 0)) > self.seen:
                        self.seen = int(event["seq"])
                        self.on_event(event)
                return
            self.on_wait(int(time.monotonic() - self.started))
            time.sleep(1.0)


class _Unavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
