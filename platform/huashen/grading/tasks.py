"""Platform-queue tasks: thin wrappers that unpack a message and call one service."""

from typing import Any

from celery import shared_task

from huashen.grading.eventlog import EventLogUnavailable
from huashen.grading.services import submission_mark_running, submission_record_result, submissions_reap
from workers.logs import log_context
from workers.protocol import RESULT_TASK, GradeResult

REAP_TASK = "huashen.reap"


@shared_task(
    name=RESULT_TASK,
    acks_late=True,
    autoretry_for=(ConnectionError, EventLogUnavailable),
    max_retries=5,
    retry_backoff=True,
)
def record_result(result: dict[str, Any]) -> None:
    """Graders send only the result; the log is read from the event store (retried while it is away)."""
    grade_result = GradeResult.from_wire(result)
    with log_context(request_id=grade_result.request_id or None, submission_id=grade_result.submission_id):
        submission_record_result(result=grade_result)


@shared_task(name="huashen.mark_running", acks_late=True)
def mark_running(submission_id: int) -> None:
    submission_mark_running(submission_id=submission_id)


@shared_task(name=REAP_TASK, ignore_result=True)
def reap() -> int:
    """Run by beat every GRADING_REAP_INTERVAL_SECONDS on the platform worker (`-B`)."""
    return submissions_reap()
