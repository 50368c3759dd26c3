"""The practice API: drafts, hints, the reference solution, a submission's place in the queue."""

import pytest
from rest_framework.test import APIClient

from huashen.grading.models import Mode
from huashen.grading.services import submission_create
from huashen.practice.models import ActivityEvent, Draft
from tests.conftest import Personas
from tests.practice.conftest import REFERENCE, pass_trial

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    return body["error"]


def url(exercise, what: str) -> str:
    return f"/api/v1/exercises/{exercise.slug}/{what}/"


# --- drafts ----------------------------------------------------------------------------------------------


def test_the_draft_starts_as_the_starter_code_and_survives_a_new_client(
    personas: Personas, curriculum, client_for
) -> None:
    exercise = curriculum["r1t1"]
    first = client_for(personas.alice)
    response = first.get(url(exercise, "draft"))
    assert response.status_code == 200
    assert response.json() == {"code": "print('hello')\n", "origin": "starter", "updated_at": None}
    response = first.put(url(exercise, "draft"), {"code": "x = 1\n"}, format="json")
    assert response.status_code == 200
    assert response.json()["origin"] == "draft"
    # another browser, same student
    again = client_for(personas.alice).get(url(exercise, "draft")).json()
    assert (again["code"], again["origin"]) == ("x = 1\n", "draft")
    assert again["updated_at"] is not None


def test_another_student_never_sees_my_draft(personas: Personas, curriculum, client_for) -> None:
    exercise = curriculum["r1t1"]
    client_for(personas.alice).put(url(exercise, "draft"), {"code": "secret = 1\n"}, format="json")
    theirs = client_for(personas.bob).get(url(exercise, "draft")).json()
    assert theirs["origin"] == "starter"
    assert "secret" not in theirs["code"]
    # and saving theirs leaves mine alone
    client_for(personas.bob).put(url(exercise, "draft"), {"code": "mine = 2\n"}, format="json")
    assert Draft.objects.get(user=personas.alice).code == "secret = 1\n"


@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [("x" * (64 * 1024 + 1), 413, "too_large"), ("a = '\x00'", 400, "null_characters_not_allowed")],
)
def test_a_bad_draft_is_refused_in_the_error_body(
    personas: Personas, curriculum, client_for, code, status, error_code
) -> None:
    response = client_for(personas.alice).put(url(curriculum["r1t1"], "draft"), {"code": code}, format="json")
    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["field"]) == (error_code, "code")
    assert not Draft.objects.exists()


def test_a_draft_without_code_is_a_validation_error(personas: Personas, curriculum, client_for) -> None:
    response = client_for(personas.alice).put(url(curriculum["r1t1"], "draft"), {}, format="json")
    assert response.status_code == 400
    assert error_of(response)["field"] == "code"


