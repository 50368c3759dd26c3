"""The review queue: hybrid and manual trials' submissions a reviewer may grade, and their reviews."""

from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils.translation import gettext as _

from huashen.accounts.models import CohortMembership, Role, User
from huashen.curriculum.models import GradingMode
from huashen.errors import DomainError
from huashen.grading.models import Mode, Status, Submission, Verdict
from huashen.teaching.models import Review


def _not_found() -> DomainError:
    return DomainError("not_found", _("没有找到。"), status=404)


REVIEWED_MODES = (GradingMode.HYBRID, GradingMode.MANUAL)


def _reviewable() -> QuerySet[Submission]:
    """Submissions waiting for a review: finished Submit runs of a hybrid trial that passed its automatic
    checks, or of a manual trial (any verdict but ours to blame); only each student's latest per trial."""
    base = Submission.objects.filter(
        status=Status.DONE, mode=Mode.SUBMIT, version__grading__in=REVIEWED_MODES, regrade_of__isnull=True
    ).filter(Q(version__grading=GradingMode.MANUAL) | Q(verdict=Verdict.PASSED))
    base = base.exclude(verdict=Verdict.INTERNAL_ERROR)
    newer = base.filter(
        user_id=OuterRef("user_id"),
        exercise_id=OuterRef("exercise_id"),
        created_at__gt=OuterRef("created_at"),
    )
    return base.filter(review__isnull=True).exclude(Exists(newer))


def _in_scope(queryset: QuerySet[Submission], reviewer: User) -> QuerySet[Submission]:
    """Admins review everyone (so students in no cohort too); instructors the students of their cohorts."""
    if reviewer.role == Role.ADMIN:
        return queryset
    if reviewer.role != Role.INSTRUCTOR:
        return queryset.none()
    taught = CohortMembership.objects.filter(student_id=OuterRef("user_id"), cohort__instructors=reviewer)
    return queryset.filter(Exists(taught))


def review_queue(*, reviewer: User) -> QuerySet[Submission]:
    """What `reviewer` may review, oldest first."""
    return (
        _in_scope(_reviewable(), reviewer)
        .select_related("user", "exercise", "version")
        .order_by("created_at", "pk")
    )


def submission_get_for_reviewer(*, reviewer: User, submission_id: int) -> Submission:
    """The access check of the review form: a submission in `reviewer`'s queue, or 404."""
    submission = review_queue(reviewer=reviewer).filter(pk=submission_id).first()
    if submission is None:
        raise _not_found()
    return submission


def review_for_submission(*, submission: Submission) -> Review | None:
    return Review.objects.select_related("reviewer").filter(submission=submission).first()
