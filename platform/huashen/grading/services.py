"""The write path for submissions and progress: every state change of a submission goes through here."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading import dispatch, events
from huashen.grading.models import ExerciseProgress, Mode, Status, Submission, Verdict
from huashen.grading.selectors import realm_is_unlocked
from workers.protocol import GradeRequest, GradeResult, Limits
from workers.protocol import Mode as ProtocolMode

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
            deadline=timezone.now() + dt.timedelta(seconds=wall + settings.GRADING_GRACE_SECONDS),
        )
        request = GradeRequest(
            submission_id=submission.pk,
            trial=exercise.slug,
            content_hash=version.content_hash,
            mode=ProtocolMode(mode),
            code=text,
            limits=Limits(**version.limits),
            device=version.device,
            request_id=str(submission.request_id),
        )
        transaction.on_commit(lambda: dispatch.send_grade_request(request))
    logger.info("submission %s queued for %s (%s)", submission.pk, exercise.slug, mode)
    return submission


def submission_mark_running(*, submission_id: int) -> None:
    updated = Submission.objects.filter(pk=submission_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    if updated:
        transaction.on_commit(lambda: events.publish_status(submission_id, Status.RUNNING))


@transaction.atomic
def submission_record_result(
    *, result: GradeResult, log: list[dict[str, object]] | None = None
) -> Submission:
    """Store a grader's verdict and update progress. Idempotent: a second delivery changes nothing."""
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
    now = timezone.now()
    submission.status = Status.DONE
    submission.verdict = Verdict(result.verdict.value)
    submission.score = result.score
    submission.checks = [check.__dict__ for check in result.checks]
    submission.resources = result.resources
    submission.device = result.device
    submission.versions = result.versions
    submission.message = result.message
    submission.traceback = result.traceback
    submission.log = log or []
    submission.started_at = submission.started_at or now
    submission.finished_at = now
    submission.save()
    if submission.mode == Mode.SUBMIT:
        _progress_record(submission)
    transaction.on_commit(lambda: events.publish_status(submission.pk, Status.DONE))
    return submission


def _progress_record(submission: Submission) -> None:
    progress, _created = ExerciseProgress.objects.select_for_update().get_or_create(
        user_id=submission.user_id, exercise_id=submission.exercise_id
    )
    progress.attempts += 1  # the row is locked: no lost update
    progress.best_score = max(progress.best_score, submission.score or 0.0)
    progress.last_submitted_at = submission.finished_at
    if submission.verdict == Verdict.PASSED and progress.passed_at is None:
        progress.passed_at = submission.finished_at
    progress.save(update_fields=["attempts", "best_score", "last_submitted_at", "passed_at"])
