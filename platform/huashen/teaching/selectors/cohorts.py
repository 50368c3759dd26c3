"""A cohort's roster, and the student, trial and submissions an instructor opens from it."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Count,
    Max,
    Q,
    QuerySet,
)
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, CohortMembership, User
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading.models import Mode, Submission


def _not_found() -> DomainError:
    return DomainError("not_found", _("没有找到。"), status=404)


@dataclass
class RosterEntry:
    student: User
    joined_at: dt.datetime
    passed: int
    last_activity: dt.datetime | None


def cohort_roster(*, cohort: Cohort) -> list[RosterEntry]:
    """The cohort's students with trials passed and last activity. One query."""
    memberships = (
        CohortMembership.objects.filter(cohort=cohort)
        .select_related("student")
        .annotate(
            passed=Count("student__progress", filter=Q(student__progress__passed_at__isnull=False)),
            last_activity=Max("student__progress__last_submitted_at"),
        )
        .order_by("student__username")
    )
    return [RosterEntry(m.student, m.joined_at, m.passed, m.last_activity) for m in memberships]


def cohort_student_get(*, cohort: Cohort, student_id: int) -> User:
    """A student of `cohort`, or 404: a teacher's pages never show students of other cohorts."""
    student = User.objects.filter(pk=student_id, memberships__cohort=cohort).first()
    if student is None:
        raise _not_found()
    return student


def cohort_exercise_get(*, slug: str) -> Exercise:
    exercise = (
        Exercise.objects.filter(slug=slug, current_version__isnull=False)
        .select_related("realm", "current_version")
        .first()
    )
    if exercise is None:
        raise _not_found()
    return exercise


def student_submissions_for_exercise(*, student: User, exercise: Exercise) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(user=student, exercise=exercise, regrade_of__isnull=True)
        .exclude(mode=Mode.TRY)
        .select_related("version", "review")
        .order_by("-created_at", "-pk")
    )
