"""CSV exports: UTF-8 with a BOM, an attachment, formula-looking cells defused, the rows they promise."""

import csv
import io

import pytest
from django.test import Client

from huashen.accounts.services import cohort_join, user_create
from huashen.teaching.services import review_submit
from tests.conftest import PASSWORD, Personas
from tests.teaching.conftest import graded
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def download(user, url: str) -> tuple[dict, list[list[str]]]:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response, list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_matrix_csv(personas: Personas, trials: dict) -> None:
    graded(personas.alice, trials["a1"], WireVerdict.PASSED, 100.0)
    graded(personas.bob, trials["a2"], WireVerdict.FAILED, 33.3)
    response, rows = download(personas.carol, f"/teach/cohorts/{personas.cohort_a.pk}/matrix.csv")
    assert (
        response["Content-Disposition"] == f'attachment; filename="cohort-{personas.cohort_a.pk}-matrix.csv"'
    )
    assert rows[0][:4] == ["student", "passed", "last_activity", trials["a1"].slug]
    alice, bob = rows[1], rows[2]
    assert (alice[0], alice[1], alice[3], alice[4]) == ("alice", "1", "100.0", "")
    assert (bob[0], bob[1], bob[3], bob[4]) == ("bob", "0", "", "33.3")


def test_a_username_that_looks_like_a_formula_is_defused(personas: Personas, trials: dict) -> None:
    sneaky = user_create(username="=cmd", password=PASSWORD)
    cohort_join(student=sneaky, join_code=personas.cohort_a.join_code)
    _response, rows = download(personas.carol, f"/teach/cohorts/{personas.cohort_a.pk}/matrix.csv")
    assert [row[0] for row in rows[1:]] == ["'=cmd", "alice", "bob"]


def test_a_trials_submissions_csv_with_reviews(personas: Personas, trials: dict) -> None:
    first = graded(personas.alice, trials["hybrid"])
    review_submit(reviewer=personas.carol, submission_id=first.pk, scores={"clarity": 60, "evidence": 20})
    graded(personas.bob, trials["hybrid"], WireVerdict.FAILED, 10.0)
    url = f"/teach/cohorts/{personas.cohort_a.pk}/trials/{trials['hybrid'].slug}/submissions.csv"
    response, rows = download(personas.erin, url)
    assert "attachment;" in response["Content-Disposition"]
    assert rows[0] == ["submission", "student", "created_at", "mode", "status", "verdict", "score", "version",
                       "review_score", "reviewer"]  # fmt: skip
    assert [(r[1], r[5], r[8], r[9]) for r in rows[1:]] == [
        ("alice", "passed", "80.0", "carol"), ("bob", "failed", "", ""),
    ]  # fmt: skip
