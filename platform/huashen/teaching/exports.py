"""CSV exports that open cleanly in a spreadsheet: UTF-8 with a BOM (Excel guesses the encoding from it),
and cells that a spreadsheet would run as a formula are quoted with a leading apostrophe."""

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from django.utils import timezone

from huashen.grading.models import Submission
from huashen.teaching.selectors import Matrix

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(*, filename: str, header: list[str], rows: Iterable[Sequence[object]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(value) for value in row])
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def matrix_csv(matrix: Matrix) -> HttpResponse:
    """One row per student: trials passed, last activity (in the reader's zone, offset included), then
    each trial's best score (empty: not tried)."""
    header = ["student", "passed", "last_activity"] + [e.slug for e in matrix.exercises]
    rows = (
        [
            row.username,
            row.passed,
            timezone.localtime(row.last_activity).isoformat() if row.last_activity else "",
            *[
                round(cell.best_score, 1) if cell.state in ("attempted", "passed") else ""
                for cell in row.cells
            ],
        ]
        for row in matrix.rows
    )
    return csv_response(filename=f"cohort-{matrix.cohort.pk}-matrix.csv", header=header, rows=rows)


def submissions_csv(*, cohort_id: int, slug: str, submissions: Iterable[Submission]) -> HttpResponse:
    header = [
        "submission", "student", "created_at", "mode", "status", "verdict", "score", "version",
        "review_score", "reviewer",
    ]  # fmt: skip

    def rows() -> Iterable[Sequence[object]]:
        for s in submissions:
            review = getattr(s, "review", None)
            yield [
                s.pk, s.user.username, timezone.localtime(s.created_at).isoformat(), s.mode, s.status, s.verdict,
                "" if s.score is None else round(s.score, 1), s.version.number,
                review.final_score if review else "", review.reviewer.username if review else "",
            ]  # fmt: skip

    return csv_response(filename=f"cohort-{cohort_id}-{slug}-submissions.csv", header=header, rows=rows())
