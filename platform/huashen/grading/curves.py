"""Curves to compare against: the median of a cohort's passed runs of a trial, from the metric events stored
with each submission, and where one run stands against it.

Privacy: one run per student (their latest passed one on the trial's current version), nothing but the
number of runs and the median points leaves here, and a step is kept only where at least
`COHORT_CURVE_MIN_RUNS` runs reported the metric, so no point is any one student's value.
"""

import logging
import statistics
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, Role, User
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading.models import Mode, Status, Submission, Verdict
from workers.protocol import EventKind

logger = logging.getLogger(__name__)

COHORT_CURVE_MIN_RUNS = 5
# A cohort's curve reads at most this many runs (the latest passed one of each student, newest first).
COHORT_CURVE_MAX_RUNS = 200

Curves = dict[str, dict[int, float]]  # metric name → step → value


def metric_curves(log: Any) -> Curves:
    """The metric series of one stored log (its "metric" events): name → step → the last value at that step.
    A point without a step is one past that metric's last step, as the live chart draws it."""
    curves: Curves = {}
    for event in log if isinstance(log, list) else []:
        if not isinstance(event, dict) or event.get("kind") != EventKind.METRIC:
            continue
        payload = event.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("metrics"), dict):
            continue
        step = payload.get("step")
        for name, value in payload["metrics"].items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                continue
            if value in (float("inf"), float("-inf")):
                continue
            series = curves.setdefault(str(name), {})
            if isinstance(step, int) and not isinstance(step, bool):
                x = step
            else:
                x = max(series) + 1 if series else 0
            series[x] = float(value)
    return curves


@dataclass(frozen=True)
class CohortCurve:
    cohort: Cohort
    runs: int
    series: dict[str, tuple[list[int], list[float]]]  # name → (steps, medians), steps ascending

    @property
    def available(self) -> bool:
        return self.runs >= COHORT_CURVE_MIN_RUNS and bool(self.series)


def cohort_for_viewer(*, user: User, cohort_id: int | None = None) -> Cohort | None:
    """The cohort whose curve `user` may read: one they are a student of, or teach (admins: any). Without an
    id, the first cohort the user joined (None when they are in none)."""
    if cohort_id is None:
        membership = user.memberships.select_related("cohort").order_by("joined_at", "pk").first()
        return membership.cohort if membership else None
    allowed = Cohort.objects.filter(pk=cohort_id)
    if user.role != Role.ADMIN:
        allowed = allowed.filter(Q(memberships__student=user) | Q(instructors=user))
    cohort = allowed.distinct().first()
    if cohort is None:
        raise DomainError("not_found", _("没有找到。"), status=404)
    return cohort


def _generation_key(version_id: int | None) -> str:
    return f"huashen:cohort-curve:generation:{version_id}"


def cohort_median_curve(*, cohort: Cohort, exercise: Exercise) -> CohortCurve:
    """The median curve of the cohort's passed runs of `exercise`'s current version, computed once per
    (version, cohort) and kept in the cache until a run of that version passes (`forget_cohort_curves`
    moves the version's generation on) or COHORT_CURVE_CACHE_SECONDS pass (a student joining or leaving
    the cohort). With the setting at 0, or without a cache to reach, it is computed each time."""
    version_id = exercise.current_version_id
    if settings.COHORT_CURVE_CACHE_SECONDS <= 0:
        return _cohort_median_curve(cohort=cohort, exercise=exercise)
    try:
        generation = cache.get(_generation_key(version_id), 0)
        # The join code too: ids repeat across databases sharing one cache (a restored one, tests).
        key = f"huashen:cohort-curve:{version_id}:{cohort.pk}:{cohort.join_code}:{generation}"
        kept = cache.get(key)
    except Exception:
        logger.warning("the cache is unreachable; the cohort curve is computed uncached", exc_info=True)
        return _cohort_median_curve(cohort=cohort, exercise=exercise)
    if kept is not None:
        runs, series = kept
        return CohortCurve(cohort=cohort, runs=runs, series=series)
    curve = _cohort_median_curve(cohort=cohort, exercise=exercise)
    try:
        cache.set(key, (curve.runs, curve.series), settings.COHORT_CURVE_CACHE_SECONDS)
    except Exception:
        logger.warning("could not keep the cohort curve in the cache", exc_info=True)
    return curve


