"""Runs and submits become activity events when their submission row is created."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from huashen.grading.models import Mode, Submission
from huashen.practice.models import ActivityKind
from huashen.practice.services import activity_record


@receiver(post_save, sender=Submission, dispatch_uid="practice-activity-on-submission")
def _record_submission_activity(
    sender: type[Submission], instance: Submission, created: bool, **kwargs: Any
) -> None:
    if not created or kwargs.get("raw"):
        return
    kind = ActivityKind.SUBMIT if instance.mode == Mode.SUBMIT else ActivityKind.RUN
    activity_record(user_id=instance.user_id, exercise_id=instance.exercise_id, kind=kind)
