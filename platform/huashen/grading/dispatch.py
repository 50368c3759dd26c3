"""Sending GradeRequests to whatever grades them: Celery graders (distributed) or the local executor."""

import logging

from django.conf import settings

from workers.protocol import GRADE_TASK, GradeRequest

logger = logging.getLogger(__name__)


def queue_for(request: GradeRequest) -> str:
    return "gpu" if request.device == "gpu" else "cpu"


def send_grade_request(request: GradeRequest) -> None:
    """Called on commit of the submission row, so a grader never sees an id the database has not got."""
    if settings.HUASHEN_EXECUTOR == "celery":
        from huashen.celery import app

        app.send_task(
            GRADE_TASK,
            args=[request.to_wire()],
            queue=queue_for(request),
            headers={"request_id": request.request_id},
        )
        logger.info("submission %s sent to queue %s", request.submission_id, queue_for(request))
    else:
        # The embedded executor arrives with the grading pipeline; until then the submission stays queued.
        logger.warning(
            "submission %s queued: no local grader is installed in this build", request.submission_id
        )
