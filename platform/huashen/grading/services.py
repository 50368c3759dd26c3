"""The sending side of grading: every submission is created (or sent again) here.

`submission_create` (a student's Run or Submit), `submission_create_rerun` (a regrade's re-run) and
`submissions_recover` (a submission whose grader died) store the row and its outbox entry; `dispatch.py`
hands it to the graders on commit. What graders report back is recorded by `results.py`.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading import claims, dispatch, signals
from huashen.grading.models import Dispatch, Mode, Purpose, Status, Submission
from huashen.grading.results import grading_deadline
from huashen.grading.selectors import realm_is_unlocked
from huashen.grading.syntax import check_syntax
from huashen.ops.observability import request_uuid

logger = logging.getLogger(__name__)


def validate_code(code: str | bytes) -> str:
    """The student's code as text, or a DomainError: too large (413), not UTF-8 or holding NUL (400)."""
    raw = code if isinstance(code, bytes) else code.encode("utf-8", errors="surrogatepass")
    if len(raw) > settings.SUBMISSION_MAX_BYTES:
        raise DomainError(
            "too_large",
            _("代码太长：%(size)d 字节，上限 %(limit)d 字节。")
            % {"size": len(raw), "limit": settings.SUBMISSION_MAX_BYTES},
            "code",
            status=413,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError("invalid_encoding", _("代码必须是 UTF-8 文本。"), "code") from None
    if "\x00" in text:
        raise DomainError("invalid_code", _("代码中不能含有 NUL 字符。"), "code")
    if not text.strip():
        raise DomainError("empty_code", _("代码不能为空。"), "code")
    return text


def _check_rate(user: User) -> None:
    window_start = timezone.now() - dt.timedelta(minutes=1)
    recent = list(
        Submission.objects.filter(user=user, created_at__gte=window_start)
        .exclude(mode=Mode.TRY)  # the Try cell has its own limit (huashen.grading.scratch)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.SUBMISSIONS_PER_MINUTE]
    )
    if len(recent) >= settings.SUBMISSIONS_PER_MINUTE:
        oldest = recent[-1]
        retry_after = max(1, int((oldest + dt.timedelta(minutes=1) - timezone.now()).total_seconds()) + 1)
        raise DomainError(
            "rate_limited",
            _("提交太频繁：每分钟最多 %(limit)d 次，请 %(seconds)d 秒后再试。")
            % {"limit": settings.SUBMISSIONS_PER_MINUTE, "seconds": retry_after},
            status=429,
            headers={"Retry-After": str(retry_after)},
        )


def submission_create(*, user: User, exercise: Exercise, code: str | bytes, mode: str) -> Submission:
    """Validate, pin the trial's current version, store the submission as queued and, on commit, send it."""
    if mode not in Mode.values:
        raise DomainError("invalid_mode", _("模式必须是 run 或 submit。"), "mode")
    text = validate_code(code)
    check_syntax(text)  # before anything is stored: a syntax error is no attempt
    if not exercise.is_published or exercise.current_version is None:
        raise DomainError("not_found", _("没有这个试炼。"), "exercise", status=404)
    if not realm_is_unlocked(user=user, realm=exercise.realm):
        raise DomainError(
            "realm_locked", _("这个境界尚未开启：先通过上一境界的试炼。"), "exercise", status=403
        )
    with transaction.atomic():
        # Serialise one user's submissions so two concurrent requests cannot both slip under the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        _check_rate(user)
        version = exercise.current_version
        wall = int(version.limits.get("wall_seconds", 60))
        submission = Submission.objects.create(
            user=user,
            exercise=exercise,
            version=version,
            code=text,
            mode=mode,
            deadline=grading_deadline(start=timezone.now(), wall_seconds=wall),
            request_id=request_uuid(),  # the HTTP request's id: one grep follows it to the grader and back
        )
        # The outbox row commits with the submission: a broker outage delays the grading, never loses it.
        Dispatch.objects.create(submission=submission)
        _announce_created(submission)
        transaction.on_commit(lambda: dispatch.dispatch_send(submission_id=submission.pk))
    logger.info("submission %s queued for %s (%s)", submission.pk, exercise.slug, mode)
    return submission


def _announce_created(submission: Submission) -> None:
    """Sent inside the creating transaction, so what a receiver writes commits or rolls back with the row."""
    signals.send_now(
        signals.submission_created,
        Submission,
        submission_id=submission.pk,
        user_id=submission.user_id,
        exercise_id=submission.exercise_id,
        mode=submission.mode,
        purpose=submission.purpose,
    )


# How many times a submission is sent again after its grader died; beyond that (code that keeps killing
# graders) the reaper has the last word.
MAX_RECOVERIES = 2


def submissions_recover(*, now: dt.datetime | None = None) -> int:
    """Send again the submissions whose grader died mid-run; how many were sent.

    A grader renews its claim every third of the lease while it runs (and holds it after sending the
    result until the platform marks it done); a running submission whose claim is gone lost its grader. Its task would come back only after the broker's
    visibility timeout (about the hard limit); instead the submission goes back to `queued` with a fresh
    deadline and a new outbox row, and the next claim's higher token fences the dead run out should it
    come back. A copy restored by the broker later finds the claim taken or done and does not run.
    """
    now = now or timezone.now()
    candidates = list(
        Submission.objects.filter(status=Status.RUNNING, recoveries__lt=MAX_RECOVERIES, claim__gt=0)
        .filter(dispatch__isnull=True)
        .order_by("created_at")
        .values_list("pk", "request_id")[:1000]
    )
    try:
        orphans = claims.claims_expired([(pk, str(request_id)) for pk, request_id in candidates])
    except Exception:  # Redis away: nothing can be told about claims now; the next sweep looks again
        logger.warning("could not read grader claims; recovery waits for the next sweep")
        return 0
    return sum(1 for submission_id in orphans if _recover_one(submission_id, now))


@transaction.atomic
def _recover_one(submission_id: int, now: dt.datetime) -> bool:
    submission = (
        Submission.objects.select_for_update()
        .select_related("version")
        .filter(pk=submission_id, status=Status.RUNNING)
        .first()
    )
    if submission is None or Dispatch.objects.filter(submission_id=submission_id).exists():
        return False
    wall = int(submission.version.limits.get("wall_seconds", 60))
    logger.warning("submission %s: its grader's claim expired (the grader died); sending it again",
                   submission.pk)  # fmt: skip
    submission.status = Status.QUEUED
    submission.recoveries += 1
    submission.deadline = max(submission.deadline, grading_deadline(start=now, wall_seconds=wall))
    submission.save(update_fields=["status", "recoveries", "deadline"])
    Dispatch.objects.create(submission=submission)
    transaction.on_commit(lambda: dispatch.dispatch_send(submission_id=submission.pk))
    return True


def submission_create_rerun(*, original: Submission) -> Submission:
    """A copy of `original` graded against its trial's current version at low priority (a regrade).

    No rate limit and no realm check: staff start it, not the student. The caller records it as a rerun
    Its `purpose` is RERUN: it never counts as an attempt.
    """
    exercise = original.exercise
    version = exercise.current_version
    if version is None:
        raise DomainError("not_found", _("没有这个试炼。"), "exercise", status=404)
    wall = int(version.limits.get("wall_seconds", 60))
    with transaction.atomic():
        submission = Submission.objects.create(
            user_id=original.user_id,
            exercise=exercise,
            version=version,
            code=original.code,
            mode=Mode.SUBMIT,
            purpose=Purpose.RERUN,
            deadline=grading_deadline(start=timezone.now(), wall_seconds=wall),
        )
        Dispatch.objects.create(submission=submission, priority=dispatch.REGRADE_PRIORITY)
        _announce_created(submission)
        transaction.on_commit(lambda: dispatch.dispatch_send(submission_id=submission.pk))
    return submission
