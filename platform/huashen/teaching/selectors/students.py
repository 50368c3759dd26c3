"""One student as an instructor sees them: every trial's cell and time on task, and a folded timeline."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Count,
)

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise
from huashen.grading.models import ExerciseProgress, Mode, Submission
from huashen.grading.selectors import published_exercises
from huashen.practice.models import ActivityEvent, ActivityKind, HintReveal
from huashen.practice.selectors import activity_for_users
from huashen.teaching.selectors.matrix import Cell, progress_cell


@dataclass
class StudentExerciseSummary:
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
    trials: list[StudentExerciseSummary]
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
            StudentExerciseSummary(
                exercise,
                progress_cell(exercise.pk, progress.get(exercise.pk), exercise.slug),
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
