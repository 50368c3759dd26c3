"""A student's records as pages: the realm map, a trial's history, one submission, a diff, the profile.

Thin: reads go through `huashen.web.records_selectors` and the grading selectors; a submission only ever
through `submission_get_for_viewer`, so another student's id answers 404 like an id that does not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from huashen.accounts.models import Role, User
from huashen.errors import DomainError
from huashen.grading.models import Status
from huashen.grading.selectors import exercise_get_for_student, submission_get_for_viewer
from huashen.web.forms import JoinCohortForm
from huashen.web.records_selectors import (
    exercise_history_for_user,
    realm_map_for_user,
    recent_activity_for_user,
    seconds_on_task_for_user,
    submission_check_rows,
    submission_diff_for_viewer,
    submission_explanation,
    submission_images,
    submission_log_text,
    submission_standing,
)

HISTORY_PAGE_SIZE = 50


def _viewer(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _not_found(error: DomainError) -> Http404:
    return Http404(error.message)


@login_required
def realm_map(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    # Joining a cohort is a student's step: instructors run cohorts instead, and a student who is in one
    # sees it named, with joining another folded away.
    is_student = user.role == Role.STUDENT
    return render(
        request,
        "web/realm_map.html",
        {
            "map": realm_map_for_user(user=user),
            "join_form": JoinCohortForm() if is_student else None,
            "cohorts": list(user.cohorts.order_by("name").values_list("name", flat=True))
            if is_student
            else [],
        },
    )


@login_required
def exercise_history(request: HttpRequest, slug: str) -> HttpResponse:
    """Every submission of one trial by the viewer; `?a=&b=` (the compare form) opens their diff."""
    user = _viewer(request)
    try:
        exercise = exercise_get_for_student(user=user, slug=slug)
    except DomainError as error:
        raise _not_found(error) from error
    if "a" in request.GET or "b" in request.GET:
        left, right = request.GET.get("a", ""), request.GET.get("b", "")
        if left.isdigit() and right.isdigit() and left != right:
            return redirect("web:submission-diff", left=int(left), right=int(right))
        messages.error(request, _("请选择两次不同的提交来比较。"))
        return redirect("web:trial-history", slug=slug)
    page = Paginator(exercise_history_for_user(user=user, exercise=exercise), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/history.html", {"exercise": exercise, "page": page})


@login_required
def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    try:
        submission = submission_get_for_viewer(user=_viewer(request), submission_id=submission_id)
    except DomainError as error:
        raise _not_found(error) from error
    return render(
        request,
        "web/submission.html",
        {
            "submission": submission,
            "finished": submission.status == Status.DONE,
            "explanation": submission_explanation(submission=submission),
            "standings": submission_standing(submission=submission),
            "checks": submission_check_rows(submission=submission),
            "images": submission_images(submission=submission),
            "log_text": submission_log_text(submission=submission),
            # Measured figures only: the instruments' summary (a dict) is the coach's to explain.
            "resources": sorted(
                (key, value)
                for key, value in (submission.resources or {}).items()
                if not isinstance(value, dict)
            ),
        },
    )


@login_required
def submission_diff(request: HttpRequest, left: int, right: int) -> HttpResponse:
    try:
        diff = submission_diff_for_viewer(user=_viewer(request), left_id=left, right_id=right)
    except DomainError as error:
        if error.status == 404:
            raise _not_found(error) from error
        return render(request, "web/submission_diff_error.html", {"error": error}, status=error.status)
    view = "side" if request.GET.get("view") == "side" else "unified"
    return render(request, "web/submission_diff.html", {"diff": diff, "view": view})


def _route_exists(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    return render(
        request,
        "web/profile.html",
        {
            "map": realm_map_for_user(user=user),
            "activity": recent_activity_for_user(user=user),
            "minutes_on_task": round(seconds_on_task_for_user(user=user) / 60),
            "cohorts": list(user.cohorts.order_by("name")),
            "tokens_url": "/profile/tokens/" if _route_exists("/profile/tokens/") else "",
        },
    )
