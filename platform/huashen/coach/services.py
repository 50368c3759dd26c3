"""The coach as the platform serves it: the submission rules on the text, a per-user rate limit, the
analysis, and each finding dressed with its rule's explanation and the trial that teaches it."""

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from huashen.accounts.models import User
from huashen.coach.analysis import code_analyze
from huashen.coach.catalogue import RULES
from huashen.coach.explains import checks_explained, failed_check_keys
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading.services import validate_code


def _check_rate(user: User) -> None:
    """At most COACH_ANALYSES_PER_MINUTE per user in each clock minute (a counter in the cache, shared by
    every web process when the cache is Redis)."""
    now = time.time()
    minute = int(now // 60)
    key = f"huashen:coach:rate:{user.pk}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > settings.COACH_ANALYSES_PER_MINUTE:
        retry_after = max(1, int((minute + 1) * 60 - now) + 1)
        raise DomainError(
            "rate_limited",
            _("分析太频繁：每分钟最多 %(limit)d 次，请 %(seconds)d 秒后再试。")
            % {"limit": settings.COACH_ANALYSES_PER_MINUTE, "seconds": retry_after},
            status=429,
            headers={"Retry-After": str(retry_after)},
        )


def findings_describe(code: str, *, trial: str = "", checks: list[Any] | None = None) -> dict[str, Any]:
    """The analysis of `code` as the API answers it (no checks of size or rate: see `code_coach`). Given the
    trial and a finished submission's `checks`, each finding names the failed checks it most likely
    explains (`explains`, check keys; empty otherwise)."""
    analysis = code_analyze(code)
    failed = failed_check_keys(checks or [])
    slugs = {RULES[finding.rule].trial for finding in analysis.findings}
    titles = {
        exercise.slug: (exercise.current_version.title_zh, exercise.current_version.title_en)
        for exercise in Exercise.objects.filter(slug__in=slugs, current_version__isnull=False).select_related(
            "current_version"
        )
        if exercise.current_version is not None
    }
    findings = []
    for finding in analysis.findings:
        rule = RULES[finding.rule]
        title = titles.get(rule.trial)
        findings.append(
            {
                "rule": rule.id,
                "severity": rule.severity,
                "line": finding.line,
                "column": finding.column,
                "end_line": finding.end_line,
                "end_column": finding.end_column,
                "title": {"zh": rule.title_zh, "en": rule.title_en},
                "why": {"zh": rule.why_zh, "en": rule.why_en},
                "trial": {
                    "slug": rule.trial,
                    "title": {"zh": title[0], "en": title[1]} if title else None,
                    "url": f"/trials/{rule.trial}/",
                },
                "explains": checks_explained(trial=trial, rule=rule.id, failed=failed),
            }
        )
    parse_error = analysis.parse_error
    return {
        "findings": findings,
        "parse_error": (
            {"line": parse_error.line, "column": parse_error.column, "message": parse_error.message}
            if parse_error
            else None
        ),
        "complete": analysis.complete,
    }


def code_coach(*, user: User, code: str | bytes) -> dict[str, Any]:
    """What the coach says about `code`: the submission's size and encoding rules (an empty editor has
    nothing to say), the per-user rate limit, then the findings. Never stores anything."""
    try:
        text = validate_code(code)
    except DomainError as error:
        if error.code != "empty_code":
            raise
        return {"findings": [], "parse_error": None, "complete": True}
    _check_rate(user)
    return findings_describe(text)
