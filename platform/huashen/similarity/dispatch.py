"""How a new Submit reaches the comparison: once it is finished (graded, reaped or failed for good: the
code is the student's work whatever the verdict), a low-priority task on the platform queue.

Never on a grader's queue: graders have no database. Kombu's Redis transport polls priority step 0
first, so recording results (step 0) always goes before a waiting comparison (step 9). Without Celery
(embedded mode) it runs in the thread that recorded the result. A failure is logged and never undoes
or delays the submission; `cohort_scan` (the page's button, `manage.py similarity_scan`) catches up.
"""

import logging
from typing import Any

from django.conf import settings

from huashen.grading.models import Mode, Purpose
from huashen.similarity.tasks import COMPARE_TASK, SCAN_TASK, compare_submission, scan_cohort

logger = logging.getLogger(__name__)

PLATFORM_QUEUE = "platform"
LOW_PRIORITY = 9


def on_submission_finished(*, submission_id: int, mode: str, purpose: str, **_kwargs: Any) -> None:
    """`submission_finished` is sent after the result's transaction committed: the row is there to read."""
    if mode == Mode.SUBMIT and purpose == Purpose.ATTEMPT and settings.SIMILARITY_ON_SUBMIT:
        send_compare(submission_id)


def send_to_broker(task: str, args: list[Any]) -> None:
    from huashen.celery import app

    app.send_task(
        task,
        args=args,
        queue=PLATFORM_QUEUE,
        priority=LOW_PRIORITY,
        retry=True,
        retry_policy={"max_retries": 2},
    )


def run_here(task: str, args: list[Any]) -> None:
    """What the task would do, in this process (embedded mode)."""
    {COMPARE_TASK: compare_submission, SCAN_TASK: scan_cohort}[task](*args)


def _run_or_send(task: str, args: list[Any]) -> None:
    if settings.HUASHEN_EXECUTOR == "celery":
        send_to_broker(task, args)
    else:
        run_here(task, args)


def send_compare(submission_id: int) -> None:
    try:
        _run_or_send(COMPARE_TASK, [submission_id])
    except Exception:
        logger.exception("similarity comparison of submission %s not done", submission_id)


def send_scan(*, cohort_id: int, exercise_id: int) -> None:
    """A whole cohort's trial, compared again (the page's button)."""
    _run_or_send(SCAN_TASK, [cohort_id, exercise_id])
