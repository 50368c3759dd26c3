"""The live progress matrix: `/ws/cohorts/<id>/matrix/`.

On connect the one cohort access check runs (`cohort_get_for_instructor`); a user who does not teach the
cohort is closed with 4404, like the submission socket. Then the socket joins its process's subscription
to the cohort (`huashen.teaching.live.MatrixHub`: one per cohort per process) and is sent each changed
cell as `{"type": "cell", "student", "exercise", "state", "best_score", "attempts", "last_submitted_at"}`
(see huashen.teaching.live for who sends them and why a group), and each student who joins the cohort
as `{"type": "student", "student", "username"}`.
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from huashen.accounts.selectors import cohort_get_for_instructor
from huashen.errors import DomainError
from huashen.teaching.live import matrix_hub

NOT_FOUND = 4404


class MatrixConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "huashen-no-channel-layer"  # the process's MatrixHub holds the one subscription
    cohort_id: int | None = None

    async def connect(self) -> None:
        cohort_id = int(self.scope["url_route"]["kwargs"]["cohort_id"])
        user = self.scope.get("user")
        try:
            if user is None or not user.is_authenticated:
                raise DomainError("not_found", "not found", status=404)
            await database_sync_to_async(cohort_get_for_instructor)(user=user, cohort_id=cohort_id)
        except DomainError:
            # Accepted first: a close before the accept reaches a browser as a bare HTTP 403.
            await self.accept()
            await self.close(code=NOT_FOUND)
            return
        hub = matrix_hub()
        if hub is not None:  # subscribed before the accept: a cell sent once connected is not missed
            await hub.join(cohort_id, self._deliver)
            self.cohort_id = cohort_id
        await self.accept()

    async def disconnect(self, code: int) -> None:
        hub = matrix_hub()
        if self.cohort_id is not None and hub is not None:
            hub.leave(self.cohort_id, self._deliver)
            self.cohort_id = None

    async def _deliver(self, text: str) -> None:
        await self.send(text_data=text)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """The browser has nothing to say on this socket; whatever it sends (even not JSON) is ignored."""
