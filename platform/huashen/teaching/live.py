"""Live matrix cells: a progress change is pushed to the channel-layer group of each of the student's cohorts.

Why a channel layer and not polling: with the Redis channel layer (the distributed shape) a group message
sent by whichever process recorded the result (the platform worker, any web process for a review)
reaches the matrix sockets held by every web process. In embedded mode the in-memory layer serves the
one process there is. Sent after commit, so a browser that reloads on the message sees the new row.

Each web process subscribes once per cohort, not once per socket (`MatrixHub`): the first matrix socket
of a cohort adds the process's own channel to the cohort's group, the last one removes it, and one task
receives the process's cell messages, encodes each once and hands it to every local socket of that
cohort. A group message then costs one delivery per process, however many instructors watch.
"""

import asyncio
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from huashen.teaching.selectors import matrix_cell_for, student_cohort_ids

logger = logging.getLogger(__name__)


def matrix_group(cohort_id: int) -> str:
    return f"cohort-matrix-{cohort_id}"


Deliver = Callable[[str], Awaitable[None]]
# channels_redis forgets a group member after a day (its group_expiry): a long-lived subscription rejoins.
REJOIN_SECONDS = 3600.0


class MatrixHub:
    """One event loop's (one web process's) subscriptions to cohorts' matrix groups."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.channel: str | None = None
        self._sockets: dict[int, set[Deliver]] = {}
        self._joining: dict[int, asyncio.Future[None]] = {}
        self._receiver: asyncio.Task[None] | None = None

    @property
    def cohorts(self) -> dict[int, int]:
        """Subscribed cohorts and their local socket counts (for tests)."""
        return {cohort_id: len(sockets) for cohort_id, sockets in self._sockets.items()}

    async def join(self, cohort_id: int, deliver: Deliver) -> None:
        if self.channel is None:
            self.channel = await self.layer.new_channel(prefix="matrix-hub.")
        sockets = self._sockets.setdefault(cohort_id, set())
        sockets.add(deliver)
        if cohort_id not in self._joining:
            self._joining[cohort_id] = asyncio.ensure_future(
                self.layer.group_add(matrix_group(cohort_id), self.channel)
            )
        try:
            await asyncio.shield(self._joining[cohort_id])
        except BaseException:
            self.leave(cohort_id, deliver)
            raise
        if self._receiver is None or self._receiver.done():
            self._receiver = asyncio.ensure_future(self._receive())

    def leave(self, cohort_id: int, deliver: Deliver) -> None:
        sockets = self._sockets.get(cohort_id)
        if sockets is None:
            return
        sockets.discard(deliver)
        if sockets:
            return
        del self._sockets[cohort_id]
        self._joining.pop(cohort_id, None)
        if self.channel is not None:
            _detached(self.layer.group_discard(matrix_group(cohort_id), self.channel))
        if not self._sockets and self._receiver is not None:
            self._receiver.cancel()  # channel layers' receive is made to be cancelled
            self._receiver = None

    async def _receive(self) -> None:
        assert self.channel is not None
        rejoin = asyncio.get_running_loop().time() + REJOIN_SECONDS
        while self._sockets:
            message = await self.layer.receive(self.channel)
            if asyncio.get_running_loop().time() > rejoin:
                rejoin += REJOIN_SECONDS
                for cohort_id in list(self._sockets):
                    _detached(self.layer.group_add(matrix_group(cohort_id), self.channel))
            if message.get("type") == "matrix.cell":
                text = json.dumps({"type": "cell", **message["cell"]})
            elif message.get("type") == "matrix.student":
                text = json.dumps({"type": "student", **message["student"]})
            else:
                continue
            sockets = self._sockets.get(message.get("cohort", 0))
            if not sockets:
                continue
            for deliver in list(sockets):
                try:
                    await deliver(text)
                except Exception:  # one closed socket must not keep the cell from the others
                    logger.debug("a matrix socket did not take a cell", exc_info=True)


_tasks: set["asyncio.Future[Any]"] = set()


def _detached(coroutine: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MatrixHub]" = weakref.WeakKeyDictionary()


def matrix_hub() -> MatrixHub | None:
    """The running loop's hub on the default channel layer (None when no layer is configured)."""
    layer = get_channel_layer()
    if layer is None:
        return None
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:
        hub = _hubs[loop] = MatrixHub(layer)
    return hub


def push_matrix_cell(sender: Any, *, user_id: int, exercise_id: int, **kwargs: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    cohort_ids = student_cohort_ids(user_id=user_id)
    if not cohort_ids:
        return
    cell = matrix_cell_for(user_id=user_id, exercise_id=exercise_id)
    for cohort_id in cohort_ids:
        async_to_sync(layer.group_send)(
            matrix_group(cohort_id), {"type": "matrix.cell", "cohort": cohort_id, "cell": cell}
        )


def push_matrix_student(
    sender: Any, *, cohort_id: int, student_id: int, username: str, **kwargs: Any
) -> None:
    """A student who joined a cohort: its matrix sockets add the row (every cell "none") without a reload."""
    layer = get_channel_layer()
    if layer is None:
        return
    student = {"student": student_id, "username": username}
    async_to_sync(layer.group_send)(
        matrix_group(cohort_id), {"type": "matrix.student", "cohort": cohort_id, "student": student}
    )
