"""Publishing a submission's state changes to the browsers that follow it (Channels groups)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def group_name(submission_id: int) -> str:
    return f"submission-{submission_id}"


def publish_status(submission_id: int, status: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group_name(submission_id),
            {"type": "submission.status", "submission": submission_id, "status": status},
        )
    except Exception:  # a lost notification must never undo a stored result; followers re-read on reconnect
        logger.exception("could not publish the status of submission %s", submission_id)
