"""The write path for practice state: drafts, hint reveals, activity events."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading.services import validate_code
from huashen.practice.models import ActivityEvent, ActivityKind, Draft, HintReveal

# Autosave fires every few seconds while a student types; one "draft saved" event a minute is plenty to
# tell time on task, and keeps the table small.
DRAFT_EVENT_COALESCE_SECONDS = 60


def activity_record(
    *, user_id: int, exercise_id: int, kind: str, coalesce_seconds: int = 0, now: dt.datetime | None = None
) -> ActivityEvent | None:
    """Append one activity event; None when an event of the same kind is younger than `coalesce_seconds`."""
    if kind not in ActivityKind.values:
        raise ValueError(f"unknown activity kind {kind!r}")
    now = now or timezone.now()
    if coalesce_seconds > 0:
        window_start = now - dt.timedelta(seconds=coalesce_seconds)
        recent = ActivityEvent.objects.filter(
            exercise_id=exercise_id, user_id=user_id, kind=kind, at__gte=window_start
        )
        if recent.exists():
            return None
    return ActivityEvent.objects.create(user_id=user_id, exercise_id=exercise_id, kind=kind, at=now)


def _draft_text(code: str | bytes) -> str:
    """Drafts obey the submission rules (size, UTF-8, no NUL), except that an empty editor may be saved."""
    try:
        return validate_code(code)
    except DomainError as error:
        if error.code == "empty_code":
            return code.decode("utf-8") if isinstance(code, bytes) else code
        raise


@transaction.atomic
def draft_save(*, user: User, exercise: Exercise, code: str | bytes) -> Draft:
    """Store `code` as the student's draft of `exercise` (one per student and trial), and note the save."""
    text = _draft_text(code)
    # Write first, read after: a transaction that starts with a write takes SQLite's write lock at once
    # (waiting its turn), where a read upgraded to a write fails with "database is locked" when a grader
    # result is being stored at the same moment (embedded mode). PostgreSQL does not mind either way.
    updated = Draft.objects.filter(user=user, exercise=exercise).update(code=text, updated_at=timezone.now())
    if updated:
        draft = Draft.objects.get(user=user, exercise=exercise)
    else:
        draft, _created = Draft.objects.get_or_create(user=user, exercise=exercise, defaults={"code": text})
        if draft.code != text:  # a concurrent first save won the insert: ours is the later text
            Draft.objects.filter(pk=draft.pk).update(code=text, updated_at=timezone.now())
            draft.refresh_from_db()
    activity_record(
        user_id=user.pk,
        exercise_id=exercise.pk,
        kind=ActivityKind.DRAFT_SAVED,
        coalesce_seconds=DRAFT_EVENT_COALESCE_SECONDS,
    )
    return draft


def hint_reveal_next(*, user: User, exercise: Exercise) -> HintReveal:
    """Reveal the next hint of the trial's current version, in order, and record it.

    409 when every hint is already revealed. Two concurrent clicks reveal one hint, not two: the second
    insert meets the unique constraint and returns the row the first one made.
    """
    version = exercise.current_version
    hint_count = len(version.hints) if version is not None else 0
    index = HintReveal.objects.filter(user=user, exercise=exercise).count()
    if index >= hint_count:
        raise DomainError("no_more_hints", _("已经没有更多提示了。"), status=409)
    try:
        with transaction.atomic():
            reveal = HintReveal.objects.create(user=user, exercise=exercise, index=index)
            activity_record(user_id=user.pk, exercise_id=exercise.pk, kind=ActivityKind.HINT_REVEALED)
    except IntegrityError:
        return HintReveal.objects.get(user=user, exercise=exercise, index=index)
    return reveal
