"""Events other apps may follow without the grading path knowing them.

`progress_changed` and `submission_finished` are sent after the transaction that caused them commits, so a
receiver sees the rows it is told about; `submission_created` is sent inside the creating transaction, so
what its receivers write commits or rolls back with the submission. A failing receiver is only logged:
it never undoes a grading. Apps subscribe in their `AppConfig.ready()`, in plain sight.

- `progress_changed(user_id, exercise_id)`: a student's ExerciseProgress changed (a counted result, a
  Run's activity, a review).
- `submission_created(submission_id, user_id, exercise_id, mode)`: a submission row was stored
  (a Run, a Submit or a regrade's re-run; `purpose` tells which).
- `submission_finished(submission_id, user_id, exercise_id, mode, purpose, verdict, score)`: a submission
  is done (graded, reaped or failed for good).
"""

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

progress_changed = Signal()
submission_created = Signal()
submission_finished = Signal()


def send_now(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send `signal` to every receiver; a receiver that raises is logged, the others still run."""
    for receiver, response in signal.send_robust(sender=sender, **kwargs):
        if isinstance(response, Exception):
            logger.error("grading signal receiver %s failed", receiver, exc_info=response)


def send_on_commit(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send `signal` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_now(signal, sender, **kwargs))
