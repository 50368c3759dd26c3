"""The trial page: statement, editor, live run view, feedback, hints. The interactive parts are the
`trial` TypeScript island (frontend/src/trial/); this view renders everything that works without it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from huashen.accounts.models import Role, User
from huashen.curriculum.models import pick_language
from huashen.errors import DomainError
from huashen.grading.selectors import exercise_get_open_for_student
from huashen.practice.markdown import render_markdown, without_title
from huashen.practice.models import ActivityKind
from huashen.practice.selectors import (
    draft_get,
    exercise_passed_by,
    hint_count,
    hints_revealed,
    latest_submission_id,
    standin_weights_in_use,
    uses_pretrained_weights,
)
from huashen.practice.services import activity_record


@login_required
def exercise_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        exercise = exercise_get_open_for_student(user=user, slug=slug)
    except DomainError as error:
        if error.code != "realm_locked":
            raise Http404(error.message) from None
        # The same rule as the API's 403: the realm map shows where the trial is and what opens it.
        messages.error(request, _("这道试炼所在的境界尚未开启：先通过上一境界的试炼。"))
        return redirect("web:realm-map")
    version = exercise.current_version
    assert version is not None
    draft = draft_get(user=user, exercise=exercise)
    language = "en" if (get_language() or "").startswith("en") else "zh"
    hints = [
        {"index": hint.index, "html": render_markdown(hint.en if language == "en" and hint.en else hint.zh)}
        for hint in hints_revealed(user=user, exercise=exercise)
    ]
    passed = exercise_passed_by(user=user, exercise=exercise)
    latest = latest_submission_id(user=user, exercise=exercise)
    activity_record(user_id=user.pk, exercise_id=exercise.pk, kind=ActivityKind.OPENED)
    config = {
        "slug": exercise.slug,
        "language": language,
        "csrfToken": get_token(request),
        "starter": version.starter_code,
        "code": draft.code if draft is not None else version.starter_code,
        "source": "draft" if draft is not None else "starter",
        "hintCount": hint_count(exercise),
        "revealed": len(hints),
        "referenceAvailable": passed or user.role != Role.STUDENT,
        "latestSubmission": latest,
        # The browser's copy of an unsaved edit, per user and trial, and the server draft it is compared to.
        "draftKey": f"huashen:draft:{user.pk}:{exercise.slug}",
        "draftUpdatedAt": draft.updated_at.isoformat() if draft is not None else None,
        "urls": {
            "draft": reverse("api:exercise-draft", args=[exercise.slug]),
            "hints": reverse("api:exercise-hints", args=[exercise.slug]),
            "reference": reverse("api:exercise-reference", args=[exercise.slug]),
            "submissions": reverse("api:submissions"),
        },
    }
    return render(
        request,
        "web/trial.html",
        {
            "exercise": exercise,
            "version": version,
            "title": pick_language(version.title_zh, version.title_en),
            "statement": render_markdown(
                without_title(pick_language(version.statement_zh, version.statement_en))
            ),
            "code": config["code"],
            "from_draft": draft is not None,
            "hints": hints,
            "hint_count": config["hintCount"],
            "passed": passed,
            "standin_weights": uses_pretrained_weights(version) and standin_weights_in_use(),
            "config": config,
        },
    )
