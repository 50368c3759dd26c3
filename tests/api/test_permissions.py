"""Who may see a submission: its author, an instructor of the author's cohort, admins; nobody else.

Everyone else gets 404, not 403, so ids are no way to learn who submitted what.
"""

import pytest
from rest_framework.test import APIClient

from huashen.grading.models import Submission
from huashen.grading.services import submission_create
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_submission(personas: Personas, curriculum: dict, sent: list) -> Submission:
    return submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1\n", mode="submit")


@pytest.mark.parametrize(
    "persona, expected",
    [
        ("alice", 200),  # the author
        ("carol", 200),  # instructor of cohort A, which alice is in
        ("erin", 200),  # admin
        ("bob", 404),  # same cohort, but another student
        ("dave", 404),  # instructor of cohort B, not alice's
    ],
)
def test_who_may_see_alices_submission(
    personas: Personas,
    client_for,
    alices_submission: Submission,
    persona: str,
    expected: int,
) -> None:
    # given alice's submission, and a client signed in as `persona`
    client = client_for(personas.all()[persona])
    # when that persona asks for it by id
    response = client.get(f"/api/v1/submissions/{alices_submission.pk}/")
    # then only those allowed see it; the others get the same 404 as for an id that does not exist
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert (body["id"], body["code"], body["exercise"]) == (
            alices_submission.pk,
            "x = 1\n",
            "realm-1-trial-1",
        )
    else:
        assert error_of(response) == {"code": "not_found", "message": "没有找到。", "field": None}
        missing = client.get("/api/v1/submissions/999999/")
        assert (missing.status_code, missing.json()) == (response.status_code, response.json())


def test_anonymous_cannot_see_alices_submission(api: APIClient, alices_submission: Submission) -> None:
    response = api.get(f"/api/v1/submissions/{alices_submission.pk}/")
    assert response.status_code in (401, 403)
    assert error_of(response)["code"] == "not_authenticated"
    assert "x = 1" not in response.content.decode()


@pytest.mark.parametrize("persona", ["bob", "carol", "dave", "erin"])
def test_no_one_elses_list_includes_alices_submission(
    personas: Personas,
    client_for,
    alices_submission: Submission,
    curriculum: dict,
    persona: str,
) -> None:
    # given the persona has a submission of their own (where they may submit)
    user = personas.all()[persona]
    own = submission_create(user=user, exercise=curriculum["r1t2"], code="y = 2", mode="run")
    # when they list submissions
    body = client_for(user).get("/api/v1/submissions/").json()
    # then the list holds theirs only: even an instructor's or admin's list is their own
    assert [item["id"] for item in body["results"]] == [own.pk]
    assert alices_submission.pk not in [item["id"] for item in body["results"]]


def test_the_exercise_filter_does_not_widen_the_list(
    personas: Personas,
    client_for,
    alices_submission: Submission,
) -> None:
    body = client_for(personas.bob).get("/api/v1/submissions/", {"exercise": "realm-1-trial-1"}).json()
    assert (body["count"], body["results"]) == (0, [])


def test_an_instructor_loses_sight_when_the_student_is_in_none_of_their_cohorts(
    personas: Personas,
    client_for,
    alices_submission: Submission,
) -> None:
    # given alice leaves cohort A
    personas.cohort_a.memberships.filter(student=personas.alice).delete()
    # then carol no longer sees her submission, and erin (admin) still does
    url = f"/api/v1/submissions/{alices_submission.pk}/"
    assert client_for(personas.carol).get(url).status_code == 404
    assert client_for(personas.erin).get(url).status_code == 200
