"""The live progress matrix: `/ws/cohorts/<id>/matrix/`.

On connect the one cohort access check runs (`cohort_get_for_instructor`); a user who does not teach the
cohort is closed with 4404, like the submission socket. Then the socket joins the cohort's channel-layer
group and forwards each changed cell as `{"type": "cell", "student", "exercise", "state", "best_score",
"attempts", "last_submitted_at"}` (see huashen.teaching.live for who sends them and why a group).
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from huashen.accounts.selectors import cohort_get_for_instructor
from huashen.errors import DomainError
from huashen.teaching.live import matrix_group

NOT_FOUND = 4404


class MatrixConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

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
        self.group = matrix_group(cohort_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """The browser has nothing to say on this socket; whatever it sends (even not JSON) is ignored."""

    async def matrix_cell(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "cell", **event["cell"]})
