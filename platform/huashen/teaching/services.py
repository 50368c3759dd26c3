"""The write path for reviews and regrades."""

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from huashen.accounts.models import Role, User
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading.models import Mode, Status, Submission
from huashen.grading.results import progress_apply_review
from huashen.grading.services import submission_create_rerun
from huashen.teaching.models import Regrade, Review
from huashen.teaching.selectors import submission_get_for_reviewer

logger = logging.getLogger(__name__)

# A reviewed trial is passed with at least this final score (0..100).
REVIEW_PASS_SCORE = 60.0


def _rubric_points(rubric: list[dict[str, Any]], scores: dict[str, Any]) -> dict[str, int]:
    """Every criterion scored, each a whole number from 0 to its points; nothing else."""
    keys = {criterion["key"] for criterion in rubric}
    unknown = sorted(set(scores) - keys)
    if unknown:
        raise DomainError(
            "invalid", _("评分标准中没有这一项：%(key)s") % {"key": unknown[0]}, f"scores.{unknown[0]}"
        )
    clean = {}
    for criterion in rubric:
        key, points = criterion["key"], int(criterion["points"])
        value = scores.get(key)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError("required", _("请为每一项打分。"), f"scores.{key}")
        if not 0 <= value <= points:
            raise DomainError(
                "out_of_range",
                _("这一项的分数必须在 0 到 %(points)d 之间。") % {"points": points},
                f"scores.{key}",
            )
        clean[key] = value
    return clean


@transaction.atomic
def review_submit(*, reviewer: User, submission_id: int, scores: dict[str, Any], comment: str = "") -> Review:
    """Record `reviewer`'s rubric scores for a submission in their queue and update the student's progress.

    The final score is the rubric points earned as a percentage of the rubric's total. The trial's
    standing becomes the best final score of the student's reviews of it, passed from the first review
    that reached REVIEW_PASS_SCORE.
    """
    submission = submission_get_for_reviewer(reviewer=reviewer, submission_id=submission_id)
    # Lock the row: two reviewers submitting at once get one review and one clear conflict.
    Submission.objects.select_for_update().filter(pk=submission.pk).first()
    rubric = list(submission.version.rubric or [])
    if not rubric:
        raise DomainError("invalid", _("这个试炼没有评分标准。"), "scores")
    points = _rubric_points(rubric, scores)
    total = sum(int(criterion["points"]) for criterion in rubric)
    final = round(100.0 * sum(points.values()) / total, 2)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                submission=submission,
                reviewer=reviewer,
                scores=points,
                comment=comment.strip(),
                final_score=final,
            )
    except IntegrityError:
        raise DomainError("conflict", _("这份提交已经有人评审过了。"), status=409) from None
    reviews = Review.objects.filter(
        submission__user_id=submission.user_id, submission__exercise_id=submission.exercise_id
    )
    best = reviews.aggregate(best=Max("final_score"))["best"] or 0.0
    first_pass = reviews.filter(final_score__gte=REVIEW_PASS_SCORE).aggregate(at=Min("created_at"))["at"]
    progress_apply_review(
        user=submission.user, exercise=submission.exercise, score=best, passed_at=first_pass
    )
    logger.info("submission %s reviewed by %s: %s", submission.pk, reviewer.pk, final)
    return review


def regrade_start(*, requested_by: User, exercise: Exercise) -> list[Regrade]:
    """Re-run each student's latest counted submission of `exercise` against its current version.

    The re-runs go out at low priority (`dispatch.REGRADE_PRIORITY`), so live submissions are graded
    first. Each gets a Regrade row holding the old score; the new one is the re-run's own.
    """
    if requested_by.role != Role.ADMIN:
        raise DomainError("forbidden", _("只有管理员可以重新评测。"), status=403)
    if exercise.current_version is None:
        raise DomainError("not_found", _("没有这个试炼。"), status=404)
    latest_ids = (
        Submission.objects.filter(exercise=exercise, mode=Mode.SUBMIT, status=Status.DONE)
        .filter(regrade_of__isnull=True)
        .values("user_id")
        .annotate(latest=Max("pk"))
        .values_list("latest", flat=True)
    )
    regrades = []
    with transaction.atomic():
        for original in (
            Submission.objects.filter(pk__in=list(latest_ids))
            .select_related("exercise__current_version")
            .order_by("pk")
        ):
            rerun = submission_create_rerun(original=original)
            regrades.append(
                Regrade.objects.create(
                    exercise=exercise,
                    original=original,
                    rerun=rerun,
                    version=exercise.current_version,
                    requested_by=requested_by,
                    old_score=original.score,
                    old_verdict=original.verdict,
                )
            )
    logger.info("regrade of %s: %d submissions re-queued", exercise.slug, len(regrades))
    return regrades


def exercise_set_published(*, slug: str, published: bool) -> int:
    """Publish or hide a trial (retired ones stay hidden); how many rows changed."""
    return Exercise.objects.filter(slug=slug, retired=False).update(is_published=published)
