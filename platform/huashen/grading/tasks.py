"""Platform-queue tasks: thin wrappers that unpack a message and call one service."""

from typing import Any

from celery import shared_task

from huashen.grading.services import submission_mark_running, submission_record_result
from workers.protocol import RESULT_TASK, GradeResult


@shared_task(
    name=RESULT_TASK, acks_late=True, autoretry_for=(ConnectionError,), max_retries=5, retry_backoff=True
)
def record_result(result: dict[str, Any], log: list[dict[str, Any]] | None = None) -> None:
    submission_record_result(result=GradeResult.from_wire(result), log=log)


@shared_task(name="huashen.mark_running", acks_late=True)
def mark_running(submission_id: int) -> None:
    submission_mark_running(submission_id=submission_id)
