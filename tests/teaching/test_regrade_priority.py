"""With the real Redis broker: a regrade waiting in a queue is taken only after the live work behind it."""

import json
import uuid

import pytest

from huashen.celery import app
from huashen.grading import dispatch
from huashen.grading.dispatch import REGRADE_PRIORITY, send_grade_request  # the real one (conftest fakes it)
from workers.protocol import GradeRequest, Limits, Mode

pytestmark = pytest.mark.integration


def request(submission_id: int) -> GradeRequest:
    return GradeRequest(submission_id=submission_id, trial="tensor-basics", content_hash="h", mode=Mode.SUBMIT,
                        code="x = 1", limits=Limits(wall_seconds=30), device="cpu", request_id=str(uuid.uuid4()))  # fmt: skip


def test_live_submissions_are_taken_before_waiting_regrades(
    services: dict, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HUASHEN_EXECUTOR = "celery"
    queue = f"teaching-priority-{uuid.uuid4().hex[:8]}"  # private: no grader consumes it
    monkeypatch.setattr(dispatch, "queue_for", lambda grade_request: queue)

    send_grade_request(request(1), priority=REGRADE_PRIORITY)
    send_grade_request(request(2), priority=REGRADE_PRIORITY)
    send_grade_request(request(3))  # live work sent last

    taken = []
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        try:
            for _ in range(3):
                # basic_get reads a queue's lists in the transport's priority order, as a grader's BRPOP does
                message = channel.basic_get(queue)
                assert message is not None
                taken.append(json.loads(message.body)[0][0]["submission_id"])
                message.ack()
        finally:
            channel.queue_purge(queue)
    assert taken == [3, 1, 2]
