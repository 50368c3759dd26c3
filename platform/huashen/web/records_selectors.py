"""Reads behind a student's records: the realm map's trial cards, a trial's history, one submission, a diff,
and the profile. Every submission is reached through `submission_get_for_viewer`, the one access check.
Turning text into what a page shows (terminal output, a diff) is `rendering.py`'s; this module only reads.

Each reader runs a fixed number of queries, whatever the number of realms, trials or submissions.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Value
from django.utils.translation import gettext as _

from huashen.accounts.models import User
from huashen.coach.explains import failed_check_keys
from huashen.coach.services import findings_describe
from huashen.curriculum.models import Exercise, GradingMode, pick_language
from huashen.curves.models import ReferenceCurve
from huashen.errors import DomainError
from huashen.grading.curves import cohort_for_viewer, cohort_median_curve, run_standing, standing_against
from huashen.grading.models import Mode, Status, Submission, Verdict
from huashen.grading.selectors import (
    ExerciseState,
    RealmState,
    realms_with_progress,
    submission_get_for_viewer,
    submission_log_events,
)
from huashen.practice.models import ActivityEvent, ActivityKind
from huashen.practice.selectors import activity_for_users
from huashen.web.rendering import DiffLine, SideBySideRow, code_diff, terminal_text
from workers.protocol import EventKind

# --- the realm map --------------------------------------------------------------------------------------

LOCKED, OPEN, ATTEMPTED, PASSED, UNDER_REVIEW = "locked", "open", "attempted", "passed", "under-review"
REVIEW_GRADED = frozenset({GradingMode.HYBRID, GradingMode.MANUAL})


@dataclass
class ExerciseCard:
    """One trial as the map and the profile show it: its standing, with "under review" told apart."""

    trial: ExerciseState
    state: str

    @property
    def exercise(self) -> Exercise:
        return self.trial.exercise

    @property
    def best_score(self) -> float:
        return self.trial.best_score

    @property
    def attempted(self) -> bool:
        return self.trial.progress is not None and self.trial.progress.attempts > 0


@dataclass
class RealmCard:
    realm_state: RealmState
    cards: list[ExerciseCard] = field(default_factory=list)
    passes_missing: int = 0  # more passes the previous realm needs before this one opens

    @property
    def realm(self) -> Any:
        return self.realm_state.realm

    @property
    def under_review(self) -> int:
        return sum(1 for card in self.cards if card.state == UNDER_REVIEW)

    @property
    def next_card(self) -> ExerciseCard | None:
        """The trial to take on next in an open realm: the first one not passed nor waiting for review."""
        if not self.realm_state.unlocked:
            return None
        return next((card for card in self.cards if card.state in (OPEN, ATTEMPTED)), None)


@dataclass
class RealmMap:
    realms: list[RealmCard]

    @property
    def passed(self) -> int:
        return sum(card.realm_state.passed for card in self.realms)

    @property
    def total(self) -> int:
        return sum(card.realm_state.total for card in self.realms)

    @property
    def percent(self) -> int:
        return round(100 * self.passed / self.total) if self.total else 0

    @property
    def next_unlock(self) -> RealmCard | None:
        """The first locked realm whose previous realm is open: the one more passes would open."""
        for previous, card in zip(self.realms, self.realms[1:], strict=False):
            if previous.realm_state.unlocked and not card.realm_state.unlocked:
                return card
        return None

    @property
    def previous_of_next_unlock(self) -> RealmCard | None:
        target = self.next_unlock
        if target is None:
            return None
        return self.realms[self.realms.index(target) - 1]


def _submission_relation(name: str) -> bool:
    """Whether an installed app relates its rows to a Submission under `name` (its reviews, regrade re-runs)."""
    return any(relation.name == name for relation in Submission._meta.related_objects)


def awaiting_review(*, user: User, exercises: list[Exercise]) -> set[int]:
    """The ids of the review-graded trials among `exercises` whose work waits for a reviewer; one query.

    The student's latest finished Submit of a hybrid trial that passed its automatic checks, or of a
    manual trial (any verdict but an internal error: the review scores it), waits for review until a
    review of that submission is stored — the review queue's rule. Regrade re-runs are not the student's
    work. This is the one place that decides it, for the map and the profile alike.
    """
    ids = [
        exercise.pk
        for exercise in exercises
        if exercise.current_version is not None and exercise.current_version.grading in REVIEW_GRADED
    ]
    if not ids or not user.is_authenticated:
        return set()
    latest = Submission.objects.filter(
        user=user, exercise=OuterRef("pk"), mode=Mode.SUBMIT, status=Status.DONE
    )
    if _submission_relation("regrade_of"):
        latest = latest.filter(regrade_of__isnull=True)
    latest = latest.order_by("-created_at", "-pk")
    reviewed = (
        Subquery(latest.values("review__pk")[:1])
        if _submission_relation("review")
        else Value(None, output_field=IntegerField())
    )
    rows = (
        Exercise.objects.filter(pk__in=ids)
        .annotate(
            latest_verdict=Subquery(latest.values("verdict")[:1]),
            latest_grading=Subquery(latest.values("version__grading")[:1]),
            latest_review=reviewed,
        )
        .values_list("pk", "latest_verdict", "latest_grading", "latest_review")
    )
    waiting = set()
    for pk, verdict, grading, review in rows:
        if verdict is None or review is not None:
            continue
        if (grading == GradingMode.HYBRID and verdict == Verdict.PASSED) or (
            grading == GradingMode.MANUAL and verdict != Verdict.INTERNAL_ERROR
        ):
            waiting.add(pk)
    return waiting


def card_state(*, trial: ExerciseState, unlocked: bool, waiting: bool) -> str:
    """A trial's card: locked until its realm opens; under review while its latest work waits for a
    reviewer (even after an earlier pass: the newest work is what the student waits on); else its
    progress (passed, attempted or open)."""
    if not unlocked:
        return LOCKED
    if waiting:
        return UNDER_REVIEW
    return trial.state


def realm_map_for_user(*, user: User) -> RealmMap:
    """The realms with every trial's card state (locked, open, attempted, passed, under review).

    The unlock rule is `realms_with_progress`'s: a trial counts towards it once its progress says passed
    (for review-graded trials, once a review passed it).
    """
    states = realms_with_progress(user=user)
    exercises = [trial.exercise for state in states for trial in state.trials]
    waiting = awaiting_review(user=user, exercises=exercises)
    realms = []
    previous: RealmState | None = None
    for state in states:
        cards = [
            ExerciseCard(
                trial,
                card_state(trial=trial, unlocked=state.unlocked, waiting=trial.exercise.pk in waiting),
            )
            for trial in state.trials
        ]
        missing = max(0, state.unlock_rule - previous.passed) if previous is not None else 0
        realms.append(RealmCard(state, cards, missing))
        previous = state
    return RealmMap(realms)


# --- history --------------------------------------------------------------------------------------------


def exercise_history_for_user(*, user: User, exercise: Exercise) -> QuerySet[Submission]:
    """The viewer's own submissions of one trial, newest first, without the heavy columns."""
    return (
        Submission.objects.filter(user=user, exercise=exercise)
        .exclude(mode=Mode.TRY)
        .defer("code", "log", "artifacts", "checks", "traceback", "versions")
        .order_by("-created_at", "-pk")
    )


