"""Reads for teachers: the progress matrix, rosters, trial statistics, a student's view, the review queue.

Every function here takes a cohort that already passed the access check
(`huashen.accounts.selectors.cohort_get_for_instructor`) or a reviewer whose scope it applies itself.
Query counts do not grow with the cohort's size: the matrix of 1,000 students × 25 trials is four queries.
"""

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, CohortMembership, Role, User
from huashen.curriculum.models import Exercise, GradingMode, Realm, SyncReport
from huashen.errors import DomainError
from huashen.grading.models import ExerciseProgress, Mode, Status, Submission, Verdict
from huashen.grading.selectors import published_exercises
from huashen.practice.models import ActivityEvent, ActivityKind, HintReveal
from huashen.practice.selectors import activity_for_users
from huashen.teaching.models import Regrade, Review

MATRIX_PAGE_SIZE = 100
SORTS = ("name", "progress", "activity")


def _not_found() -> DomainError:
    return DomainError("not_found", _("没有找到。"), status=404)


# --- the progress matrix ------------------------------------------------------------------------------
@dataclass
class Cell:
    exercise_id: int
    state: str  # none / ran (only Run used: activity, no attempt) / attempted / passed
    best_score: float = 0.0
    attempts: int = 0
    last_submitted_at: dt.datetime | None = None
    slug: str = ""


@dataclass
class MatrixRow:
    student_id: int
    username: str
    cells: list[Cell]

    @property
    def passed(self) -> int:
        return sum(1 for cell in self.cells if cell.state == "passed")

    @property
    def last_activity(self) -> dt.datetime | None:
        return max((c.last_submitted_at for c in self.cells if c.last_submitted_at), default=None)


@dataclass
class Matrix:
    cohort: Cohort
    realms: list[Realm]
    exercises: list[Exercise]
    rows: list[MatrixRow]
    total: int
    page: int = 1
    pages: int = 1
    sort: str = "name"
    realm: str = ""


def _cell(exercise_id: int, progress: Mapping[str, Any] | None, slug: str = "") -> Cell:
    if progress is None:
        return Cell(exercise_id, "none", slug=slug)
    if progress["attempts"] == 0 and progress["passed_at"] is None:
        if progress["last_submitted_at"] is None:
            return Cell(exercise_id, "none", slug=slug)
        return Cell(exercise_id, "ran", 0.0, 0, progress["last_submitted_at"], slug)
    return Cell(
        exercise_id,
        "passed" if progress["passed_at"] is not None else "attempted",
        progress["best_score"],
        progress["attempts"],
        progress["last_submitted_at"],
        slug,
    )


