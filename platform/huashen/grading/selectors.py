"""Reads about submissions and progress, the one access check for submissions, and who grades."""

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from huashen.accounts.models import User
from huashen.accounts.selectors import user_teaches
from huashen.curriculum.models import Exercise, Realm
from huashen.errors import DomainError
from huashen.grading.eventlog import final_payload, is_final
from huashen.grading.models import ExerciseProgress, Mode, Status, Submission
from huashen.grading.redis_client import redis_client
from workers.protocol import HEARTBEAT_KEY_PREFIX, EventKind, GradeEvent, ProtocolError

logger = logging.getLogger(__name__)


@dataclass
class ExerciseState:
    exercise: Exercise
    progress: ExerciseProgress | None

    @property
    def state(self) -> str:
        """locked / open / attempted / passed: what the realm map shows for this trial."""
        if self.progress is None or self.progress.attempts == 0:
            return "open"
        return "passed" if self.progress.passed else "attempted"

    @property
    def best_score(self) -> float:
        return self.progress.best_score if self.progress else 0.0


@dataclass
class RealmState:
    realm: Realm
    unlocked: bool
    trials: list[ExerciseState] = field(default_factory=list)
    unlock_rule: int = 0  # passes needed in the previous realm

    @property
    def passed(self) -> int:
        return sum(1 for trial in self.trials if trial.state == "passed")

    @property
    def total(self) -> int:
        return len(self.trials)

    @property
    def completed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def percent(self) -> int:
        return round(100 * self.passed / self.total) if self.total else 0


def published_exercises() -> QuerySet[Exercise]:
    return Exercise.objects.filter(
        is_published=True, retired=False, realm__retired=False, current_version__isnull=False
    )


def realms_with_progress(*, user: User) -> list[RealmState]:
    """Every realm with its published trials and `user`'s standing, in three queries.

    Unlock rule: realm 1 is always open; realm n opens when realm n-1 has at least REALM_UNLOCK_PASSES
    trials passed (or all of them, if it has fewer).
    """
    realms = list(Realm.objects.filter(retired=False).order_by("order"))
    exercises = list(published_exercises().select_related("current_version").order_by("order"))
    progress = (
        {p.exercise_id: p for p in ExerciseProgress.objects.filter(user=user)}
        if user.is_authenticated
        else {}
    )
    states = []
    previous: RealmState | None = None
    for realm in realms:
        state = RealmState(realm=realm, unlocked=True)
        state.trials = [ExerciseState(e, progress.get(e.pk)) for e in exercises if e.realm_id == realm.pk]
        if previous is not None:
            state.unlock_rule = (
                min(settings.REALM_UNLOCK_PASSES, previous.total) or settings.REALM_UNLOCK_PASSES
            )
            state.unlocked = previous.unlocked and previous.passed >= state.unlock_rule
        states.append(state)
        previous = state
    return states


def realm_is_unlocked(*, user: User, realm: Realm) -> bool:
    states = realms_with_progress(user=user)
    return next((state.unlocked for state in states if state.realm.pk == realm.pk), False)


def exercise_get_for_student(*, user: User, slug: str) -> Exercise:
    exercise = published_exercises().select_related("realm", "current_version").filter(slug=slug).first()
    if exercise is None:
        raise DomainError("not_found", _("没有找到。"), status=404)
    return exercise


def exercise_get_open_for_student(*, user: User, slug: str) -> Exercise:
    """A trial whose content `user` may read: its statement, starter code, draft, hints, reference.

    The one rule for the page and the API alike: a trial in a realm that is not open yet answers 403
    `realm_locked` (its title, tier and realm stay visible on the realm map and in the lists)."""
    exercise = exercise_get_for_student(user=user, slug=slug)
    if not realm_is_unlocked(user=user, realm=exercise.realm):
        raise DomainError(
            "realm_locked", _("这个境界尚未开启：先通过上一境界的试炼。"), "exercise", status=403
        )
    return exercise