# --- one submission -------------------------------------------------------------------------------------

PNG_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def submission_log_text(*, submission: Submission) -> str:
    """The stored output of a run as one text: stdout and stderr in order, with the log's notices."""
    parts = []
    for event in submission_log_events(submission=submission):
        if event.kind in (EventKind.STDOUT, EventKind.STDERR) and isinstance(event.payload, str):
            parts.append(event.payload)
        elif event.kind == EventKind.LOG and isinstance(event.payload, dict):
            message = event.payload.get("message")
            if isinstance(message, dict):
                text = pick_language(str(message.get("zh", "")), str(message.get("en", "")))
                parts.append(("" if not parts or parts[-1].endswith("\n") else "\n") + text + "\n")
    return terminal_text("".join(parts))


@dataclass(frozen=True)
class CheckFinding:
    """A coach finding shown beside the failed check it most likely explains."""

    rule: str
    line: int
    title: str
    why: str
    trial_url: str


@dataclass(frozen=True)
class CheckRow:
    key: str
    passed: bool
    score: float
    max_score: float
    title: str
    message: str
    visible: bool
    findings: tuple[CheckFinding, ...] = ()


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return pick_language(str(value.get("zh", "")), str(value.get("en", "")))
    return str(value or "")


def _findings_by_check(submission: Submission) -> dict[str, list[CheckFinding]]:
    """The coach's findings on the submission's code, grouped under the failed checks they most likely
    explain (advice: read from the code each time, never stored)."""
    checks = list(submission.checks or [])
    if not failed_check_keys(checks):
        return {}
    described = findings_describe(submission.code, trial=submission.exercise.slug, checks=checks)
    grouped: dict[str, list[CheckFinding]] = {}
    for finding in described["findings"]:
        for key in finding["explains"]:
            grouped.setdefault(key, []).append(
                CheckFinding(
                    rule=finding["rule"],
                    line=finding["line"],
                    title=_text(finding["title"]),
                    why=_text(finding["why"]),
                    trial_url=finding["trial"]["url"],
                )
            )
    return grouped


def submission_check_rows(*, submission: Submission) -> list[CheckRow]:
    rows = []
    findings = _findings_by_check(submission)
    for check in submission.checks or []:
        if not isinstance(check, dict):
            continue
        rows.append(
            CheckRow(
                key=str(check.get("key", "")),
                passed=bool(check.get("passed")),
                score=float(check.get("score") or 0.0),
                max_score=float(check.get("max_score") or 0.0),
                title=_text(check.get("title")) or str(check.get("key", "")),
                message=_text(check.get("message")),
                visible=bool(check.get("visible", True)),
                findings=tuple(findings.get(str(check.get("key", "")), ())),
            )
        )
    return rows


