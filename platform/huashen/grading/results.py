"""The receiving side of grading: what graders report back changes a submission here, and only here.

A grader's "running" note (`submission_mark_running`) and its result (`submission_record_result`), the
reaper's verdict on a submission nobody finished (`submissions_reap`), and the progress those change
(`progress_apply_review` for reviewed trials). The sending side (create, re-run, recover) is
`services.py`; the hand-over to graders is `dispatch.py`. Nothing here sends anything to a grader, so the
local executor (`embedded.py`) reports through this module without an import cycle.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise, GradingMode
from huashen.errors import DomainError
from huashen.grading import claims, eventlog, signals
from huashen.grading.models import ExerciseProgress, Mode, Purpose, Status, Submission, Verdict
from workers.protocol import EventKind, GradeEvent, GradeResult, clean_json, clean_text

logger = logging.getLogger(__name__)


def grading_deadline(*, start: dt.datetime, wall_seconds: int) -> dt.datetime:
    """When the reaper may fail a submission that started waiting (or running) at `start`.

    Only after Redis would have redelivered the task of a dead grader (Celery's visibility timeout, just
    above the hard limit) and the redelivered run had its own wall time and the grace: a lost worker
    means a re-queue first, and the reaper is the last resort, never a race with a live grader.
    """
    visibility = int(
        settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
            "visibility_timeout", settings.GRADING_HARD_LIMIT_SECONDS + 60
        )
    )
    return start + dt.timedelta(seconds=visibility + wall_seconds + settings.GRADING_GRACE_SECONDS)


def submission_mark_running(*, submission_id: int, claim: int = 0) -> None:
    """queued → running, by the grader holding claim `claim` (its fencing token; 0: unfenced, embedded).
    The deadline moves to count from now, so time spent waiting in a long queue is never held against a
    run. The newest token seen is kept: a result from an older holder is refused. Appends no event: the
    grader's own stream already says it is running."""
    submission = Submission.objects.select_related("version").filter(pk=submission_id).first()
    if submission is None or submission.status == Status.DONE or claim < submission.claim:
        return
    now = timezone.now()
    wall = int(submission.version.limits.get("wall_seconds", 60))
    Submission.objects.filter(pk=submission_id, status__in=[Status.QUEUED, Status.RUNNING]).filter(
        claim__lte=claim
    ).update(
        status=Status.RUNNING,
        claim=claim,
        started_at=now,
        deadline=max(submission.deadline, grading_deadline(start=now, wall_seconds=wall)),
    )


@transaction.atomic
def submission_record_result(*, result: GradeResult) -> Submission:
    """Store a grader's verdict, its log, update progress. Idempotent: a second delivery changes nothing.

    The events come from the event store (graders send only the result); on commit the platform appends
    the final "done" event and lets the stream expire, the log being safe in the database by then.
    """
    submission = (
        Submission.objects.select_for_update()
        .select_related("exercise")
        .filter(pk=result.submission_id)
        .first()
    )
    if submission is None:
        raise DomainError("not_found", f"no submission {result.submission_id}", status=404)
    if submission.status == Status.DONE:
        logger.info("submission %s already has a result; ignoring a repeated delivery", submission.pk)
        return submission
    if result.claim and (
        result.claim < submission.claim
        or claims.claim_refuses(
            submission_id=submission.pk, request_id=str(submission.request_id), token=result.claim
        )
    ):
        # A grader whose claim was replaced (it stalled past its lease, and the submission was sent
        # again): the newer run's result is the one to record.
        logger.warning("submission %s: refusing a result from claim %s, replaced by a newer run",
                       submission.pk, result.claim)  # fmt: skip
        return submission
    # Everything a job could have influenced is cleaned first: a NUL or a NaN must never make a result
    # unstorable (PostgreSQL rejects both) and so lost.
    submission.checks = clean_json([check.__dict__ for check in result.checks])
    submission.resources = clean_json(result.resources)
    submission.device = clean_text(result.device)[:16]
    submission.versions = clean_json(result.versions)
    submission.traceback = clean_text(result.traceback)
    submission.artifacts = clean_json(result.artifacts)
    _finish(
        submission,
        verdict=Verdict(result.verdict.value),
        score=result.score,
        message=clean_json(result.message),
        now=timezone.now(),
    )
    logger.info("submission %s recorded: %s (%.0f) from grader %s", submission.pk, submission.verdict,
                result.score, clean_text(result.grader)[:200] or "?")  # fmt: skip
    if submission.purpose == Purpose.RERUN:
        pass  # a regrade's re-run: stored, but progress is left as it was
    elif submission.mode == Mode.SUBMIT:
        _progress_record(submission)
    elif submission.mode == Mode.RUN:
        _activity_record(submission)
    return submission


REAPED_MESSAGE = {
    "zh": "没有评测机在时限内完成这次提交；它不计入尝试次数，请重新提交。",
    "en": "No grader finished this submission in time; it was not counted, please submit again.",
}


