"""Instructors' similar-code pages under /teach/cohorts/<id>/similarity/. Thin: access is the selectors'.

Every page starts with `cohort_get_for_instructor` (404 for a cohort the reader does not teach; 403 for
users who teach nothing, as on every teaching page)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huashen.accounts.selectors import cohort_get_for_instructor
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.similarity import dispatch, selectors
from huashen.similarity.models import Decision
from huashen.similarity.services import pair_decide
from huashen.teaching.exports import csv_response
from huashen.teaching.views import _user, instructor_required


def _filters(request: HttpRequest) -> tuple[float, bool]:
    return selectors.threshold_from(request.GET.get("threshold")), request.GET.get("scope") == "passing"


@instructor_required
def cohort_similarity(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    threshold, include_passing = _filters(request)
    trials = selectors.pairs_by_exercise(cohort=cohort, threshold=threshold, include_passing=include_passing)
    return render(
        request,
        "similarity/cohort.html",
        {
            "cohort": cohort,
            "trials": trials,
            "quiet_trials": [trial for trial in trials if not trial.total],
            "threshold": threshold,
            "scope": "passing" if include_passing else "latest",
            "shown_per_trial": selectors.SHOWN_PER_TRIAL,
        },
    )


@instructor_required
def cohort_similarity_csv(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    threshold, include_passing = _filters(request)
    pairs = selectors.cohort_pairs(cohort=cohort, threshold=threshold, include_passing=include_passing)
    header = [
        "trial", "score", "student_1", "submission_1", "share_1", "student_2", "submission_2", "share_2",
        "decision", "reviewer", "decided_at", "note",
    ]  # fmt: skip
    rows = (
        [
            pair.exercise.slug,
            round(pair.score, 3),
            pair.first_user.username,
            pair.first_id,
            round(pair.first_share, 3),
            pair.second_user.username,
            pair.second_id,
            round(pair.second_share, 3),
            pair.decision,
            pair.decided_by.username if pair.decided_by else "",
            timezone.localtime(pair.decided_at).isoformat() if pair.decided_at else "",
            pair.note,
        ]
        for pair in pairs.iterator(chunk_size=500)
    )
    return csv_response(filename=f"cohort-{cohort.pk}-similarity.csv", header=header, rows=rows)


@instructor_required
def pair_detail(request: HttpRequest, cohort_id: int, pair_id: int) -> HttpResponse:
    user = _user(request)
    cohort = cohort_get_for_instructor(user=user, cohort_id=cohort_id)
    pair = selectors.pair_get_for_cohort(cohort=cohort, pair_id=pair_id)
    if request.method == "POST":
        try:
            pair_decide(
                reviewer=user,
                pair=pair,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            if error.status != 400:
                raise
            messages.error(request, error.message)
        else:
            messages.success(request, _("处理结果已保存。"))
        return redirect("similarity:pair", cohort_id=cohort.pk, pair_id=pair.pk)
    return render(
        request,
        "similarity/pair.html",
        {
            "cohort": cohort,
            "pair": pair,
            "sides": selectors.pair_side_by_side(pair),
            "decisions": [(value, label) for value, label in Decision.choices if value],
        },
    )


@instructor_required
@require_POST
def cohort_similarity_scan(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_get_for_instructor(user=_user(request), cohort_id=cohort_id)
    exercises = Exercise.objects.filter(is_published=True, retired=False).values_list("pk", flat=True)
    for exercise_id in exercises:
        dispatch.send_scan(cohort_id=cohort.pk, exercise_id=exercise_id)
    messages.success(request, _("已安排重新比对本班全部试炼（低优先级）。"))
    return redirect("similarity:cohort", cohort_id=cohort.pk)