def submissions_for_user(*, user: User) -> QuerySet[Submission]:
    """The user's Runs and Submits (the Try cell's runs are not submissions to list)."""
    return Submission.objects.filter(user=user).exclude(mode=Mode.TRY).select_related("exercise", "version")


def submission_get_for_viewer(*, user: User, submission_id: int) -> Submission:
    """The access check for a submission, used by the API, pages and WebSocket alike.

    Its author, an instructor of a cohort the author is in, and admins may see it; everyone else gets 404
    (not 403: ids are not a way to learn who submitted what).
    """
    submission = (
        Submission.objects.select_related("exercise", "version", "user").filter(pk=submission_id).first()
    )
    if submission is None or not user.is_authenticated:
        raise DomainError("not_found", _("没有找到。"), status=404)
    if submission.user_id != user.pk and not user_teaches(teacher=user, student=submission.user):
        raise DomainError("not_found", _("没有找到。"), status=404)
    return submission


def submission_log_events(*, submission: Submission) -> list[GradeEvent]:
    """The events stored with a finished submission, ending with its final "done" event.

    Rows recorded before the platform kept a final event in the log get one made from the row itself
    (the seq after the last stored one), so every finished submission replays to a clean end.
    """
    events = []
    for wire in submission.log or []:
        try:
            events.append(GradeEvent.from_wire(wire))
        except (ProtocolError, TypeError):
            continue
    if submission.status == Status.DONE and not any(is_final(event) for event in events):
        payload = final_payload(verdict=submission.verdict, score=submission.score)
        finished = submission.finished_at.timestamp() if submission.finished_at else 0.0
        events.append(GradeEvent((events[-1].seq if events else 0) + 1, EventKind.STATUS, payload, finished))
    return events


EMBEDDED_GRADER = "embedded"


def graders_online() -> list[dict[str, Any]]:
    """The graders that announced themselves recently: their heartbeats (queues, device, slots, load).

    Embedded mode has one, the in-process local executor. Raises when Redis cannot be reached: routing
    and readiness each decide what that means for them.
    """
    if settings.HUASHEN_EXECUTOR == "local":
        return [
            {
                "hostname": EMBEDDED_GRADER,
                "queues": ["cpu"],
                "device": "cpu",
                "slots": settings.LOCAL_GRADER_CONCURRENCY,
                "embedded": True,
            }
        ]
    if not settings.REDIS_URL:
        return []
    client = redis_client()
    keys = sorted(client.scan_iter(match=HEARTBEAT_KEY_PREFIX + "*", count=200))
    graders = []
    for raw in client.mget(keys) if keys else []:
        try:
            beat = json.loads(raw) if raw is not None else None
        except ValueError:
            beat = None
        if not isinstance(beat, dict) or not isinstance(beat.get("queues"), list):
            continue  # expired between SCAN and MGET, or not a heartbeat we understand
        graders.append(beat)
    return graders


def graders_fresh(*, now: float | None = None) -> list[dict[str, Any]]:
    """The graders seen within `READY_GRADER_MAX_AGE_SECONDS`: a heartbeat key outlives a hung beat
    thread by its TTL, its `time` says when it was written. A beat without a time (the embedded executor,
    an older grader) is trusted for as long as its key lives."""
    now = time.time() if now is None else now
    oldest = now - settings.READY_GRADER_MAX_AGE_SECONDS
    return [grader for grader in graders_online() if _beat_time(grader, default=now) >= oldest]


def _beat_time(grader: dict[str, Any], *, default: float) -> float:
    try:
        return float(grader["time"])
    except KeyError:
        return default
    except (TypeError, ValueError):
        return 0.0  # a beat we cannot read the time of is not evidence of a live grader


def graders_for_queue(graders: list[dict[str, Any]], queue: str) -> list[dict[str, Any]]:
    return [grader for grader in graders if queue in grader.get("queues", [])]
