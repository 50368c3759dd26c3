"""A trial's statistics in a cohort: pass rate, attempts and time to pass, failed checks, scores; its CSV rows."""

import datetime as dt
import statistics
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    QuerySet,
)
from django.db.models.functions import TruncDate

from huashen.accounts.models import Cohort, CohortMembership
from huashen.curriculum.models import Exercise
from huashen.grading.models import ExerciseProgress, Mode, Status, Submission, Verdict
from huashen.practice.selectors import activity_for_users


@dataclass
class FailedCheck:
    key: str
    title: dict[str, str]
    failures: int
    messages: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ExerciseStatistics:
    exercise: Exercise
    students: int
    attempted: int
    passed: int
    median_attempts_to_pass: float | None
    median_seconds_to_pass: float | None
    failed_checks: list[FailedCheck]
    score_buckets: list[int]  # 10 buckets: [0,10), [10,20), ... [90,100]
    submissions_per_day: list[tuple[dt.date, int]]

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0


def exercise_statistics(*, cohort: Cohort, exercise: Exercise, top_checks: int = 10) -> ExerciseStatistics:
    """One trial in one cohort. Time to pass runs from the student's first opening of the trial (activity
    events) or, for a student with none recorded, their first submission. Seven queries."""
    student_ids = list(CohortMembership.objects.filter(cohort=cohort).values_list("student_id", flat=True))
    progress = list(
        ExerciseProgress.objects.filter(user_id__in=student_ids, exercise=exercise).values(
            "user_id", "attempts", "best_score", "passed_at"
        )
    )
    counted = (
        Submission.objects.filter(
            user_id__in=student_ids, exercise=exercise, mode=Mode.SUBMIT, status=Status.DONE
        )
        .exclude(verdict=Verdict.INTERNAL_ERROR)
        .filter(regrade_of__isnull=True)
    )
    passed_at = {row["user_id"]: row["passed_at"] for row in progress if row["passed_at"]}
    attempts_to_pass: list[int] = []
    first_submission: dict[int, dt.datetime] = {}
    per_user: dict[int, list[dt.datetime]] = {}
    for user_id, created_at in counted.order_by("created_at").values_list("user_id", "created_at"):
        per_user.setdefault(user_id, []).append(created_at)
        first_submission.setdefault(user_id, created_at)
    for user_id, when in passed_at.items():
        attempts_to_pass.append(sum(1 for created in per_user.get(user_id, []) if created <= when) or 1)
    activity = activity_for_users(user_ids=list(passed_at), exercise_ids=[exercise.pk])
    seconds_to_pass = []
    for user_id, when in passed_at.items():
        summary = activity.get((user_id, exercise.pk))
        start = summary.first_at if summary and summary.first_at else first_submission.get(user_id)
        if start is not None and start <= when:
            seconds_to_pass.append((when - start).total_seconds())
    failures: dict[str, FailedCheck] = {}
    for checks in counted.exclude(verdict=Verdict.PASSED).values_list("checks", flat=True):
        for check in checks or []:
            if not isinstance(check, dict) or check.get("passed", True):
                continue
            key = str(check.get("key", "?"))
            entry = failures.setdefault(key, FailedCheck(key, check.get("title") or {}, 0))
            entry.failures += 1
            message = check.get("message") or {}
            if message and message not in entry.messages and len(entry.messages) < 3:
                entry.messages.append(message)
    buckets = [0] * 10
    for row in progress:
        if row["attempts"] or row["passed_at"]:
            buckets[min(9, int(row["best_score"] // 10))] += 1
    per_day = list(
        Submission.objects.filter(user_id__in=student_ids, exercise=exercise)
        .filter(regrade_of__isnull=True)
        .exclude(mode=Mode.TRY)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
        .values_list("day", "n")
    )
    return ExerciseStatistics(
        exercise=exercise,
        students=len(student_ids),
        attempted=sum(1 for row in progress if row["attempts"] or row["passed_at"]),
        passed=len(passed_at),
        median_attempts_to_pass=statistics.median(attempts_to_pass) if attempts_to_pass else None,
        median_seconds_to_pass=statistics.median(seconds_to_pass) if seconds_to_pass else None,
        failed_checks=sorted(failures.values(), key=lambda f: (-f.failures, f.key))[:top_checks],
        score_buckets=buckets,
        submissions_per_day=per_day,
    )


def exercise_submissions_for_cohort(*, cohort: Cohort, exercise: Exercise) -> QuerySet[Submission]:
    """Every submission of the cohort's students to a trial (the CSV export), oldest first; regrade re-runs
    are not the students' work and are left out."""
    return (
        Submission.objects.filter(
            user__memberships__cohort=cohort, exercise=exercise, regrade_of__isnull=True
        )
        .select_related("user", "version", "review", "review__reviewer")
        .order_by("created_at", "pk")
    )