def submissions_reap(*, now: dt.datetime | None = None) -> int:
    """Fail the submissions still queued or running past their deadline; how many were failed.

    A reaped submission is ours to blame (internal_error) and not an attempt: progress is untouched.
    Each row is locked and re-checked on its own, so a result arriving at the same moment wins cleanly
    and running the reaper twice (beat on two workers, the command by hand) changes nothing more.
    """
    now = now or timezone.now()
    stuck = list(
        Submission.objects.filter(status__in=[Status.QUEUED, Status.RUNNING], deadline__lt=now)
        .order_by("deadline")
        .values_list("pk", flat=True)[:1000]
    )
    return sum(1 for submission_id in stuck if _reap_one(submission_id, now))


@transaction.atomic
def _reap_one(submission_id: int, now: dt.datetime) -> bool:
    submission = (
        Submission.objects.select_for_update()
        .filter(pk=submission_id, status__in=[Status.QUEUED, Status.RUNNING], deadline__lt=now)
        .first()
    )
    if submission is None:
        return False
    logger.warning(
        "reaping submission %s: still %s at its deadline %s",
        submission.pk,
        submission.status,
        submission.deadline,
    )
    _finish(submission, verdict=Verdict.INTERNAL_ERROR, score=0.0, message=REAPED_MESSAGE, now=now)
    return True


def _finish(
    submission: Submission, *, verdict: Verdict, score: float, message: dict[str, str], now: dt.datetime
) -> None:
    """Mark a locked submission done with its log and, on commit, publish the final event.

    The final event is stored as the log's last entry with the seq the store will give it (one past the
    last), so a follower replaying the database log and one following the stream see the same numbers.
    """
    store = eventlog.get_event_log()
    events = store.read(submission.pk)
    payload = eventlog.final_payload(verdict=verdict.value, score=score)
    final = GradeEvent((events[-1].seq if events else 0) + 1, EventKind.STATUS, payload, time.time())
    submission.status = Status.DONE
    submission.verdict = verdict
    submission.score = score
    submission.message = message
    submission.log = clean_json([event.to_wire() for event in [*eventlog.capped(events), final]])
    submission.started_at = submission.started_at or now
    submission.finished_at = now
    submission.save()
    request_id = str(submission.request_id)
    transaction.on_commit(lambda: _publish_final(submission.pk, payload, request_id))
    signals.send_on_commit(
        signals.submission_finished,
        Submission,
        submission_id=submission.pk,
        user_id=submission.user_id,
        exercise_id=submission.exercise_id,
        mode=submission.mode,
        purpose=submission.purpose,
        verdict=verdict.value,
        score=score,
    )


def _publish_final(submission_id: int, payload: dict[str, object], request_id: str) -> None:
    claims.claim_mark_done(submission_id, request_id)  # first: no copy of the request may run any more
    store = eventlog.get_event_log()
    try:
        store.append(submission_id, EventKind.STATUS, payload)
        store.expire(submission_id)
    except eventlog.EventLogUnavailable:
        # The result is committed; followers notice the database says done and replay its log instead.
        logger.exception("could not publish the final event of submission %s", submission_id)


def _progress_record(submission: Submission) -> None:
    progress, _created = ExerciseProgress.objects.select_for_update().get_or_create(
        user_id=submission.user_id, exercise_id=submission.exercise_id
    )
    progress.attempts += 1  # the row is locked: no lost update
    progress.last_submitted_at = submission.finished_at
    # Hybrid and manual trials are scored and passed by their review (progress_apply_review); their
    # automatic checks only gate what reaches the review queue.
    if submission.version.grading == GradingMode.AUTO:
        progress.best_score = max(progress.best_score, submission.score or 0.0)
        if submission.verdict == Verdict.PASSED and progress.passed_at is None:
            progress.passed_at = submission.finished_at
    progress.save(update_fields=["attempts", "best_score", "last_submitted_at", "passed_at"])
    _announce_progress(user_id=submission.user_id, exercise_id=submission.exercise_id)


def _activity_record(submission: Submission) -> None:
    """A Run counts no attempt, but it is activity: the instructor's matrix shows the trial as being
    worked on (attempts stay 0) and when, instead of "not started"."""
    progress, _created = ExerciseProgress.objects.select_for_update().get_or_create(
        user_id=submission.user_id, exercise_id=submission.exercise_id
    )
    progress.last_submitted_at = submission.finished_at
    progress.save(update_fields=["last_submitted_at"])
    _announce_progress(user_id=submission.user_id, exercise_id=submission.exercise_id)


@transaction.atomic
def progress_apply_review(
    *, user: User, exercise: Exercise, score: float, passed_at: dt.datetime | None
) -> ExerciseProgress:
    """Set a reviewed trial's standing: its best reviewed score (0..100) and when a review first passed it.

    Called by the review service with values computed over all of the student's reviews of the trial, so
    applying it again gives the same row.
    """
    progress, _created = ExerciseProgress.objects.select_for_update().get_or_create(
        user_id=user.pk, exercise_id=exercise.pk
    )
    progress.best_score = score
    progress.passed_at = passed_at
    progress.save(update_fields=["best_score", "passed_at"])
    _announce_progress(user_id=user.pk, exercise_id=exercise.pk)
    return progress


def _announce_progress(*, user_id: int, exercise_id: int) -> None:
    signals.send_on_commit(
        signals.progress_changed, ExerciseProgress, user_id=user_id, exercise_id=exercise_id
    )
