"""Platform-queue tasks: thin wrappers that unpack a message and call one service.

Each owns its retry policy: recording a result or a "running" note rides out a database or Redis outage
(`outages.through_outages`) and, if the outage outlasts its patience, puts the message back on the queue
(`Reject(requeue=True)`): with `acks_late` a message is acknowledged only once the service succeeded,
so a result is never acknowledged into oblivion. Both services are idempotent, so a repeat is harmless.
"""

from typing import Any

from celery import shared_task
from celery.exceptions import Reject
from django.conf import settings

from huashen.grading.dispatch import dispatch_sweep
from huashen.grading.outages import StillUnavailable, through_outages
from huashen.grading.results import submission_mark_running, submission_record_result, submissions_reap
from huashen.grading.services import submissions_recover
from workers.logs import log_context
from workers.protocol import MARK_RUNNING_TASK, RESULT_TASK, GradeResult

REAP_TASK = "huashen.reap"
DISPATCH_SWEEP_TASK = "huashen.dispatch_sweep"


@shared_task(name=RESULT_TASK, acks_late=True, reject_on_worker_lost=True)
def record_result(result: dict[str, Any]) -> None:
    """Graders send only the result; the log is read from the event store (waited for while it is away)."""
    grade_result = GradeResult.from_wire(result)
    with log_context(request_id=grade_result.request_id or None, submission_id=grade_result.submission_id):
        try:
            through_outages(
                lambda: submission_record_result(result=grade_result),
                what=f"recording the result of submission {grade_result.submission_id}",
                patience_seconds=settings.GRADING_RECORD_PATIENCE_SECONDS,
            )
        except StillUnavailable as error:
            raise Reject(str(error), requeue=True) from error


@shared_task(name=MARK_RUNNING_TASK, acks_late=True, reject_on_worker_lost=True)
def mark_running(submission_id: int, claim: int = 0) -> None:
    try:
        through_outages(
            lambda: submission_mark_running(submission_id=submission_id, claim=claim),
            what=f"marking submission {submission_id} running",
            patience_seconds=settings.GRADING_RECORD_PATIENCE_SECONDS,
        )
    except StillUnavailable as error:
        raise Reject(str(error), requeue=True) from error


@shared_task(name=REAP_TASK, ignore_result=True)
def reap() -> int:
    """Run by beat every GRADING_REAP_INTERVAL_SECONDS on the platform worker (`-B`)."""
    return submissions_reap()


@shared_task(name=DISPATCH_SWEEP_TASK, ignore_result=True)
def send_the_outbox() -> int:
    """Run by beat every GRADING_DISPATCH_SWEEP_SECONDS: send again what a dead grader held, then hand
    over what the on-commit send could not."""
    submissions_recover()
    return dispatch_sweep()