def forget_cohort_curves(sender: Any, *, submission_id: int, verdict: str, mode: str, **kwargs: Any) -> None:
    """`submission_finished` receiver: a passed run changes its version's cohort curves, so every cohort's
    kept curve of that version is left behind (a new generation in the cache keys)."""
    if verdict != Verdict.PASSED or mode == Mode.TRY:
        return
    version_id = Submission.objects.filter(pk=submission_id).values_list("version_id", flat=True).first()
    if version_id is None:
        return
    key = _generation_key(version_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # no generation yet: the curves kept so far were generation 0
            cache.set(key, 1, None)
    except Exception:
        logger.warning("could not forget the cohort curves of version %s", version_id, exc_info=True)


def _cohort_median_curve(*, cohort: Cohort, exercise: Exercise) -> CohortCurve:
    """The median curve of the cohort's passed runs of `exercise`'s current version (two queries)."""
    # The latest passed run of each student (ids only), then only those runs' logs, each read into its
    # curves at once: older runs' logs are never fetched, and no whole log is kept.
    latest = (
        Submission.objects.filter(
            exercise=exercise,
            version_id=exercise.current_version_id,
            status=Status.DONE,
            verdict=Verdict.PASSED,
            user__memberships__cohort=cohort,
        )
        .exclude(mode=Mode.TRY)  # a Try cell's run "passes" when it ends cleanly: no trial run
        .values("user_id")
        .annotate(latest=Max("pk"))
        .order_by("-latest")
        .values_list("latest", flat=True)[:COHORT_CURVE_MAX_RUNS]
    )
    logs = Submission.objects.filter(pk__in=latest).values_list("log", flat=True)  # one query: a subquery
    per_run = [metric_curves(log) for log in logs.iterator(chunk_size=20)]
    runs = sum(1 for curves in per_run if curves)
    series: dict[str, tuple[list[int], list[float]]] = {}
    if runs >= COHORT_CURVE_MIN_RUNS:
        points: dict[str, dict[int, list[float]]] = {}
        for curves in per_run:
            for name, values in curves.items():
                for step, value in values.items():
                    points.setdefault(name, {}).setdefault(step, []).append(value)
        for name in sorted(points):
            steps = sorted(
                step for step, values in points[name].items() if len(values) >= COHORT_CURVE_MIN_RUNS
            )
            if steps:
                series[name] = (steps, [statistics.median(points[name][step]) for step in steps])
    return CohortCurve(cohort=cohort, runs=runs, series=series)


@dataclass(frozen=True)
class Standing:
    metric: str
    step: int
    value: float
    median: float

    @property
    def ratio(self) -> float:
        return self.value / self.median


PREFERRED_METRICS = ("loss", "val_loss", "train_loss")


def standing_against(*, log: Any, series: dict[str, tuple[list[int], list[float]]]) -> Standing | None:
    """Where one run stands against curves (name → (steps, values)): its preferred metric (loss first, then
    val_loss, train_loss, then the others by name) at the last step both have, where the other is not zero."""
    own = metric_curves(log)
    names = [name for name in PREFERRED_METRICS if name in own and name in series]
    names += [name for name in sorted(own) if name in series and name not in names]
    for name in names:
        steps, values = series[name]
        other_at = dict(zip(steps, values, strict=True))
        shared = [step for step in own[name] if step in other_at and other_at[step] != 0]
        if shared:
            step = max(shared)
            return Standing(metric=name, step=step, value=own[name][step], median=other_at[step])
    return None


def run_standing(*, log: Any, curve: CohortCurve) -> Standing | None:
    """Where one run stands against the cohort median (None without enough runs)."""
    if not curve.available:
        return None
    return standing_against(log=log, series=curve.series)
