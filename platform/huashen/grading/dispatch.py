"""Sending GradeRequests to whatever grades them: Celery graders (distributed) or the local executor."""

import logging

from django.conf import settings

from huashen.grading.selectors import graders_for_queue, graders_online
from workers.protocol import GRADE_TASK, GradeRequest

logger = logging.getLogger(__name__)


def queue_for(request: GradeRequest) -> str:
    """`gpu` for a GPU trial while a GPU grader is heartbeating; otherwise `cpu`.

    A GPU trial must still be gradable without a GPU (slower, on the CPU fallback): a request parked on a
    queue nobody consumes would only be found by the reaper, long after the student gave up waiting.
    """
    if request.device != "gpu":
        return "cpu"
    try:
        gpu_graders = graders_for_queue(graders_online(), "gpu")
    except Exception:  # routing must not fail a submission; the CPU queue is the safe answer
        logger.warning("could not read grader heartbeats; routing by fallback", exc_info=True)
        gpu_graders = []
    if gpu_graders:
        return "gpu"
    logger.warning(
        "submission %s: no gpu grader is online; trial %s falls back to the cpu queue",
        request.submission_id,
        request.trial,
    )
    return "cpu"


def send_grade_request(request: GradeRequest) -> None:
    """Called on commit of the submission row, so a grader never sees an id the database has not got."""
    if settings.HUASHEN_EXECUTOR == "celery":
        from huashen.celery import app

        queue = queue_for(request)
        app.send_task(
            GRADE_TASK,
            args=[request.to_wire()],
            queue=queue,
            headers={"request_id": request.request_id},
        )
        logger.info("submission %s sent to queue %s", request.submission_id, queue)
    else:
        from huashen.grading import embedded  # imports the services, which import this module

        embedded.submit(request)
        logger.info("submission %s handed to the local executor", request.submission_id)


# Kombu's Redis transport keeps one list per priority step (0, 3, 6, 9) and a grader's BRPOP asks the
# step-0 list first: a live submission (no priority: step 0) is always taken before any waiting regrade.
REGRADE_PRIORITY = 9


def send_regrade_request(request: GradeRequest) -> None:
    """A regrade's re-run: the same queue as live work, at the lowest priority (DMOJ-style rejudges that
    never starve live submissions). The local executor has one queue and runs it in turn."""
    if settings.HUASHEN_EXECUTOR == "celery":
        from huashen.celery import app

        queue = queue_for(request)
        app.send_task(
            GRADE_TASK,
            args=[request.to_wire()],
            queue=queue,
            priority=REGRADE_PRIORITY,
            headers={"request_id": request.request_id},
        )
        logger.info("regrade of submission %s sent to queue %s", request.submission_id, queue)
    else:
        from huashen.grading import embedded

        embedded.submit(request)
