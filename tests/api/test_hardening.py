"""Bad input everywhere gets a clear 4xx in the one error body; lists page and filter."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from huashen.grading.models import Mode, Status, Submission, Verdict
from huashen.grading.services import submission_create
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/submissions/"


@pytest.fixture
def alice(personas: Personas, client_for) -> APIClient:
    return client_for(personas.alice)


def _post_raw(client: APIClient, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", SUBMISSIONS, body, content_type=content_type)


# --- sizes and encodings ---------------------------------------------------------------------------------
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100_000)
def test_a_body_over_the_upload_limit_is_413_in_the_error_shape(
    alice: APIClient, curriculum: dict, sent: list
):
    # given a body larger than Django will read
    body = b'{"exercise": "realm-1-trial-1", "code": "' + b"x" * 200_000 + b'"}'
    # when it is posted
    response = _post_raw(alice, body)
    # then it is a JSON 413, not Django's HTML 400
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large" and "100000" in error["message"]
    assert Submission.objects.count() == 0 and sent == []


def test_the_api_speaks_json_only_so_a_form_body_is_415(
    alice: APIClient, curriculum: dict, sent: list
) -> None:
    response = _post_raw(alice, b"exercise=realm-1-trial-1&code=x%3D1", "application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert Submission.objects.count() == 0


def test_a_body_that_is_not_utf8_is_400(alice: APIClient, curriculum: dict, sent: list) -> None:
    response = _post_raw(alice, b'{"exercise": "realm-1-trial-1", "code": "\xff\xfe print(1)"}')
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    assert Submission.objects.count() == 0


def test_code_with_a_lone_surrogate_is_400_naming_the_field(alice: APIClient, curriculum: dict, sent: list):
    # valid JSON, but "\ud800" is no character: DRF refuses it before the service would
    response = _post_raw(alice, b'{"exercise": "realm-1-trial-1", "code": "x = 1 \\ud800"}')
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (
        "surrogate_characters_not_allowed",
        "code",
    )
    assert Submission.objects.count() == 0


def test_a_body_of_another_media_type_is_415(alice: APIClient) -> None:
    response = _post_raw(alice, b"print(1)", "text/x-python")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "method, path", [("put", SUBMISSIONS), ("delete", "/api/v1/me/"), ("post", "/api/v1/realms/")]
)
def test_an_unsupported_method_is_405(alice: APIClient, method: str, path: str) -> None:
    response = getattr(alice, method)(path)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


# --- throttling --------------------------------------------------------------------------------------------
@override_settings(SUBMISSIONS_PER_MINUTE=1)
def test_the_429_names_the_limit_and_when_to_retry(alice: APIClient, curriculum: dict, sent: list) -> None:
    payload = {"exercise": "realm-1-trial-1", "code": "x = 1"}
    assert alice.post(SUBMISSIONS, payload, format="json").status_code == 201
    response = alice.post(SUBMISSIONS, payload, format="json")
    assert response.status_code == 429
    error = error_of(response)
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 61
    assert "1" in error["message"] and str(retry_after) in error["message"]


@override_settings(SUBMISSIONS_PER_MINUTE=1)
def test_the_limit_is_per_user(personas: Personas, client_for, curriculum: dict, sent: list) -> None:
    payload = {"exercise": "realm-1-trial-1", "code": "x = 1"}
    assert client_for(personas.alice).post(SUBMISSIONS, payload, format="json").status_code == 201
    assert client_for(personas.bob).post(SUBMISSIONS, payload, format="json").status_code == 201


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # load tests raise it with SUBMISSIONS_PER_MINUTE; a bad value fails loudly at start-up
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import huashen.settings

    monkeypatch.setenv("SUBMISSIONS_PER_MINUTE", "5000")
    assert importlib.reload(huashen.settings).SUBMISSIONS_PER_MINUTE == 5000
    monkeypatch.setenv("SUBMISSIONS_PER_MINUTE", "0")
    with pytest.raises(ImproperlyConfigured, match="SUBMISSIONS_PER_MINUTE"):
        importlib.reload(huashen.settings)
    monkeypatch.delenv("SUBMISSIONS_PER_MINUTE")
    importlib.reload(huashen.settings)


# --- paging and filtering ----------------------------------------------------------------------------------
@pytest.fixture
def history(personas: Personas, curriculum: dict, sent: list) -> list[Submission]:
    """Alice's five submissions: three runs and two submits on trial 1, one submit on trial 2."""
    made = []
    with override_settings(SUBMISSIONS_PER_MINUTE=100):
        for slug, mode in (
            [("realm-1-trial-1", Mode.RUN)] * 3
            + [("realm-1-trial-1", Mode.SUBMIT)] * 2
            + [("realm-1-trial-2", Mode.SUBMIT)]
        ):
            made.append(
                submission_create(user=personas.alice, exercise=curriculum[_key(slug)], code="x=1", mode=mode)
            )
    done = made[-1]
    Submission.objects.filter(pk=done.pk).update(status=Status.DONE, verdict=Verdict.PASSED, score=100.0)
    Submission.objects.filter(pk=made[3].pk).update(status=Status.DONE, verdict=Verdict.FAILED, score=10.0)
    # bob's own submission never shows in alice's list
    submission_create(user=personas.bob, exercise=curriculum["r1t1"], code="x=1", mode=Mode.RUN)
    return made


