"""Pages for instructors (/teach/) and staff (/staff/). Thin: the access checks are the selectors'.

Every cohort page starts with `cohort_get_for_instructor` (404 for a cohort the user does not teach);
users who teach nothing get 403 on every page here.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huashen.accounts.models import Role, User
from huashen.accounts.selectors import cohort_get_for_instructor, cohorts_taught_by
from huashen.accounts.services import cohort_create
from huashen.curriculum.reports import sync_summary_lines
from huashen.curriculum.services import exercises_sync
from huashen.errors import DomainError
from huashen.ops import operations
from huashen.teaching import exports, selectors
from huashen.teaching.services import exercise_set_published, regrade_start, review_submit

View = Callable[..., HttpResponse]


def _domain_errors_as_http(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if error.status == 404:
                raise Http404(error.message) from None
            if error.status == 403:
                raise PermissionDenied(error.message) from None
            raise

    return wrapper


def instructor_required(view: View) -> View:
    """Signed in (else the login page), an instructor or admin (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _user(request).is_instructor:
            raise PermissionDenied(_("只有导师可以查看这个页面。"))
        return _domain_errors_as_http(view)(request, *args, **kwargs)

    return wrapper


def admin_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _user(request).role != Role.ADMIN:
            raise PermissionDenied(_("只有管理员可以查看这个页面。"))
        return _domain_errors_as_http(view)(request, *args, **kwargs)

    return wrapper


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


# --- cohorts -------------------------------------------------------------------------------------------
@instructor_required
def teach_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        try:
            cohort = cohort_create(name=request.POST.get("name", ""), instructor=user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已创建班级：%(name)s") % {"name": cohort.name})
            return redirect("teaching:cohort", cohort_id=cohort.pk)
    cohorts = cohorts_taught_by(user=user).prefetch_related("instructors").order_by("name")
    return render(
        request,
        "teaching/home.html",
        {"cohorts": cohorts, "queue_size": selectors.review_queue(reviewer=user).count()},
    )


@instructor_required
def cohort_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    return render(
        request,
        "teaching/cohort.html",
        {
            "cohort": cohort,
            "roster": selectors.cohort_roster(cohort=cohort),
            "exercises": selectors.published_exercises().select_related("current_version", "realm"),
        },
    )


@instructor_required
def cohort_matrix(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    matrix = selectors.cohort_matrix(
        cohort=cohort,
        realm_slug=request.GET.get("realm", ""),
        sort=request.GET.get("sort", "name"),
        page=_int(request.GET.get("page"), 1),
    )
    # 2,500 cell links a page: one reversed prefix, not a reverse() per cell.
    student_base = reverse("teaching:student", args=[cohort.pk, 0]).removesuffix("0/")
    return render(
        request, "teaching/matrix.html", {"cohort": cohort, "matrix": matrix, "student_base": student_base}
    )


@instructor_required
def cohort_matrix_csv(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    matrix = selectors.cohort_matrix(
        cohort=cohort,
        realm_slug=request.GET.get("realm", ""),
        sort=request.GET.get("sort", "name"),
        page=None,
    )
    return exports.matrix_csv(matrix)


@instructor_required
def student_detail(request: HttpRequest, cohort_id: int, student_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    student = selectors.cohort_student_get(cohort=cohort, student_id=student_id)
    return render(
        request,
        "teaching/student.html",
        {"cohort": cohort, "view": selectors.student_view(student=student)},
    )


@instructor_required
def student_exercise(request: HttpRequest, cohort_id: int, student_id: int, slug: str) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    student = selectors.cohort_student_get(cohort=cohort, student_id=student_id)
    exercise = selectors.cohort_exercise_get(slug=slug)
    return render(
        request,
        "teaching/student_trial.html",
        {
            "cohort": cohort,
            "student": student,
            "exercise": exercise,
            "submissions": selectors.student_submissions_for_exercise(student=student, exercise=exercise),
        },
    )


@instructor_required
def exercise_statistics(request: HttpRequest, cohort_id: int, slug: str) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    exercise = selectors.cohort_exercise_get(slug=slug)
    stats = selectors.exercise_statistics(cohort=cohort, exercise=exercise)
    chart = {
        "days": [day.isoformat() for day, _count in stats.submissions_per_day],
        "counts": [count for _day, count in stats.submissions_per_day],
        "buckets": stats.score_buckets,
    }
    return render(
        request,
        "teaching/statistics.html",
        {"cohort": cohort, "exercise": exercise, "stats": stats, "chart": chart},
    )


@instructor_required
def exercise_submissions_csv(request: HttpRequest, cohort_id: int, slug: str) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    exercise = selectors.cohort_exercise_get(slug=slug)
    return exports.submissions_csv(
        cohort_id=cohort.pk,
        slug=exercise.slug,
        submissions=selectors.exercise_submissions_for_cohort(cohort=cohort, exercise=exercise).iterator(
            chunk_size=500
        ),
    )


# --- reviews -------------------------------------------------------------------------------------------
@instructor_required
def review_queue(request: HttpRequest) -> HttpResponse:
    queue = selectors.review_queue(reviewer=_user(request))
    return render(request, "teaching/review_queue.html", {"queue": queue[:200], "total": queue.count()})


@instructor_required
def review_form(request: HttpRequest, submission_id: int) -> HttpResponse:
    user = _user(request)
    submission = selectors.submission_get_for_reviewer(reviewer=user, submission_id=submission_id)
    rubric = list(submission.version.rubric or [])
    error = None
    if request.method == "POST":
        scores = {c["key"]: request.POST.get(f"score-{c['key']}", "") for c in rubric}
        try:
            review_submit(
                reviewer=user,
                submission_id=submission.pk,
                scores=scores,
                comment=request.POST.get("comment", ""),
            )
        except DomainError as domain_error:
            if domain_error.status == 404:
                raise
            error = domain_error
        else:
            messages.success(request, _("评审已保存。"))
            return redirect("teaching:review-queue")
    # What the reviewer typed comes back with an error, so nothing has to be scored twice.
    criteria = [{**c, "value": request.POST.get(f"score-{c['key']}", "")} for c in rubric]
    return render(
        request,
        "teaching/review_form.html",
        {"submission": submission, "rubric": criteria, "error": error, "posted": request.POST},
    )


# --- staff ---------------------------------------------------------------------------------------------
@admin_required
def staff_ops(request: HttpRequest) -> HttpResponse:
    return render(request, "teaching/ops.html", {"ops": operations.ops_snapshot()})


@admin_required
def staff_content(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("sync", "replace"):
            slug = request.POST.get("slug", "")
            result = exercises_sync(replace=[slug] if action == "replace" else ())
            if result.ok and slug in result.replaced:
                messages.success(request, _("已用 exercises/ 的内容替换 %(slug)s。") % {"slug": slug})
            elif result.ok:
                messages.success(request, _("同步完成。"))
            else:
                messages.error(
                    request, _("同步失败：%(n)d 个错误，没有任何改动。") % {"n": len(result.errors)}
                )
        elif action in ("publish", "hide"):
            exercise_set_published(slug=request.POST.get("slug", ""), published=action == "publish")
        return redirect("teaching:staff-content")
    content = selectors.staff_content()
    return render(
        request,
        "teaching/content.html",
        {
            "exercises": content.exercises,
            "report": content.report,
            "report_lines": sync_summary_lines(content.report.summary) if content.report else [],
            "regrades": content.regrades,
        },
    )


@admin_required
@require_POST
def staff_regrade(request: HttpRequest, slug: str) -> HttpResponse:
    exercise = selectors.cohort_exercise_get(slug=slug)
    regrades = regrade_start(requested_by=_user(request), exercise=exercise)
    messages.success(request, _("已重新排队 %(n)d 份提交（低优先级）。") % {"n": len(regrades)})
    return redirect("teaching:staff-content")