def test_drafts_of_unknown_or_unpublished_trials_are_not_found(
    personas: Personas, curriculum, client_for
) -> None:
    exercise = curriculum["r1t2"]
    exercise.is_published = False
    exercise.save(update_fields=["is_published"])
    client = client_for(personas.alice)
    for path in (url(exercise, "draft"), "/api/v1/exercises/no-such-trial/draft/"):
        response = client.get(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_the_practice_api_needs_a_signed_in_user(curriculum) -> None:
    anonymous = APIClient()
    exercise = curriculum["r1t1"]
    for path in (url(exercise, "draft"), url(exercise, "hints"), url(exercise, "reference")):
        response = anonymous.get(path)
        assert response.status_code in (401, 403)
        error_of(response)
    assert anonymous.put(url(exercise, "draft"), {"code": "x"}, format="json").status_code in (401, 403)
    assert not Draft.objects.exists()


def test_reading_a_draft_takes_a_fixed_number_of_queries(
    personas: Personas, curriculum, client_for, django_assert_max_num_queries
) -> None:
    client = client_for(personas.alice)
    client.put(url(curriculum["r1t1"], "draft"), {"code": "x = 1\n"}, format="json")
    # session, user, trial, the realm's unlock rule (realms, trials, progress: a fixed three), draft
    with django_assert_max_num_queries(7):
        assert client.get(url(curriculum["r1t1"], "draft")).status_code == 200


# --- hints -----------------------------------------------------------------------------------------------


def test_hints_are_revealed_one_at_a_time(personas: Personas, curriculum, client_for) -> None:
    exercise = curriculum["r1t1"]
    version = exercise.current_version
    version.hints = [{"zh": "先想 **形状**", "en": "Think of the **shape**"}, {"zh": "二", "en": "two <b>"}]
    version.save(_allow_update=True)
    client = client_for(personas.alice)
    assert client.get(url(exercise, "hints")).json() == {"hint_count": 2, "revealed": []}

    response = client.post(url(exercise, "hints"))
    assert response.status_code == 201
    body = response.json()
    assert body["hint_count"] == 2
    assert [(h["index"], h["text"]["en"]) for h in body["revealed"]] == [(0, "Think of the **shape**")]
    assert body["revealed"][0]["html"]["en"] == "<p>Think of the <strong>shape</strong></p>"

    second = client.post(url(exercise, "hints")).json()["revealed"][1]
    assert second["html"]["en"] == "<p>two &lt;b&gt;</p>"  # hint text is escaped, never raw HTML
    response = client.post(url(exercise, "hints"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "no_more_hints"
    assert ActivityEvent.objects.filter(user=personas.alice, kind="hint_revealed").count() == 2
    # bob has revealed nothing
    assert client_for(personas.bob).get(url(exercise, "hints")).json()["revealed"] == []


def test_listing_hints_takes_a_fixed_number_of_queries(
    personas: Personas, curriculum, client_for, django_assert_max_num_queries
) -> None:
    client = client_for(personas.alice)
    client.post(url(curriculum["r1t1"], "hints"))
    # session, user, trial, the realm's unlock rule (realms, trials, progress: a fixed three), reveals
    with django_assert_max_num_queries(7):
        assert len(client.get(url(curriculum["r1t1"], "hints")).json()["revealed"]) == 1


# --- the reference solution ------------------------------------------------------------------------------


def test_the_reference_answers_403_before_a_pass_and_the_files_after(
    personas: Personas, curriculum, client_for, bundle_with_reference
) -> None:
    exercise = curriculum["r1t1"]
    bundle_with_reference(exercise)
    client = client_for(personas.alice)
    response = client.get(url(exercise, "reference"))
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "reference_locked"
    assert error["message"]

    pass_trial(personas.alice, exercise)
    response = client.get(url(exercise, "reference"))
    assert response.status_code == 200
    files = response.json()["files"]
    assert files[0] == {"name": "solution.py", "code": REFERENCE}
    assert client_for(personas.bob).get(url(exercise, "reference")).status_code == 403


def test_the_reference_error_speaks_the_users_language(personas: Personas, curriculum, client_for) -> None:
    personas.alice.language = "en"
    personas.alice.save(update_fields=["language"])
    response = client_for(personas.alice).get(url(curriculum["r1t1"], "reference"))
    assert response.status_code == 403
    assert error_of(response)["message"] == "Pass this trial to see its reference solution."


# --- queue position --------------------------------------------------------------------------------------


def test_queue_position_is_shown_to_those_who_may_see_the_submission(
    personas: Personas, curriculum, client_for
) -> None:
    exercise = curriculum["r1t1"]
    submission_create(user=personas.bob, exercise=exercise, code="print(1)\n", mode=Mode.RUN)
    mine = submission_create(user=personas.alice, exercise=exercise, code="print(2)\n", mode=Mode.RUN)
    path = f"/api/v1/submissions/{mine.pk}/queue/"
    for user in (personas.alice, personas.carol, personas.erin):
        response = client_for(user).get(path)
        assert response.status_code == 200, user.username
        assert response.json()["status"] == "queued"
        assert response.json()["ahead"] in (0, 1)  # equal timestamps on a coarse clock tie
    for user in (personas.bob, personas.dave):
        response = client_for(user).get(path)
        assert response.status_code == 404, user.username
        assert error_of(response)["code"] == "not_found"


def test_the_practice_endpoints_are_in_the_schema(personas: Personas, client_for) -> None:
    schema = client_for(personas.alice).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    text = schema.content.decode()
    for path in (
        "/api/v1/exercises/{slug}/draft/",
        "/api/v1/exercises/{slug}/hints/",
        "/api/v1/exercises/{slug}/reference/",
        "/api/v1/submissions/{submission_id}/queue/",
    ):
        assert path in text