def submission_images(*, submission: Submission) -> list[dict[str, str]]:
    """The PNG images a run produced, each checked to be plain base64 before it goes into a data URL."""
    images = []
    for artifact in submission.artifacts or []:
        if not isinstance(artifact, dict) or artifact.get("media_type") != "image/png":
            continue
        data = str(artifact.get("data", ""))
        if data and PNG_BASE64.match(data):
            images.append({"name": str(artifact.get("name", "")), "data": data})
    return images


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.0f}" if abs(ratio) >= 10 else f"{ratio:.2g}"


def submission_standing(*, submission: Submission) -> list[str]:
    """Where a finished run stands, one sentence each: against the median of its author's cohort's passed runs
    (with enough of them) and against the reference solution's curve recorded with its trial version."""
    if submission.status != Status.DONE or not any(
        isinstance(event, dict) and event.get("kind") == EventKind.METRIC for event in submission.log or []
    ):
        return []
    sentences = []
    cohort = cohort_for_viewer(user=submission.user)
    if cohort is not None:
        curve = cohort_median_curve(cohort=cohort, exercise=submission.exercise)
        standing = run_standing(log=submission.log, curve=curve)
        if standing is not None:
            sentences.append(
                _(
                    "第 %(step)s 步时，这次运行的 %(metric)s 是班级中位数的 %(ratio)s 倍（%(runs)s 次通过的运行）。"
                )
                % {
                    "step": standing.step,
                    "metric": standing.metric,
                    "ratio": _ratio_text(standing.ratio),
                    "runs": curve.runs,
                }
            )
    reference = ReferenceCurve.objects.filter(version_id=submission.version_id).first()
    if reference is not None and isinstance(reference.series, dict):
        series = {
            name: (list(value.get("steps", [])), list(value.get("values", [])))
            for name, value in reference.series.items()
            if isinstance(value, dict)
        }
        standing = standing_against(log=submission.log, series=series)
        if standing is not None:
            sentences.append(
                _("第 %(step)s 步时，这次运行的 %(metric)s 是参考答案的 %(ratio)s 倍。")
                % {"step": standing.step, "metric": standing.metric, "ratio": _ratio_text(standing.ratio)}
            )
    return sentences


def submission_explanation(*, submission: Submission) -> str:
    return _text(submission.message)


# --- diff -----------------------------------------------------------------------------------------------


@dataclass
class SubmissionDiff:
    left: Submission
    right: Submission
    unified: list[DiffLine]
    side_by_side: list[SideBySideRow]

    @property
    def identical(self) -> bool:
        return self.left.code == self.right.code


def submission_diff_for_viewer(*, user: User, left_id: int, right_id: int) -> SubmissionDiff:
    """The code of two submissions compared; both through the access check, both of the same trial."""
    left = submission_get_for_viewer(user=user, submission_id=left_id)
    right = submission_get_for_viewer(user=user, submission_id=right_id)
    if left.exercise_id != right.exercise_id:
        raise DomainError(
            "different_trials", _("只能比较同一试炼的两次提交：这两次提交属于不同的试炼。"), status=400
        )
    unified, rows = code_diff(left.code, right.code, left_name=f"#{left.pk}", right_name=f"#{right.pk}")
    return SubmissionDiff(left, right, unified, rows)


# --- profile --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityItem:
    """One line of a student's recent activity: a submission, or something done on a trial page."""

    at: Any  # datetime
    kind: str  # "run" / "submit" for submissions, else an ActivityKind value
    label: str
    exercise: Exercise
    submission: Submission | None = None
    repeats: int = 1  # consecutive identical page events (autosaves) folded into one line


def recent_activity_for_user(*, user: User, limit: int = 15) -> list[ActivityItem]:
    """The student's latest submissions and trial-page events (opened, draft saved, hint revealed),
    newest first; runs of the same event on the same trial (autosaves) fold into one line. Two queries."""
    items = [
        ActivityItem(s.created_at, s.mode, s.get_mode_display(), s.exercise, s)
        for s in Submission.objects.filter(user=user)
        .exclude(mode=Mode.TRY)
        .select_related("exercise__current_version")
        .defer("code", "log", "artifacts", "checks", "traceback", "versions")
        .order_by("-created_at", "-pk")[:limit]
    ]
    events = (
        ActivityEvent.objects.filter(user=user)
        .exclude(kind__in=[ActivityKind.RUN, ActivityKind.SUBMIT])  # the submissions above say more
        .select_related("exercise__current_version")
        .order_by("-at", "-pk")[: limit * 4]
    )
    folded: list[ActivityItem] = []
    for event in events:
        last = folded[-1] if folded else None
        if last is not None and (last.kind, last.exercise.pk) == (event.kind, event.exercise_id):
            folded[-1] = ActivityItem(last.at, last.kind, last.label, last.exercise, repeats=last.repeats + 1)
        else:
            folded.append(ActivityItem(event.at, event.kind, event.get_kind_display(), event.exercise))
    items.extend(folded)
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def seconds_on_task_for_user(*, user: User) -> float:
    """Time on task over every trial, as instructors' reports count it; one query."""
    return sum(summary.seconds_on_task for summary in activity_for_users(user_ids=[user.pk]).values())
