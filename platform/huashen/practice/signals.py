"""Runs and submits become activity events when grading announces their submission row.

Connected in `PracticeConfig.ready()`. `submission_created` is sent inside the creating transaction, so
the event commits or rolls back with the submission; a regrade's re-run is staff work, not the student's.
"""

from typing import Any

from huashen.grading.models import Mode, Purpose
from huashen.practice.models import ActivityKind
from huashen.practice.services import activity_record


def record_submission_activity(
    sender: Any, *, user_id: int, exercise_id: int, mode: str, purpose: str, **kwargs: Any
) -> None:
    if purpose == Purpose.RERUN or mode == Mode.TRY:
        return  # staff work, or the Try cell (never sent today: kept out should it ever be)
    kind = ActivityKind.SUBMIT if mode == Mode.SUBMIT else ActivityKind.RUN
    activity_record(user_id=user_id, exercise_id=exercise_id, kind=kind)
