"""The WebSocket a browser follows a submission on: a snapshot on connect, then every status change."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from huashen.errors import DomainError
from huashen.grading.events import group_name
from huashen.grading.selectors import submission_get_for_viewer


class SubmissionConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.submission_id = int(self.scope["url_route"]["kwargs"]["submission_id"])
        try:
            snapshot = await database_sync_to_async(self._snapshot)()
        except DomainError:
            await self.close(code=4404)
            return
        await self.channel_layer.group_add(group_name(self.submission_id), self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", **snapshot})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(group_name(self.submission_id), self.channel_name)

    async def submission_status(self, event: dict[str, Any]) -> None:
        snapshot = await database_sync_to_async(self._snapshot)()
        await self.send_json({"type": "status", **snapshot})

    def _snapshot(self) -> dict[str, Any]:
        submission = submission_get_for_viewer(user=self.scope["user"], submission_id=self.submission_id)
        return {
            "submission": submission.pk,
            "status": submission.status,
            "verdict": submission.verdict,
            "score": submission.score,
        }
