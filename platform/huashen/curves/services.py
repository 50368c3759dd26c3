"""Recording and reading a trial version's reference curve."""

import json
from pathlib import Path
from typing import Any

from huashen.curriculum.models import Exercise
from huashen.curves.models import ReferenceCurve
from huashen.errors import DomainError
from huashen.grading.curves import metric_curves
from huashen.grading.models import Status, Submission

MAX_POINTS_PER_METRIC = 2000


def events_from_file(path: Path) -> list[dict[str, Any]]:
    """Metric events from a JSON-lines file: the kit's report lines (`{"step", "metrics"}`) or stored events
    (`{"kind": "metric", "payload": {...}}`); other lines are skipped."""
    events: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and item.get("kind") == "metric":
            events.append(item)
        elif isinstance(item, dict) and isinstance(item.get("metrics"), dict):
            events.append({"kind": "metric", "payload": item})
    return events


def reference_curve_record(
    *, exercise: Exercise, log: Any, source: str, version_id: int | None = None
) -> ReferenceCurve:
    """Store the metric series of `log` as the reference curve of the trial's current version (or of
    `version_id`: the version a reference run was pinned to, should a newer one have come since)."""
    version_id = version_id or exercise.current_version_id
    if version_id is None:
        raise DomainError("no_version", f"{exercise.slug} has no current version")
    curves = metric_curves(log)
    if not curves:
        raise DomainError("no_metrics", "the run reported no metrics")
    series = {}
    for name, points in sorted(curves.items()):
        steps = sorted(points)[:MAX_POINTS_PER_METRIC]
        series[name] = {"steps": steps, "values": [points[step] for step in steps]}
    curve, _created = ReferenceCurve.objects.update_or_create(
        version_id=version_id, defaults={"series": series, "source": source[:200]}
    )
    return curve


def reference_curve_from_submission(*, exercise: Exercise, submission_id: int) -> ReferenceCurve:
    submission = Submission.objects.filter(pk=submission_id, exercise=exercise, status=Status.DONE).first()
    if submission is None:
        raise DomainError("not_found", f"no finished submission {submission_id} of {exercise.slug}")
    if submission.version_id != exercise.current_version_id:
        raise DomainError(
            "stale_version", f"submission {submission_id} ran an older version of {exercise.slug}"
        )
    return reference_curve_record(exercise=exercise, log=submission.log, source=f"submission {submission_id}")


def reference_series(*, exercise: Exercise) -> list[dict[str, Any]]:
    """The current version's reference curve as the API gives it (one query; [] when none is recorded)."""
    curve = ReferenceCurve.objects.filter(version_id=exercise.current_version_id).first()
    if curve is None or not isinstance(curve.series, dict):
        return []
    return [
        {"name": name, "steps": list(value.get("steps", [])), "values": list(value.get("values", []))}
        for name, value in sorted(curve.series.items())
        if isinstance(value, dict)
    ]
