"""Every teaching page, export and API route of cohort A with every persona.

carol (A's instructor) and erin (admin) get 200; dave (instructor of B) gets 404 on everything of A;
alice and bob (students) get 403 on every instructor route; nobody signed in is sent to log in (pages)
or gets 401/403 (API). A 200 is not enough: the pages, exports and review queues are read for whose
students they name (frank, a student of B, must never appear on A's).
"""

import csv
import io
import re

import pytest
from django.test import Client

from huashen.accounts.services import cohort_join, user_create
from huashen.grading.models import Submission
from tests.conftest import PASSWORD, Personas
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


def cohort_routes(cohort_id: int, student_id: int, slug: str) -> list[str]:
    return [
        f"/teach/cohorts/{cohort_id}/",
        f"/teach/cohorts/{cohort_id}/matrix/",
        f"/teach/cohorts/{cohort_id}/matrix/?sort=progress&page=2",
        f"/teach/cohorts/{cohort_id}/matrix.csv",
        f"/teach/cohorts/{cohort_id}/students/{student_id}/",
        f"/teach/cohorts/{cohort_id}/students/{student_id}/trials/{slug}/",
        f"/teach/cohorts/{cohort_id}/trials/{slug}/",
        f"/teach/cohorts/{cohort_id}/trials/{slug}/submissions.csv",
        f"/api/v1/cohorts/{cohort_id}/",
        f"/api/v1/cohorts/{cohort_id}/matrix/",
        f"/api/v1/cohorts/{cohort_id}/trials/{slug}/statistics/",
    ]


GENERAL_ROUTES = ["/teach/", "/teach/reviews/", "/api/v1/cohorts/", "/api/v1/reviews/"]
STAFF_ROUTES = ["/staff/ops/", "/staff/content/"]


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def setup(personas: Personas, trials: dict) -> dict:
    review_submission = graded(personas.alice, trials["hybrid"])
    return {"cohort_routes": cohort_routes(personas.cohort_a.pk, personas.alice.pk, trials["a1"].slug),
            "review": review_submission}  # fmt: skip


@pytest.mark.parametrize("persona", ["carol", "erin"])
def test_teachers_of_the_cohort_and_admins_see_every_route(
    personas: Personas, setup: dict, persona: str
) -> None:
    client = client_for(getattr(personas, persona))
    for url in setup["cohort_routes"] + GENERAL_ROUTES + [f"/teach/reviews/{setup['review'].pk}/"]:
        assert client.get(url).status_code == 200, url


def test_an_instructor_of_another_cohort_gets_404_on_everything_of_cohort_a(
    personas: Personas, setup: dict
) -> None:
    client = client_for(personas.dave)
    for url in setup["cohort_routes"]:
        response = client.get(url)
        assert response.status_code == 404, url
        if url.startswith("/api/"):
            assert response.json()["error"]["code"] == "not_found"
    # A's student in dave's review queue, form and API: not his to review.
    assert client.get(f"/teach/reviews/{setup['review'].pk}/").status_code == 404
    posted = client.post(f"/api/v1/reviews/{setup['review'].pk}/", {"scores": {"clarity": 1, "evidence": 1}},
                         content_type="application/json")  # fmt: skip
    assert posted.status_code == 404
    assert client.get("/api/v1/reviews/").json()["results"] == []
    assert [c["id"] for c in client.get("/api/v1/cohorts/").json()] == [personas.cohort_b.pk]
    # His own cohort's pages work: the 404s above are about whose cohort it is.
    assert client.get(f"/teach/cohorts/{personas.cohort_b.pk}/matrix/").status_code == 200


@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_students_get_403_on_every_instructor_route(personas: Personas, setup: dict, persona: str) -> None:
    client = client_for(getattr(personas, persona))
    routes = (
        setup["cohort_routes"] + GENERAL_ROUTES + STAFF_ROUTES + [f"/teach/reviews/{setup['review'].pk}/"]
    )
    for url in routes:
        assert client.get(url).status_code == 403, url
    assert client.post("/teach/", {"name": "mine"}).status_code == 403
    assert (
        client.post("/api/v1/cohorts/", {"name": "mine"}, content_type="application/json").status_code == 403
    )
    assert client.post(f"/staff/content/{setup['review'].exercise.slug}/regrade/").status_code == 403


def test_instructors_get_403_on_staff_pages(personas: Personas, setup: dict) -> None:
    for persona in (personas.carol, personas.dave):
        client = client_for(persona)
        for url in STAFF_ROUTES:
            assert client.get(url).status_code == 403, url


def test_admin_sees_staff_pages(personas: Personas, setup: dict) -> None:
    client = client_for(personas.erin)
    for url in STAFF_ROUTES:
        assert client.get(url).status_code == 200, url


def test_nobody_signed_in_is_sent_to_log_in_or_refused(personas: Personas, setup: dict) -> None:
    client = client_for(None)
    for url in setup["cohort_routes"] + GENERAL_ROUTES + STAFF_ROUTES:
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), url
        else:
            assert response.status_code == 302 and "/login/" in response["Location"], url


