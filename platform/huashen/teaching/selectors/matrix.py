"""The progress matrix: one cell per student and trial, paged and sorted; a cell as the live socket sends it."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce

from huashen.accounts.models import Cohort, CohortMembership, User
from huashen.curriculum.models import Exercise, Realm
from huashen.grading.models import ExerciseProgress
from huashen.grading.selectors import published_exercises

MATRIX_PAGE_SIZE = 100
SORTS = ("name", "progress", "activity")


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


def progress_cell(exercise_id: int, progress: Mapping[str, Any] | None, slug: str = "") -> Cell:
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
            [
                progress_cell(e.pk, _progress_fields(progress.get((student_id, e.pk))), e.slug)
                for e in exercises
            ],
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
    cell = progress_cell(exercise_id, row)
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
