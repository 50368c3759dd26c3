"""Events other apps may follow without the grading path knowing them.

`progress_changed` is sent after the transaction that changed a student's ExerciseProgress commits
(a counted result, a review), with `user_id` and `exercise_id`. Receivers must not raise: the change is
committed already and a failing receiver is only logged.
"""

from django.dispatch import Signal

progress_changed = Signal()
