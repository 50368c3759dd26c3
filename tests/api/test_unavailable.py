"""A database or Redis that does not answer is a 503 with Retry-After in the one error body, never a 500."""

import pytest
import redis.exceptions
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError
from django.test import Client
from rest_framework.test import APIClient

from huashen.api import views
from huashen.grading.models import Submission
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/submissions/"


def _assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert error_of(response)["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize(
    "outage",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
    ],
)
def test_an_outage_inside_a_view_is_503_with_retry_after(
    personas: Personas, curriculum: dict, client_for, monkeypatch: pytest.MonkeyPatch, outage: Exception
) -> None:
    # given a service behind the view that does not answer
    def down(**_kwargs: object) -> None:
        raise outage

    monkeypatch.setattr(views, "submission_create", down)
    # when a student submits
    response = client_for(personas.alice).post(
        SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": "x = 1"}, format="json"
    )
    # then they are told to come back, in the one error shape
    _assert_unavailable(response)
    assert Submission.objects.count() == 0


def test_an_outage_in_a_middleware_is_503_under_the_api(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a signed-in client whose session the database can no longer load (read by a middleware,
    # before any view runs)
    client = Client(raise_request_exception=False)
    client.force_login(personas.alice)

    def down(self: SessionStore) -> dict:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(SessionStore, "load", down)
    # then the API answers 503 with Retry-After, not the 500 of a bug
    _assert_unavailable(client.get("/api/v1/me/"))


def test_a_bug_is_still_a_500(
    personas: Personas, curriculum: dict, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(views, "submission_create", broken)
    client: APIClient = client_for(personas.alice)
    client.raise_request_exception = False
    response = client.post(SUBMISSIONS, {"exercise": "realm-1-trial-1", "code": "x = 1"}, format="json")
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
