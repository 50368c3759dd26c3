"""Live matrix cells: a progress change is pushed to the channel-layer group of each of the student's cohorts.

Why a channel layer and not polling: with the Redis channel layer (the distributed shape) a group message
sent by whichever process recorded the result (the platform worker, any web process for a review)
reaches the matrix sockets held by every web process. In embedded mode the in-memory layer serves the
one process there is. Sent after commit, so a browser that reloads on the message sees the new row.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.dispatch import receiver

from huashen.grading import services as grading_services
from huashen.grading.models import Submission
from huashen.grading.signals import progress_changed
from huashen.teaching.selectors import matrix_cell_for, student_cohort_ids

logger = logging.getLogger(__name__)


def matrix_group(cohort_id: int) -> str:
    return f"cohort-matrix-{cohort_id}"


@receiver(progress_changed, dispatch_uid="teaching-matrix-live")
def push_matrix_cell(sender: Any, *, user_id: int, exercise_id: int, **kwargs: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    cohort_ids = student_cohort_ids(user_id=user_id)
    if not cohort_ids:
        return
    cell = matrix_cell_for(user_id=user_id, exercise_id=exercise_id)
    for cohort_id in cohort_ids:
        async_to_sync(layer.group_send)(matrix_group(cohort_id), {"type": "matrix.cell", "cell": cell})


def _is_regrade_rerun(submission: Submission) -> bool:
    from huashen.teaching.models import Regrade

    return Regrade.objects.filter(rerun_id=submission.pk).exists()


if _is_regrade_rerun not in grading_services.uncounted_submission_tests:
    grading_services.uncounted_submission_tests.append(_is_regrade_rerun)