def test_a_student_of_another_cohort_is_404_inside_a_taught_cohort(personas: Personas, setup: dict) -> None:
    """carol teaches A; a student id from elsewhere in A's URLs is not found, not shown."""
    outsider = personas.dave  # not a member of A
    client = client_for(personas.carol)
    assert client.get(f"/teach/cohorts/{personas.cohort_a.pk}/students/{outsider.pk}/").status_code == 404


def test_the_instructor_and_admin_may_open_a_students_submission_page(
    personas: Personas, setup: dict
) -> None:
    submission: Submission = setup["review"]
    assert client_for(personas.carol).get(f"/submissions/{submission.pk}/").status_code == 200
    assert client_for(personas.erin).get(f"/submissions/{submission.pk}/").status_code == 200
    assert client_for(personas.dave).get(f"/submissions/{submission.pk}/").status_code == 404
    assert client_for(personas.bob).get(f"/submissions/{submission.pk}/").status_code == 404


STUDENTS = ("alice", "bob", "frank")


def students_named(text: str) -> set[str]:
    """Which of the students a page or an export names."""
    return {name for name in STUDENTS if re.search(rf"\b{name}\b", text)}


def csv_students(content: bytes) -> set[str]:
    """The `student` column of an export (UTF-8 with a byte order mark, for spreadsheets)."""
    return {row["student"] for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}


@pytest.fixture
def two_cohorts(personas: Personas, trials: dict) -> dict:
    """alice and bob in A (carol's), frank in B (dave's); all three passed a1, alice and frank the hybrid
    trial (so both wait in a review queue)."""
    frank = user_create(username="frank", password=PASSWORD)
    cohort_join(student=frank, join_code=personas.cohort_b.join_code)
    for student in (personas.alice, personas.bob, frank):
        graded(student, trials["a1"])
    for student in (personas.alice, frank):
        graded(student, trials["hybrid"])
    return {"frank": frank, "a1": trials["a1"].slug}


@pytest.mark.parametrize("persona", ["carol", "erin"])
def test_cohort_pages_show_that_cohorts_students_and_no_one_elses(
    personas: Personas, two_cohorts: dict, persona: str
) -> None:
    # given students in two cohorts, with results in both
    client = client_for(getattr(personas, persona))
    base = f"/teach/cohorts/{personas.cohort_a.pk}"
    api = f"/api/v1/cohorts/{personas.cohort_a.pk}"
    # when cohort A's teacher (or an admin) opens A's pages, exports and API
    pages = {url: client.get(url) for url in (f"{base}/", f"{base}/matrix/")}
    exports = {
        url: client.get(url)
        for url in (f"{base}/matrix.csv", f"{base}/trials/{two_cohorts['a1']}/submissions.csv")
    }
    answers = {url: client.get(url) for url in (f"{api}/", f"{api}/matrix/")}
    statistics = client.get(f"{api}/trials/{two_cohorts['a1']}/statistics/").json()
    # then each names A's students, alice and bob, and never B's frank
    for url, response in {**pages, **exports, **answers}.items():
        assert response.status_code == 200, url
    assert {url: students_named(response.content.decode()) for url, response in pages.items()} == {
        url: {"alice", "bob"} for url in pages
    }
    assert {url: csv_students(response.content) for url, response in exports.items()} == {
        url: {"alice", "bob"} for url in exports
    }
    assert {url: students_named(str(response.json())) for url, response in answers.items()} == {
        url: {"alice", "bob"} for url in answers
    }
    assert (statistics["students"], statistics["passed"]) == (2, 2)


def test_each_instructors_review_queue_holds_only_their_cohorts_students(
    personas: Personas, two_cohorts: dict
) -> None:
    # given alice (A) and frank (B) both waiting for a review of the hybrid trial
    # when carol, dave and erin open their review queues
    queues = {
        name: client_for(getattr(personas, name)).get("/teach/reviews/").content.decode()
        for name in ("carol", "dave", "erin")
    }
    api = {
        name: {
            row["student"]
            for row in client_for(getattr(personas, name)).get("/api/v1/reviews/").json()["results"]
        }
        for name in ("carol", "dave", "erin")
    }
    # then each instructor sees their own cohort's student, and the admin sees both
    assert {name: students_named(page) for name, page in queues.items()} == {
        "carol": {"alice"}, "dave": {"frank"}, "erin": {"alice", "frank"},
    }  # fmt: skip
    assert api == {"carol": {"alice"}, "dave": {"frank"}, "erin": {"alice", "frank"}}


def test_the_other_cohorts_instructor_sees_only_his_own_students(
    personas: Personas, two_cohorts: dict
) -> None:
    # given frank in dave's cohort B
    client = client_for(personas.dave)
    base = f"/teach/cohorts/{personas.cohort_b.pk}"
    # when dave opens B's roster and matrix
    roster, matrix = client.get(f"{base}/"), client.get(f"{base}/matrix/")
    # then they name frank and none of A's students
    assert students_named(roster.content.decode()) == {"frank"}
    assert students_named(matrix.content.decode()) == {"frank"}
