"""Grading events that send a score to the LMS: a pass, a review's final score, a regrade.

Each receiver is cheap for students who never launched from an LMS (one indexed query) and only queues:
the sending is a platform task (`huashen.lti.tasks`).
"""

import functools
from typing import Any

from django.db import transaction
from lti_tool.models import LtiUser

from huashen.curriculum.models import GradingMode
from huashen.grading.models import ExerciseProgress, Submission
from huashen.lti import services, tasks


def _queue(**kwargs: Any) -> None:
    """Queue the score (once per column, submission and score) and send it when this commits."""
    with transaction.atomic():
        for publication in services.scores_queue(**kwargs):
            transaction.on_commit(functools.partial(tasks.send_score_soon, publication.pk))


def _from_an_lms(user_id: int) -> bool:
    return LtiUser.objects.filter(auth_user_id=user_id).exists()


def on_submission_finished(
    sender: Any, *, submission_id: int, user_id: int, exercise_id: int, mode: str, purpose: str,
    verdict: str, score: float | None, **_kwargs: Any,
) -> None:  # fmt: skip
    if mode != "submit" or not _from_an_lms(user_id):
        return
    if purpose != "rerun" and verdict != "passed":
        return
    submission = Submission.objects.select_related("version").filter(pk=submission_id).first()
    if submission is None or submission.version.grading != GradingMode.AUTO:
        return  # hybrid and manual trials are scored by their review, not by their checks
    if purpose == "rerun":  # a regrade: the re-run's score replaces the one the LMS holds
        _queue(
            user_id=user_id, exercise_id=exercise_id, score=float(score or 0.0),
            submission_id=submission_id, reason="regrade",
        )  # fmt: skip
        return
    progress = ExerciseProgress.objects.filter(user_id=user_id, exercise_id=exercise_id).first()
    best = progress.best_score if progress else float(score or 0.0)
    _queue(user_id=user_id, exercise_id=exercise_id, score=best, submission_id=submission_id, reason="pass")


def on_progress_changed(sender: Any, *, user_id: int, exercise_id: int, **_kwargs: Any) -> None:
    """A review sets a hybrid or manual trial's score: send the student's best reviewed score."""
    if not _from_an_lms(user_id):
        return
    from huashen.teaching.models import Review

    review = (
        Review.objects.filter(submission__user_id=user_id, submission__exercise_id=exercise_id)
        .order_by("-created_at", "-pk")
        .first()
    )
    if review is None:
        return
    progress = ExerciseProgress.objects.filter(user_id=user_id, exercise_id=exercise_id).first()
    if progress is None:
        return
    _queue(
        user_id=user_id, exercise_id=exercise_id, score=progress.best_score,
        submission_id=review.submission_id, reason="review",
    )  # fmt: skip
