"""The Try cell's write path: a snippet run beside the student's current code, never graded.

A try is a Submission of mode `try` (its snippet stored beside the code) so it travels the graders' one
path: the outbox, the claim, the warm pool, the live event stream and the recorded result. It is never an
attempt and never activity: the result service counts only Submit (and notes Run as activity), no
`submission_created` is sent for it, and the lists of a student's submissions leave it out. It has its
own rate limit, so trying snippets never uses up the Submits of the minute.
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
from huashen.grading import dispatch, services
from huashen.grading.models import Dispatch, Mode, Submission
from huashen.grading.selectors import realm_is_unlocked
from huashen.grading.syntax import SyntaxProblem, check_syntax
from huashen.ops.observability import request_uuid

logger = logging.getLogger(__name__)


def validate_snippet(snippet: str) -> str:
    """The snippet as text, or a DomainError on field `snippet`: empty, too large, holding NUL, or not
    Python (a 400 `syntax_error` with its line and column, answered before anything is stored)."""
    size = len(snippet.encode("utf-8", errors="surrogatepass"))
    limit = settings.TRY_SNIPPET_MAX_BYTES
    if size > limit:
        raise DomainError(
            "too_large",
            _("代码片段太长：%(size)d 字节，上限 %(limit)d 字节。") % {"size": size, "limit": limit},
            "snippet",
            status=413,
        )
    if "\x00" in snippet:
        raise DomainError("invalid_code", _("代码中不能含有 NUL 字符。"), "snippet")
    if not snippet.strip():
        raise DomainError("empty_snippet", _("先写一段要试运行的代码。"), "snippet")
    try:
        check_syntax(snippet)
    except SyntaxProblem as problem:
        problem.field = "snippet"
        raise
    return snippet


def _check_try_rate(user: User) -> None:
    window_start = timezone.now() - dt.timedelta(minutes=1)
    recent = list(
        Submission.objects.filter(user=user, mode=Mode.TRY, created_at__gte=window_start)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.TRIES_PER_MINUTE]
    )
    if len(recent) >= settings.TRIES_PER_MINUTE:
        retry_after = max(1, int((recent[-1] + dt.timedelta(minutes=1) - timezone.now()).total_seconds()) + 1)
        raise DomainError(
            "rate_limited",
            _("试运行太频繁：每分钟最多 %(limit)d 次，请 %(seconds)d 秒后再试。")
            % {"limit": settings.TRIES_PER_MINUTE, "seconds": retry_after},
            status=429,
            headers={"Retry-After": str(retry_after)},
        )


def try_create(*, user: User, exercise: Exercise, code: str | bytes, snippet: str) -> Submission:
    """Validate the code and the snippet, store the try as queued and, on commit, send it to a grader."""
    text = services.validate_code(code)
    check_syntax(text)  # solution.py that cannot compile: said at once, with the editor's marker
    validate_snippet(snippet)
    if not exercise.is_published or exercise.current_version is None:
        raise DomainError("not_found", _("没有这个试炼。"), "exercise", status=404)
    if not realm_is_unlocked(user=user, realm=exercise.realm):
        raise DomainError(
            "realm_locked", _("这个境界尚未开启：先通过上一境界的试炼。"), "exercise", status=403
        )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one user's tries one at a time
        _check_try_rate(user)
        version = exercise.current_version
        wall = int(version.limits.get("wall_seconds", 60))
        submission = Submission.objects.create(
            user=user,
            exercise=exercise,
            version=version,
            code=text,
            snippet=snippet,
            mode=Mode.TRY,
            deadline=services.grading_deadline(start=timezone.now(), wall_seconds=wall),
            request_id=request_uuid(),
        )
        Dispatch.objects.create(submission=submission)
        transaction.on_commit(lambda: dispatch.dispatch_send(submission_id=submission.pk))
    logger.info("try %s queued for %s", submission.pk, exercise.slug)
    return submission