def _key(slug: str) -> str:
    return "r1t" + slug.rsplit("-", 1)[1]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, 6),
        ({"exercise": "realm-1-trial-1"}, 5),
        ({"exercise": "realm-1-trial-2"}, 1),
        ({"mode": "run"}, 3),
        ({"mode": "submit", "exercise": "realm-1-trial-1"}, 2),
        ({"status": "done"}, 2),
        ({"status": "queued"}, 4),
        ({"verdict": "passed"}, 1),
        ({"verdict": "failed", "exercise": "realm-1-trial-2"}, 0),
        ({"exercise": "no-such-trial"}, 0),
    ],
)
def test_the_submission_list_filters(alice: APIClient, history: list, query: dict, expected: int) -> None:
    body = alice.get(SUBMISSIONS, query).json()
    assert body["count"] == expected
    for row in body["results"]:
        for name, value in query.items():
            assert row[name] == value


@pytest.mark.parametrize(
    "name, value",
    [
        ("mode", "grade"),
        ("status", "lost"),
        ("verdict", "meh"),
        ("exercise", "a b"),
        ("verdict", ""),
        ("mode", ""),
    ],
)
def test_an_unknown_filter_value_is_400_naming_it(alice: APIClient, name: str, value: str) -> None:
    response = alice.get(SUBMISSIONS, {name: value})
    assert response.status_code == 400
    assert error_of(response)["field"] == name


def test_the_submission_list_pages_newest_first(alice: APIClient, history: list) -> None:
    first = alice.get(SUBMISSIONS, {"page_size": 4}).json()
    second = alice.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted((s.pk for s in history), reverse=True)
    assert first["count"] == 6 and second["next"] is None
    past_the_end = alice.get(SUBMISSIONS, {"page": 9})
    assert past_the_end.status_code == 404 and error_of(past_the_end)["code"] == "not_found"


def test_the_submission_list_costs_the_same_queries_for_many_rows(
    personas: Personas, alice: APIClient, history: list, curriculum: dict, django_assert_num_queries
) -> None:
    # session, user, count, page (exercise and version joined): independent of the number of rows
    with django_assert_num_queries(4):
        assert alice.get(SUBMISSIONS).json()["count"] == 6
    with override_settings(SUBMISSIONS_PER_MINUTE=100):
        for _ in range(10):
            submission_create(user=personas.alice, exercise=curriculum["r1t3"], code="x=1", mode=Mode.RUN)
    with django_assert_num_queries(4):
        assert alice.get(SUBMISSIONS).json()["count"] == 16


# --- unknown ids and wrong roles ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "viewer, status_code", [("alice", 200), ("bob", 404), ("carol", 200), ("dave", 404), ("erin", 200)]
)
def test_a_submission_is_seen_by_its_author_her_instructor_and_admins(
    personas: Personas, client_for, history: list, viewer: str, status_code: int
) -> None:
    response = client_for(getattr(personas, viewer)).get(f"{SUBMISSIONS}{history[0].pk}/")
    assert response.status_code == status_code
    if status_code == 404:
        assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        f"{SUBMISSIONS}2147483647/",
        f"{SUBMISSIONS}99999999999999999999/",
        "/api/v1/exercises/nope/",
        "/api/v1/tokens/0/",
    ],
)
def test_unknown_ids_are_404(alice: APIClient, curriculum: dict, path: str) -> None:
    response = alice.delete(path) if "tokens" in path else alice.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_detail_carries_the_log_once_done(alice: APIClient, history: list) -> None:
    done = history[-1]
    Submission.objects.filter(pk=done.pk).update(
        log=[{"seq": 1, "kind": "stdout", "payload": "hi\n", "time": 1.0},
             {"seq": 2, "kind": "status", "payload": {"status": "done", "verdict": "passed", "score": 100.0}, "time": 2.0}]
    )  # fmt: skip
    body = alice.get(f"{SUBMISSIONS}{done.pk}/").json()
    assert [event["kind"] for event in body["log"]] == ["stdout", "status"]


def test_the_schema_documents_the_error_answers_and_retry_after(api: APIClient) -> None:
    paths = api.get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    create = paths["/api/v1/submissions/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "413", "415", "429"} <= set(create)
    assert create["413"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOutput")
    assert "Retry-After" in create["429"]["headers"]
    assert set(paths["/api/v1/tokens/{token_id}/"]["delete"]["responses"]) >= {"204", "401", "403", "404"}
    # a body is JSON and nothing else
    assert set(paths["/api/v1/submissions/"]["post"]["requestBody"]["content"]) == {"application/json"}


# --- shapes the parser or the fields must refuse ---------------------------------------------------------
@pytest.mark.parametrize("opening, closing", [(b"[", b"]"), (b'{"a":', b"}")])
def test_json_nested_too_deep_to_decode_is_400(
    alice: APIClient, curriculum: dict, sent: list, opening: bytes, closing: bytes
) -> None:
    # given a body nested 100,000 deep (the decoder recurses once per level)
    body = opening * 100_000 + b"1" + closing * 100_000
    # when it is posted
    response = _post_raw(alice, body)
    # then it is the client's mistake, in the one error shape, and nothing is stored or sent
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    assert Submission.objects.count() == 0 and sent == []


@pytest.mark.parametrize("code", [12, 1.5, True, None, ["x = 1"], {"x": 1}])
def test_code_that_is_not_a_string_is_400_naming_the_field(
    alice: APIClient, curriculum: dict, sent: list, code: object
) -> None:
    response = alice.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": code}, format="json")
    assert response.status_code == 400
    assert error_of(response)["field"] == "code"
    assert Submission.objects.count() == 0 and sent == []


def test_a_draft_that_is_not_a_string_is_400(alice: APIClient, curriculum: dict) -> None:
    response = alice.put("/api/v1/exercises/realm-1-trial-1/draft/", {"code": 12}, format="json")
    assert response.status_code == 400
    assert error_of(response)["field"] == "code"
