"""How a new Submit reaches the comparison: a low-priority task on the platform queue, sent on commit.

Never on a grader's queue: graders have no database. Kombu's Redis transport polls priority step 0
first, so recording results (step 0) always goes before a waiting comparison (step 9). Without Celery
(embedded mode) the comparison runs in the committing thread. A failure is logged and never undoes
or delays the submission; `cohort_scan` (the page's button, `manage.py similarity_scan`) catches up.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from huashen.grading.models import Mode, Purpose

logger = logging.getLogger(__name__)

COMPARE_TASK = "huashen.similarity_compare"
SCAN_TASK = "huashen.similarity_scan"
PLATFORM_QUEUE = "platform"
LOW_PRIORITY = 9


def on_submission_created(*, submission_id: int, mode: str, purpose: str, **_kwargs: Any) -> None:
    if mode == Mode.SUBMIT and purpose == Purpose.ATTEMPT:
        transaction.on_commit(lambda: send_compare(submission_id))


def _send(task: str, args: list[Any]) -> None:
    from huashen.celery import app

    app.send_task(
        task,
        args=args,
        queue=PLATFORM_QUEUE,
        priority=LOW_PRIORITY,
        retry=True,
        retry_policy={"max_retries": 2},
    )


def send_compare(submission_id: int) -> None:
    try:
        if settings.HUASHEN_EXECUTOR == "celery":
            _send(COMPARE_TASK, [submission_id])
        else:
            from huashen.similarity.services import submission_compare

            submission_compare(submission_id=submission_id)
    except Exception:
        logger.exception("similarity comparison of submission %s not done", submission_id)


def send_scan(*, cohort_id: int, exercise_id: int) -> None:
    """A whole cohort's trial, compared again (the page's button)."""
    if settings.HUASHEN_EXECUTOR == "celery":
        _send(SCAN_TASK, [cohort_id, exercise_id])
    else:
        from huashen.accounts.models import Cohort
        from huashen.curriculum.models import Exercise
        from huashen.similarity.services import cohort_scan

        cohort_scan(cohort=Cohort.objects.get(pk=cohort_id), exercise=Exercise.objects.get(pk=exercise_id))
