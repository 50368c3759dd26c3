"""The API's endpoints: me, realms, exercises, submissions, token auth, the schema and its docs page."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from huashen.curriculum.models import ExerciseVersion
from huashen.grading.models import Submission
from huashen.grading.services import submission_create
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(personas: Personas, client_for) -> APIClient:
    return client_for(personas.alice)


# --- me --------------------------------------------------------------------------------------------------
def test_me_describes_the_signed_in_user(personas: Personas, client_for) -> None:
    for name, role in [("alice", "student"), ("carol", "instructor"), ("erin", "admin")]:
        user = getattr(personas, name)
        response = client_for(user).get("/api/v1/me/")
        assert response.status_code == 200
        assert response.json() == {
            "id": user.pk, "username": name, "email": "", "role": role, "language": "zh-hans",
        }  # fmt: skip


def test_me_patch_saves_the_language(personas: Personas, alice: APIClient) -> None:
    # when alice switches to English
    response = alice.patch("/api/v1/me/", {"language": "en"}, format="json")
    # then the answer and the account both say English
    assert response.status_code == 200
    assert response.json()["language"] == "en"
    personas.alice.refresh_from_db()
    assert personas.alice.language == "en"
    assert alice.get("/api/v1/me/").json()["language"] == "en"


@pytest.mark.parametrize("payload", [{"language": "fr"}, {"language": ""}, {"language": None}])
def test_me_patch_refuses_an_unsupported_language(
    personas: Personas, alice: APIClient, payload: dict
) -> None:
    response = alice.patch("/api/v1/me/", payload, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "language"
    assert error["code"] in {"invalid_choice", "null"}
    personas.alice.refresh_from_db()
    assert personas.alice.language == "zh-hans"


def test_me_patch_with_nothing_to_change_changes_nothing(personas: Personas, alice: APIClient) -> None:
    # PATCH is partial: an empty body is a valid request that leaves the account as it was
    response = alice.patch("/api/v1/me/", {}, format="json")
    assert response.status_code == 200 and response.json()["language"] == "zh-hans"


def test_the_saved_language_chooses_the_language_of_error_messages(
    alice: APIClient, curriculum: dict
) -> None:
    # given an error answered in Chinese, the default
    blank = {"exercise": "realm-1-trial-1", "code": "   "}
    assert error_of(alice.post("/api/v1/submissions/", blank, format="json"))["message"] == "代码不能为空。"
    # when alice saves English as her language
    alice.patch("/api/v1/me/", {"language": "en"}, format="json")
    # then the same error comes back in English
    assert (
        error_of(alice.post("/api/v1/submissions/", blank, format="json"))["message"]
        == "Code cannot be empty."
    )


# --- realms ----------------------------------------------------------------------------------------------
def test_realms_list_names_unlock_state_and_trial_states(alice: APIClient, curriculum: dict) -> None:
    # when alice, who has passed nothing, asks for the realms
    response = alice.get("/api/v1/realms/")
    # then both realms come back in order with both languages
    assert response.status_code == 200
    realms = response.json()
    assert [realm["slug"] for realm in realms] == ["realm-1", "realm-2"]
    first, second = realms
    assert first["name"] == {"zh": "境界1", "en": "Realm 1"}
    assert first["theme"] == {"zh": "主题", "en": "Theme"}
    # and realm 1 is open, realm 2 locked behind 3 passes
    assert (first["unlocked"], first["completed"], first["passed"], first["total"]) == (True, False, 0, 5)
    assert (second["unlocked"], second["passes_to_unlock"]) == (False, 3)
    # and the trials say so, with their bilingual titles
    assert [trial["slug"] for trial in first["trials"]] == [f"realm-1-trial-{tier}" for tier in range(1, 6)]
    assert {trial["state"] for trial in first["trials"]} == {"open"}
    assert {trial["state"] for trial in second["trials"]} == {"locked"}
    assert first["trials"][0]["title"] == {"zh": "试炼 1.1", "en": "Trial 1.1"}
    assert first["trials"][0]["best_score"] == 0.0


def test_realms_list_for_an_empty_curriculum(alice: APIClient) -> None:
    response = alice.get("/api/v1/realms/")
    assert response.status_code == 200
    assert response.json() == []


# --- exercises -------------------------------------------------------------------------------------------
def test_exercises_list_every_published_trial_in_order(alice: APIClient, curriculum: dict) -> None:
    response = alice.get("/api/v1/exercises/")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)  # not paginated
    assert [item["slug"] for item in body] == [f"realm-{r}-trial-{t}" for r in (1, 2) for t in range(1, 6)]
    assert body[0] == {
        "slug": "realm-1-trial-1", "realm": "realm-1", "tier": 1, "order": 1,
        "title": {"zh": "试炼 1.1", "en": "Trial 1.1"},
    }  # fmt: skip


def test_exercises_filter_by_realm(alice: APIClient, curriculum: dict) -> None:
    response = alice.get("/api/v1/exercises/", {"realm": "realm-2"})
    assert response.status_code == 200
    assert [item["slug"] for item in response.json()] == [f"realm-2-trial-{t}" for t in range(1, 6)]
    assert {item["realm"] for item in response.json()} == {"realm-2"}
    assert alice.get("/api/v1/exercises/", {"realm": "no-such-realm"}).json() == []


def test_exercises_list_leaves_out_hidden_trials(alice: APIClient, curriculum: dict) -> None:
    hidden = curriculum["r1t2"]
    hidden.is_published = False
    hidden.save()
    slugs = [item["slug"] for item in alice.get("/api/v1/exercises/", {"realm": "realm-1"}).json()]
    assert slugs == ["realm-1-trial-1", "realm-1-trial-3", "realm-1-trial-4", "realm-1-trial-5"]


def test_exercise_detail_has_the_statement_in_both_languages_and_the_starter_code(
    alice: APIClient, curriculum: dict
) -> None:
    response = alice.get("/api/v1/exercises/realm-1-trial-3/")
    assert response.status_code == 200
    body = response.json()
    version = curriculum["r1t3"].current_version
    assert (body["slug"], body["realm"], body["tier"], body["order"]) == ("realm-1-trial-3", "realm-1", 3, 3)
    assert body["title"] == {"zh": "试炼 1.3", "en": "Trial 1.3"}
    assert body["statement"] == {"zh": "说明", "en": "Statement"}
    assert body["starter_code"] == "print('hello')\n"
    assert (body["version"], body["content_hash"]) == (1, version.content_hash)
    assert (body["points"], body["grading"], body["device"]) == (100, "auto", "cpu")
    assert body["hint_count"] == 1
    assert body["limits"] == {"wall_seconds": 30}


def test_a_hidden_trial_detail_is_404(alice: APIClient, curriculum: dict) -> None:
    hidden = curriculum["r1t2"]
    hidden.is_published = False
    hidden.save()
    response = alice.get("/api/v1/exercises/realm-1-trial-2/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_locked_trial_is_403_in_the_api_as_the_page_refuses_it(
    client: Client, personas: Personas, alice: APIClient, curriculum: dict
) -> None:
    # given realm 2 is not open for alice yet
    locked = "realm-2-trial-1"
    # when she asks for its statement, draft, hints or reference through the API
    for path in ("", "draft/", "hints/", "reference/"):
        response = alice.get(f"/api/v1/exercises/{locked}/{path}")
        # then each answers 403 realm_locked, with no statement or starter code in the body
        assert response.status_code == 403, path
        assert error_of(response)["code"] == "realm_locked", path
        assert "starter_code" not in response.content.decode()
    # and the page refuses it by the same rule
    client.force_login(personas.alice)
    assert client.get(f"/trials/{locked}/")["Location"] == "/realms/"
    # while the trial stays listed (title, realm, tier) for the realm map and the lists
    assert locked in [item["slug"] for item in alice.get("/api/v1/exercises/").json()]


# --- submissions -----------------------------------------------------------------------------------------
def test_post_a_submission_queues_it_pinned_to_the_current_version(
    personas: Personas, alice: APIClient, curriculum: dict, sent: list, django_capture_on_commit_callbacks
) -> None:
    # given trial 1.1 has moved on to a second version
    exercise = curriculum["r1t1"]
    second = ExerciseVersion.objects.create(
        exercise=exercise, number=2, content_hash="second", title_zh="二", title_en="Two", statement_zh="s",
        statement_en="s", starter_code="", files={}, limits={"wall_seconds": 20},
    )  # fmt: skip
    exercise.current_version = second
    exercise.save(update_fields=["current_version"])
    # when alice submits
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x = 1\n"}, format="json"
        )
    # then it is stored as queued, pinned to version 2, in submit mode by default
    assert response.status_code == 201
    body = response.json()
    assert (body["exercise"], body["version"], body["status"], body["mode"]) == (
        "realm-1-trial-1", 2, "queued", "submit",
    )  # fmt: skip
    assert (body["code"], body["verdict"], body["score"], body["finished_at"]) == ("x = 1\n", "", None, None)
    stored = Submission.objects.get(pk=body["id"])
    assert (stored.user, stored.version) == (personas.alice, second)
    # and exactly one grade request went out, after commit
    assert [(request.submission_id, request.content_hash) for request in sent] == [(stored.pk, "second")]


def test_run_mode_is_accepted(alice: APIClient, curriculum: dict, sent: list) -> None:
    response = alice.post(
        "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x = 1", "mode": "run"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["mode"] == "run"


def test_the_list_holds_only_my_submissions_paginated_newest_first(
    personas: Personas, alice: APIClient, curriculum: dict, sent: list
) -> None:
    # given two submissions by alice and one by bob
    mine = [
        submission_create(user=personas.alice, exercise=curriculum[slug], code="x = 1", mode="run")
        for slug in ("r1t1", "r1t2")
    ]
    submission_create(user=personas.bob, exercise=curriculum["r1t1"], code="y = 2", mode="run")
    # when alice lists submissions
    response = alice.get("/api/v1/submissions/")
    # then she sees her own two, newest first, in a page
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "results", "next", "previous"}
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [mine[1].pk, mine[0].pk]
    assert "code" not in body["results"][0]  # the list is a summary


def test_the_list_pages(personas: Personas, alice: APIClient, curriculum: dict, sent: list) -> None:
    for _ in range(3):
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="run")
    first = alice.get("/api/v1/submissions/", {"page_size": 2}).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (3, 2, None)
    assert first["next"] is not None
    second = alice.get("/api/v1/submissions/", {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1
    assert {item["id"] for item in first["results"] + second["results"]} == set(
        Submission.objects.filter(user=personas.alice).values_list("pk", flat=True)
    )


def test_an_out_of_range_page_is_404_in_the_error_shape(alice: APIClient) -> None:
    response = alice.get("/api/v1/submissions/", {"page": 9})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_list_filters_by_exercise(
    personas: Personas, alice: APIClient, curriculum: dict, sent: list
) -> None:
    first = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="run")
    submission_create(user=personas.alice, exercise=curriculum["r1t2"], code="x = 1", mode="run")
    body = alice.get("/api/v1/submissions/", {"exercise": "realm-1-trial-1"}).json()
    assert (body["count"], [item["id"] for item in body["results"]]) == (1, [first.pk])
    assert body["results"][0]["exercise"] == "realm-1-trial-1"
    assert alice.get("/api/v1/submissions/", {"exercise": "no-such-trial"}).json()["count"] == 0


def test_my_submission_detail(personas: Personas, alice: APIClient, curriculum: dict, sent: list) -> None:
    submission = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="run")
    response = alice.get(f"/api/v1/submissions/{submission.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["code"], body["checks"], body["status"]) == (
        submission.pk,
        "x = 1",
        [],
        "queued",
    )


# --- token authentication --------------------------------------------------------------------------------
def test_token_authentication_reads_and_writes(
    personas: Personas, api: APIClient, curriculum: dict, sent: list
) -> None:
    # given alice's API token, and no session
    token = Token.objects.create(user=personas.alice)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    # when she calls the API with it
    me = api.get("/api/v1/me/", **auth)
    created = api.post("/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x = 1"}, format="json",
                       **auth)  # fmt: skip
    # then she is recognised, and a POST needs no CSRF token
    assert me.status_code == 200 and me.json()["username"] == "alice"
    assert created.status_code == 201
    assert Submission.objects.get().user == personas.alice
    assert api.get("/api/v1/submissions/", **auth).json()["count"] == 1


def test_session_posts_need_a_csrf_token(personas: Personas, curriculum: dict, sent: list) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas.alice)
    response = client.post(
        "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x"}, format="json"
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert Submission.objects.count() == 0


# --- schema and docs -------------------------------------------------------------------------------------
def test_the_schema_is_an_openapi_document_with_the_paths(api: APIClient) -> None:
    response = api.get("/api/v1/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Huashen API"
    paths = document["paths"]
    assert {"/api/v1/submissions/", "/api/v1/realms/"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/submissions/"])
    assert "/api/v1/submissions/{submission_id}/" in paths
    assert "/api/v1/exercises/{slug}/" in paths


def test_the_schema_is_served_as_json_on_request(api: APIClient) -> None:
    response = api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/realms/" in response.json()["paths"]


def test_the_docs_page_loads_nothing_from_outside_the_host(api: APIClient) -> None:
    response = api.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger-ui" in html
    for cdn in ("cdn.jsdelivr", "unpkg", "cdnjs"):
        assert cdn not in html
    # every script, stylesheet and icon is a path on this host, and the files are really there
    references = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", html)
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in references)
    for ref in references:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        if ref.startswith("/static/"):
            assert finders.find(ref.removeprefix("/static/")), f"{ref} is not a static file"


def test_a_token_users_saved_language_chooses_the_language_of_error_messages(
    personas: Personas, api: APIClient, curriculum: dict
) -> None:
    # given alice saved English, and calls the API with her token (no session, no Accept-Language)
    personas.alice.language = "en"
    personas.alice.save(update_fields=["language"])
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=personas.alice).key}"}
    # when she makes a mistake
    blank = {"exercise": "realm-1-trial-1", "code": "   "}
    response = api.post("/api/v1/submissions/", blank, format="json", **auth)
    # then the message is in her language, as it is for a session
    assert error_of(response)["message"] == "Code cannot be empty."


def test_the_schema_generates_without_warnings_and_validates(tmp_path) -> None:
    # --fail-on-warn turns any drf-spectacular guess (an unresolvable type or parameter) into an error
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (
        "/api/v1/submissions/{submission_id}/"
        in yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]
    )
