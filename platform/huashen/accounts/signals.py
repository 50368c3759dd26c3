"""Events other apps may follow without the accounts path knowing them.

`student_joined` is sent after the transaction that added a student to a cohort commits, with
`cohort_id`, `student_id` and `username`. Receivers must not raise: the membership is committed already.
"""

from django.dispatch import Signal

student_joined = Signal()