def cohort_matrix(
    *,
    cohort: Cohort,
    realm_slug: str = "",
    sort: str = "name",
    page: int | None = 1,
    per_page: int = MATRIX_PAGE_SIZE,
) -> Matrix:
    """Students × published trials with state and best score, sorted, one page of rows (all with page=None).

    Four queries whatever the cohort's size: realms, trials, students (sorted by the database, with each
    student's totals aggregated there when the sort needs them), and the progress of the page's students
    only — a page of a 1,000-student cohort does not load the other 900 students' progress.
    """
    realms = list(Realm.objects.filter(retired=False).order_by("order"))
    exercises_query = published_exercises().select_related("realm", "current_version")
    if realm_slug:
        exercises_query = exercises_query.filter(realm__slug=realm_slug)
    exercises = list(exercises_query.order_by("realm__order", "order"))
    exercise_ids = [e.pk for e in exercises]
    sort = sort if sort in SORTS else "name"
    students_query = User.objects.filter(memberships__cohort=cohort)
    counted = Q(progress__exercise__in=exercise_ids)
    if sort == "progress":
        students_query = students_query.annotate(
            passed=Count("progress", filter=counted & Q(progress__passed_at__isnull=False)),
            score=Coalesce(Sum("progress__best_score", filter=counted), 0.0),
        ).order_by("-passed", "-score", "username")
    elif sort == "activity":
        students_query = students_query.annotate(
            latest=Max("progress__last_submitted_at", filter=counted)
        ).order_by(F("latest").desc(nulls_last=True), "-username")
    else:
        students_query = students_query.order_by("username")
    students = list(students_query.values_list("id", "username"))
    total = len(students)
    pages = max(1, -(-total // per_page))
    if page is not None:
        page = min(max(1, page), pages)
        students = students[(page - 1) * per_page : page * per_page]
    progress: dict[tuple[int, int], tuple[Any, ...]] = {}
    if students:
        student_filter = (
            Q(user__memberships__cohort=cohort) if page is None else Q(user_id__in=[s[0] for s in students])
        )
        # Whether a trial is passed is all the matrix shows of passed_at: the database says it as a
        # boolean, so only one timestamp a cell is read back and parsed (25,000 cells on a full page).
        rows_query = (
            ExerciseProgress.objects.filter(student_filter, exercise__in=exercise_ids)
            .annotate(has_passed=ExpressionWrapper(Q(passed_at__isnull=False), output_field=BooleanField()))
            .values_list(*PROGRESS_FIELDS[:4], "has_passed", *PROGRESS_FIELDS[5:])
        )
        for row in rows_query:
            progress[(row[0], row[1])] = (*row[:4], True if row[4] else None, *row[5:])
    rows = [
        MatrixRow(
            student_id,
            username,
            [_cell(e.pk, _progress_fields(progress.get((student_id, e.pk))), e.slug) for e in exercises],
        )
        for student_id, username in students
    ]
    return Matrix(cohort, realms, exercises, rows, total, page or 1, pages, sort, realm_slug)


PROGRESS_FIELDS = ("user_id", "exercise_id", "attempts", "best_score", "passed_at", "last_submitted_at")


def _progress_fields(row: tuple[Any, ...] | None) -> Mapping[str, Any] | None:
    return dict(zip(PROGRESS_FIELDS, row, strict=True)) if row is not None else None


def matrix_cell_for(*, user_id: int, exercise_id: int) -> dict[str, Any]:
    """One cell as the live matrix sends it."""
    row = (
        ExerciseProgress.objects.filter(user_id=user_id, exercise_id=exercise_id)
        .values("user_id", "exercise_id", "attempts", "best_score", "passed_at", "last_submitted_at")
        .first()
    )
    cell = _cell(exercise_id, row)
    return cell_to_wire(student_id=user_id, cell=cell)


def cell_to_wire(*, student_id: int, cell: Cell) -> dict[str, Any]:
    return {
        "student": student_id,
        "exercise": cell.exercise_id,
        "state": cell.state,
        "best_score": round(cell.best_score, 1),
        "attempts": cell.attempts,
        "last_submitted_at": cell.last_submitted_at.isoformat() if cell.last_submitted_at else None,
    }


def student_cohort_ids(*, user_id: int) -> list[int]:
    return list(CohortMembership.objects.filter(student_id=user_id).values_list("cohort_id", flat=True))


# --- cohorts and students ------------------------------------------------------------------------------
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


def student_submissions_for_trial(*, student: User, exercise: Exercise) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(user=student, exercise=exercise, regrade_of__isnull=True)
        .exclude(mode=Mode.TRY)
        .select_related("version", "review")
        .order_by("-created_at", "-pk")
    )


# --- a student's view ----------------------------------------------------------------------------------
@dataclass
class StudentTrialSummary:
    exercise: Exercise
    cell: Cell
    seconds_on_task: float
    hints_used: int
    first_opened_at: dt.datetime | None


@dataclass
class TimelineEntry:
    at: dt.datetime
    exercise: Exercise
    kind: str  # "submission", or an ActivityKind: opened / hint_revealed
    submission: Submission | None
    repeats: int = 1  # consecutive identical events (a trial opened again and again) folded into one line
    first_at: dt.datetime | None = None  # the earliest of the folded events (None: not folded)


@dataclass
class StudentView:
    student: User
    trials: list[StudentTrialSummary]
    timeline: list[TimelineEntry]

    @property
    def seconds_on_task(self) -> float:
        return sum(trial.seconds_on_task for trial in self.trials)

    @property
    def hints_used(self) -> int:
        return sum(trial.hints_used for trial in self.trials)


def student_view(*, student: User, timeline_limit: int = 200) -> StudentView:
    """Per trial: standing, time on task (from activity events), hints revealed; and the recent timeline."""
    exercises = list(
        published_exercises().select_related("realm", "current_version").order_by("realm__order", "order")
    )
    progress = {
        row["exercise_id"]: row
        for row in ExerciseProgress.objects.filter(user=student).values(
            "user_id", "exercise_id", "attempts", "best_score", "passed_at", "last_submitted_at"
        )
    }
    activity = activity_for_users(user_ids=[student.pk])
    hints = dict(
        HintReveal.objects.filter(user=student)
        .values("exercise_id")
        .annotate(n=Count("id"))
        .values_list("exercise_id", "n")
    )
    trials = []
    for exercise in exercises:
        summary = activity.get((student.pk, exercise.pk))
        trials.append(
            StudentTrialSummary(
                exercise,
                _cell(exercise.pk, progress.get(exercise.pk), exercise.slug),
                summary.seconds_on_task if summary else 0.0,
                hints.get(exercise.pk, 0),
                summary.first_at if summary else None,
            )
        )
    submissions = (
        Submission.objects.filter(user=student, regrade_of__isnull=True)
        .exclude(mode=Mode.TRY)
        .select_related("exercise__realm", "version", "review")
        .order_by("-created_at", "-pk")[:timeline_limit]
    )
    # Runs and submits are in the timeline as their submissions; the other activity as itself.
    events = (
        ActivityEvent.objects.filter(user=student, kind__in=[ActivityKind.OPENED, ActivityKind.HINT_REVEALED])
        .select_related("exercise__realm")
        .order_by("-at", "-pk")[:timeline_limit]
    )
    merged = sorted(
        [TimelineEntry(s.created_at, s.exercise, "submission", s) for s in submissions]
        + [TimelineEntry(e.at, e.exercise, e.kind, None) for e in events],
        key=lambda entry: entry.at,
        reverse=True,
    )
    return StudentView(student, trials, _fold_repeats(merged)[:timeline_limit])


def _fold_repeats(timeline: list[TimelineEntry]) -> list[TimelineEntry]:
    """Fold a run of the same event on the same trial (each page load logs "opened") into one line with
    its count, as the student's profile does; submissions are never folded."""
    folded: list[TimelineEntry] = []
    for entry in timeline:
        last = folded[-1] if folded else None
        if (
            last is not None
            and entry.submission is None
            and last.submission is None
            and (last.kind, last.exercise.pk) == (entry.kind, entry.exercise.pk)
        ):
            last.repeats += 1
            last.first_at = entry.at
        else:
            folded.append(entry)
    return folded


# --- trial statistics ----------------------------------------------------------------------------------
@dataclass
class FailedCheck:
    key: str
    title: dict[str, str]
    failures: int
    messages: list[dict[str, str]] = field(default_factory=list)


@dataclass
class TrialStatistics:
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


def trial_statistics(*, cohort: Cohort, exercise: Exercise, top_checks: int = 10) -> TrialStatistics:
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
    return TrialStatistics(
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


def trial_submissions_for_cohort(*, cohort: Cohort, exercise: Exercise) -> QuerySet[Submission]:
    """Every submission of the cohort's students to a trial (the CSV export), oldest first; regrade re-runs
    are not the students' work and are left out."""
    return (
        Submission.objects.filter(
            user__memberships__cohort=cohort, exercise=exercise, regrade_of__isnull=True
        )
        .select_related("user", "version", "review", "review__reviewer")
        .order_by("created_at", "pk")
    )


# --- the review queue ----------------------------------------------------------------------------------
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


@dataclass
class StaffContent:
    """The staff content page: every trial (retired last), the latest sync's report, the latest regrades."""

    exercises: QuerySet[Exercise]
    report: SyncReport | None
    regrades: list[Regrade]


def staff_content() -> StaffContent:
    return StaffContent(
        exercises=Exercise.objects.select_related("realm", "current_version").order_by(
            "retired", "realm__order", "order"
        ),
        report=SyncReport.objects.first(),
        regrades=list(Regrade.objects.select_related("original__user", "rerun", "exercise", "version")[:50]),
    )
