"""Reads for teachers, one module per page: the progress matrix (`matrix`), rosters and what an instructor
opens from them (`cohorts`), a student's view (`students`), trial statistics (`stats`), the review queue
(`reviews`), the staff content page (`content`). Callers import from here.

Every function takes a cohort that already passed the access check
(`huashen.accounts.selectors.cohort_get_for_instructor`) or a reviewer whose scope it applies itself.
Query counts do not grow with the cohort's size: the matrix of 1,000 students x 25 trials is four queries.
"""

from huashen.grading.selectors import published_exercises
from huashen.teaching.selectors.cohorts import (
    RosterEntry,
    cohort_exercise_get,
    cohort_roster,
    cohort_student_get,
    student_submissions_for_exercise,
)
from huashen.teaching.selectors.content import StaffContent, staff_content
from huashen.teaching.selectors.matrix import (
    MATRIX_PAGE_SIZE,
    PROGRESS_FIELDS,
    SORTS,
    Cell,
    Matrix,
    MatrixRow,
    cell_to_wire,
    cohort_matrix,
    matrix_cell_for,
    progress_cell,
    student_cohort_ids,
)
from huashen.teaching.selectors.reviews import (
    REVIEWED_MODES,
    review_for_submission,
    review_queue,
    submission_get_for_reviewer,
)
from huashen.teaching.selectors.stats import (
    ExerciseStatistics,
    FailedCheck,
    exercise_statistics,
    exercise_submissions_for_cohort,
)
from huashen.teaching.selectors.students import (
    StudentExerciseSummary,
    StudentView,
    TimelineEntry,
    student_view,
)

__all__ = [
    "MATRIX_PAGE_SIZE",
    "PROGRESS_FIELDS",
    "REVIEWED_MODES",
    "SORTS",
    "Cell",
    "ExerciseStatistics",
    "FailedCheck",
    "Matrix",
    "MatrixRow",
    "RosterEntry",
    "StaffContent",
    "StudentExerciseSummary",
    "StudentView",
    "TimelineEntry",
    "cell_to_wire",
    "cohort_exercise_get",
    "cohort_matrix",
    "cohort_roster",
    "cohort_student_get",
    "exercise_statistics",
    "exercise_submissions_for_cohort",
    "matrix_cell_for",
    "progress_cell",
    "published_exercises",
    "review_for_submission",
    "review_queue",
    "staff_content",
    "student_cohort_ids",
    "student_submissions_for_exercise",
    "student_view",
    "submission_get_for_reviewer",
]
