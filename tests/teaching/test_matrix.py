"""cohort_matrix: cell states and best scores, realm filter, sorting, pages; a constant number of queries
for 1,000 students × 25 trials; the page and the API over it."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huashen.accounts.models import CohortMembership, User
from huashen.curriculum.models import Exercise
from huashen.grading.models import ExerciseProgress
from huashen.teaching.selectors import cohort_matrix
from tests.conftest import Personas
from tests.factories import make_curriculum
from tests.teaching.conftest import graded
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def states(matrix) -> dict[str, list[tuple[str, float]]]:
    return {row.username: [(cell.state, cell.best_score) for cell in row.cells] for row in matrix.rows}


def test_cells_show_state_and_best_score(personas: Personas, trials: dict) -> None:
    graded(personas.alice, trials["a1"], WireVerdict.FAILED, 40.0)
    graded(personas.alice, trials["a1"], WireVerdict.PASSED, 100.0)
    graded(personas.bob, trials["a2"], WireVerdict.FAILED, 25.0)

    matrix = cohort_matrix(cohort=personas.cohort_a)

    assert [e.slug for e in matrix.exercises] == [t.slug for t in trials.values()]
    grid = states(matrix)
    assert grid["alice"][:3] == [("passed", 100.0), ("none", 0.0), ("none", 0.0)]
    assert grid["bob"][:3] == [("none", 0.0), ("attempted", 25.0), ("none", 0.0)]
    assert matrix.rows[0].cells[0].attempts == 2
    assert matrix.total == 2


def test_realm_filter_sorts_and_pages(personas: Personas, trials: dict) -> None:
    graded(personas.bob, trials["a1"])
    graded(personas.bob, trials["a2"])
    graded(personas.alice, trials["a3"], WireVerdict.FAILED, 10.0)
    ExerciseProgress.objects.filter(user=personas.bob).update(
        last_submitted_at=timezone.now() - dt.timedelta(days=2)
    )

    only_realm_2 = cohort_matrix(cohort=personas.cohort_a, realm_slug="realm-2")
    assert [e.slug for e in only_realm_2.exercises] == [trials["b1"].slug, trials["b2"].slug]

    by_name = cohort_matrix(cohort=personas.cohort_a)
    by_progress = cohort_matrix(cohort=personas.cohort_a, sort="progress")
    by_activity = cohort_matrix(cohort=personas.cohort_a, sort="activity")
    assert [r.username for r in by_name.rows] == ["alice", "bob"]
    assert [r.username for r in by_progress.rows] == ["bob", "alice"]
    assert [r.username for r in by_activity.rows] == ["alice", "bob"]

    first = cohort_matrix(cohort=personas.cohort_a, page=1, per_page=1)
    second = cohort_matrix(cohort=personas.cohort_a, page=2, per_page=1)
    beyond = cohort_matrix(cohort=personas.cohort_a, page=9, per_page=1)
    assert (first.pages, [r.username for r in first.rows]) == (2, ["alice"])
    assert [r.username for r in second.rows] == ["bob"]
    assert beyond.page == 2


def big_cohort(personas: Personas, students: int) -> list:
    """`students` more members of cohort A, every one with progress on every trial (bulk: no services)."""
    exercises = list(make_curriculum(realms=5, tiers=5).values())
    exercises = [e for e in exercises if isinstance(e, Exercise)]
    users = User.objects.bulk_create(User(username=f"s{n:04d}") for n in range(students))
    CohortMembership.objects.bulk_create(CohortMembership(cohort=personas.cohort_a, student=u) for u in users)
    now = timezone.now()
    ExerciseProgress.objects.bulk_create(
        ExerciseProgress(
            user=user, exercise=exercise, attempts=1 + n % 3, best_score=float((n * 7) % 101),
            passed_at=now if n % 2 else None, last_submitted_at=now - dt.timedelta(minutes=n % 50),
        )
        for n, (user, exercise) in enumerate((u, e) for u in users for e in exercises)
    )  # fmt: skip
    return exercises


def test_the_matrix_of_1000_students_by_25_trials_is_four_queries(personas: Personas) -> None:
    exercises = big_cohort(personas, 1000)
    assert len(exercises) == 25
    for sort in ("name", "progress", "activity"):
        with CaptureQueriesContext(connection) as queries:
            matrix = cohort_matrix(cohort=personas.cohort_a, sort=sort, page=3)
        assert len(queries) == 4, [q["sql"] for q in queries]
        assert matrix.total == 1002 and len(matrix.rows) == 100 and len(matrix.rows[0].cells) == 25
    with CaptureQueriesContext(connection) as queries:
        everything = cohort_matrix(cohort=personas.cohort_a, page=None)
    assert len(queries) == 4 and len(everything.rows) == 1002


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_page_the_csv_and_the_api_cost_the_same_queries_for_2_or_1002_students(
    personas: Personas,
) -> None:
    make_curriculum(realms=5, tiers=5)
    client = Client()
    client.force_login(personas.carol)
    cohort_id = personas.cohort_a.pk
    urls = [f"/teach/cohorts/{cohort_id}/matrix/?sort=progress", f"/teach/cohorts/{cohort_id}/matrix.csv",
            f"/api/v1/cohorts/{cohort_id}/matrix/?sort=activity"]  # fmt: skip
    small = [count_queries(client, url) for url in urls]
    users = User.objects.bulk_create(User(username=f"s{n:04d}") for n in range(1000))
    CohortMembership.objects.bulk_create(CohortMembership(cohort=personas.cohort_a, student=u) for u in users)
    large = [count_queries(client, url) for url in urls]
    assert small == large
    csv_rows = client.get(urls[1]).content.decode("utf-8-sig").splitlines()
    assert len(csv_rows) == 1 + 1002


def test_the_api_matrix_shape(personas: Personas, trials: dict) -> None:
    graded(personas.alice, trials["a1"])
    client = Client()
    client.force_login(personas.carol)
    body = client.get(f"/api/v1/cohorts/{personas.cohort_a.pk}/matrix/?realm=realm-1&page_size=1").json()
    assert (body["total"], body["pages"], body["page"], body["realm"]) == (2, 2, 1, "realm-1")
    assert [t["slug"] for t in body["trials"]][:1] == [trials["a1"].slug]
    row = body["rows"][0]
    assert (row["username"], row["passed"]) == ("alice", 1)
    assert row["cells"][0]["state"] == "passed" and row["cells"][0]["best_score"] == 100.0
    bad = client.get(f"/api/v1/cohorts/{personas.cohort_a.pk}/matrix/?sort=nonsense")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "sort"


def test_the_page_links_each_cell_to_the_students_submissions(personas: Personas, trials: dict) -> None:
    submission = graded(personas.alice, trials["a1"])
    client = Client()
    client.force_login(personas.carol)
    page = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/matrix/").content.decode()
    trial_url = (
        f"/teach/cohorts/{personas.cohort_a.pk}/students/{personas.alice.pk}/trials/{trials['a1'].slug}/"
    )
    assert trial_url in page
    listing = client.get(trial_url).content.decode()
    assert f"/submissions/{submission.pk}/" in listing
