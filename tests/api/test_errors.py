"""Every API error answers in the one body shape `{"error": {"code", "message", "field"}}`."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from huashen.grading.models import Submission
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/submissions/"


@pytest.fixture
def alice(personas: Personas, client_for) -> APIClient:
    return client_for(personas.alice)


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/me/"),
        ("patch", "/api/v1/me/"),
        ("get", "/api/v1/realms/"),
        ("get", "/api/v1/exercises/"),
        ("get", "/api/v1/exercises/r1-trial-1/"),
        ("get", SUBMISSIONS),
        ("post", SUBMISSIONS),
        ("get", "/api/v1/submissions/1/"),
    ],
)
def test_anonymous_requests_are_refused_in_the_error_shape(api: APIClient, method: str, path: str) -> None:
    # given no session and no token
    # when any endpoint is called
    response = getattr(api, method)(path, {}, format="json") if method != "get" else api.get(path)
    # then it is refused as unauthenticated, in the one shape
    assert response.status_code in (401, 403)
    error = error_of(response)
    assert error["code"] == "not_authenticated"
    assert error["field"] is None


def test_a_bad_token_is_refused_in_the_error_shape(api: APIClient) -> None:
    response = api.get("/api/v1/me/", HTTP_AUTHORIZATION="Token not-a-real-token")
    # Session authentication is listed first, so DRF answers 403 (it has no WWW-Authenticate to offer)
    assert response.status_code in (401, 403)
    assert error_of(response)["code"] == "authentication_failed"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/nope", "/api/v1/submissions/abc/"])
def test_an_unknown_api_path_is_a_json_404(personas: Personas, client_for, path: str, debug: bool) -> None:
    # given a signed-in user (and, in one run, DEBUG's HTML technical 404 page in play)
    client = client_for(personas.alice)
    # when a path the API does not have is requested
    with override_settings(DEBUG=debug):
        response = client.get(path)
    # then it is a JSON 404 in the error shape, not Django's HTML page
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "没有找到。", "field": None}


def test_an_unknown_api_path_is_a_json_404_for_anonymous_callers_too(api: APIClient) -> None:
    response = api.post("/api/v1/nope/", {"x": 1}, format="json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/exercises/", "/api/v1/submissions/", "/api/v1/me/"])
def test_a_format_no_renderer_has_is_a_404_in_the_error_shape(alice: APIClient, path: str) -> None:
    # DRF's content negotiation raises Django's Http404 for an unknown `?format=` inside the view
    response = alice.get(path, {"format": "xml"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_missing_field_names_the_field(alice: APIClient, curriculum: dict, sent: list) -> None:
    # when a submission arrives without code
    response = alice.post(SUBMISSIONS, {"exercise": "realm-1-trial-1"}, format="json")
    # then a 400 names the field, and nothing is stored or sent
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("required", "code")
    assert Submission.objects.count() == 0 and sent == []


def test_an_invalid_choice_names_the_field(alice: APIClient, curriculum: dict, sent: list) -> None:
    response = alice.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": "x = 1", "mode": "grade-me"},
                          format="json")  # fmt: skip
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == ("invalid_choice", "mode")


def test_a_malformed_json_body_is_a_400_in_the_error_shape(alice: APIClient) -> None:
    response = alice.generic("POST", SUBMISSIONS, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_oversize_code_is_413(alice: APIClient, curriculum: dict, sent: list) -> None:
    # given code one byte over the limit
    code = "x" * (64 * 1024 + 1)
    # when it is submitted
    with override_settings(SUBMISSION_MAX_BYTES=64 * 1024):
        response = alice.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": code}, format="json")
    # then it is refused as too large, naming the field
    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["field"]) == ("too_large", "code")
    assert "65537" in error["message"]
    assert Submission.objects.count() == 0 and sent == []


def test_code_holding_nul_is_400(alice: APIClient, curriculum: dict, sent: list) -> None:
    response = alice.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": "print(1)\x00"}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "code"
    # DRF's CharField refuses NUL before the service sees it
    assert error["code"] == "null_characters_not_allowed"
    assert Submission.objects.count() == 0 and sent == []


def test_blank_code_is_400(alice: APIClient, curriculum: dict, sent: list) -> None:
    response = alice.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": "  \n"}, format="json")
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == ("empty_code", "code")


@override_settings(SUBMISSIONS_PER_MINUTE=2)
def test_the_rate_limit_is_429_with_retry_after(alice: APIClient, curriculum: dict, sent: list) -> None:
    # given two submissions in the last minute
    payload = {"exercise": "realm-1-trial-1", "code": "x = 1", "mode": "run"}
    for _ in range(2):
        assert alice.post(SUBMISSIONS, payload, format="json").status_code == 201
    # when a third arrives
    response = alice.post(SUBMISSIONS, payload, format="json")
    # then it is refused with a 429 that says when to retry
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 61
    assert Submission.objects.count() == 2


def test_a_locked_realm_is_403(alice: APIClient, curriculum: dict, sent: list) -> None:
    # given realm 2 is locked for alice (nothing passed in realm 1)
    # when she submits to a realm-2 trial
    response = alice.post(SUBMISSIONS, {"exercise": "realm-2-trial-1", "code": "x = 1"}, format="json")
    # then it is refused as locked
    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["field"]) == ("realm_locked", "exercise")
    assert Submission.objects.count() == 0 and sent == []


def test_an_unknown_trial_slug_is_404(alice: APIClient, curriculum: dict, sent: list) -> None:
    response = alice.post(SUBMISSIONS, {"exercise": "no-such-trial", "code": "x = 1"}, format="json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert Submission.objects.count() == 0 and sent == []


def test_an_unknown_trial_detail_is_404(alice: APIClient, curriculum: dict) -> None:
    response = alice.get("/api/v1/exercises/no-such-trial/")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "没有找到。", "field": None}


def test_an_unknown_submission_is_404(alice: APIClient) -> None:
    response = alice.get("/api/v1/submissions/999999/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_405_in_the_error_shape(alice: APIClient) -> None:
    response = alice.delete("/api/v1/me/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_json_500_in_the_error_shape(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a bug somewhere below a view
    def broken(**kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("huashen.api.views.realms_with_progress", broken)
    client = APIClient(raise_request_exception=False)
    client.force_login(personas.alice)
    # when the view runs into it
    response = client.get("/api/v1/realms/")
    # then the caller gets a 500 in the one shape, and no traceback
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "服务器内部错误。",
        "field": None,
    }
    assert "boom" not in response.content.decode()


def test_an_unknown_path_under_api_but_outside_v1_is_a_json_404(api: APIClient) -> None:
    response = api.get("/api/v2/realms/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_trial_in_a_retired_realm_is_404_not_a_crash(
    personas: Personas, curriculum: dict, sent: list
) -> None:
    # given an admin retired realm 1 (RealmAdmin edits every field) while its trials stay published
    realm = curriculum["r1"]
    realm.retired = True
    realm.save(update_fields=["retired"])
    client = APIClient(raise_request_exception=False)
    client.force_login(personas.alice)
    # when alice submits to one of its trials
    response = client.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": "x = 1"}, format="json")
    # then the trial is simply not there, as it is not on the realm map
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "not_found"
    assert Submission.objects.count() == 0 and sent == []
