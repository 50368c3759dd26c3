"""API tokens: created, listed and revoked through the API; a revoked token is refused; secrets are hashed."""

import hashlib

import pytest
from rest_framework.test import APIClient

from huashen.accounts.models import ApiToken
from huashen.accounts.tokens import TOKENS_PER_USER, api_token_create
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


def _auth(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}


def test_a_token_is_created_shown_once_and_stored_only_as_a_hash(personas: Personas, client_for) -> None:
    # when alice (by session) makes a token for her laptop
    response = client_for(personas.alice).post(TOKENS, {"name": "laptop"}, format="json")
    # then the secret is in the answer, and only its hash and a short prefix are stored
    assert response.status_code == 201
    body = response.json()
    secret = body["token"]
    assert secret.startswith("hs_") and len(secret) >= 40
    assert body["name"] == "laptop" and body["prefix"] == secret[3:11] and body["last_used_at"] is None
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.key_hash, stored.prefix, stored.name}
    # and the list never shows a secret again
    listed = client_for(personas.alice).get(TOKENS).json()
    assert [token["name"] for token in listed] == ["laptop"]
    assert "token" not in listed[0]


def test_a_token_authenticates_the_api_and_records_its_use(personas: Personas, api: APIClient) -> None:
    new = api_token_create(user=personas.bob, name="cli")
    response = api.get("/api/v1/me/", **_auth(new.secret))
    assert response.status_code == 200 and response.json()["username"] == "bob"
    new.token.refresh_from_db()
    assert new.token.last_used_at is not None


def test_several_named_tokens_live_side_by_side(personas: Personas, api: APIClient) -> None:
    first = api_token_create(user=personas.alice, name="laptop")
    second = api_token_create(user=personas.alice, name="lab machine")
    for new in (first, second):
        assert api.get("/api/v1/me/", **_auth(new.secret)).json()["username"] == "alice"
    names = [token["name"] for token in api.get(TOKENS, **_auth(first.secret)).json()]
    assert sorted(names) == ["lab machine", "laptop"]


def test_a_revoked_token_is_refused_with_401_in_the_error_shape(personas: Personas, api: APIClient) -> None:
    # given alice's two tokens
    keep = api_token_create(user=personas.alice, name="keep")
    drop = api_token_create(user=personas.alice, name="drop")
    # when she revokes one (with the other)
    response = api.delete(f"{TOKENS}{drop.token.pk}/", **_auth(keep.secret))
    assert response.status_code == 204
    # then the revoked one is refused as unauthenticated, in the one shape, and the other still works
    refused = api.get("/api/v1/me/", **_auth(drop.secret))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert error_of(refused)["code"] == "authentication_failed"
    assert api.get("/api/v1/me/", **_auth(keep.secret)).status_code == 200


def test_a_token_can_revoke_itself(personas: Personas, api: APIClient) -> None:
    new = api_token_create(user=personas.alice, name="cli")
    assert api.delete(f"{TOKENS}{new.token.pk}/", **_auth(new.secret)).status_code == 204
    assert api.get("/api/v1/me/", **_auth(new.secret)).status_code == 401


@pytest.mark.parametrize("viewer", ["bob", "carol", "dave", "erin"])
def test_nobody_else_sees_or_revokes_a_users_token(personas: Personas, client_for, viewer: str) -> None:
    # given alice's token
    token = api_token_create(user=personas.alice, name="laptop").token
    client = client_for(getattr(personas, viewer))
    # then another student, her instructor, another instructor and even an admin see none of it: 404
    assert client.get(TOKENS).json() == []
    response = client.delete(f"{TOKENS}{token.pk}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_revoking_an_unknown_token_is_404(personas: Personas, client_for) -> None:
    response = client_for(personas.alice).delete(f"{TOKENS}999999/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("name, field_code", [("", "blank"), ("   ", "blank"), ("x" * 65, "max_length")])
def test_a_token_needs_a_sensible_name(personas: Personas, client_for, name: str, field_code: str) -> None:
    response = client_for(personas.alice).post(TOKENS, {"name": name}, format="json")
    assert response.status_code == 400
    assert error_of(response) | {"message": ""} == {"code": field_code, "message": "", "field": "name"}
    assert not ApiToken.objects.exists()


def test_tokens_per_user_are_capped(personas: Personas, client_for) -> None:
    for number in range(TOKENS_PER_USER):
        api_token_create(user=personas.alice, name=f"t{number}")
    response = client_for(personas.alice).post(TOKENS, {"name": "one too many"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "too_many_tokens"
    assert ApiToken.objects.filter(user=personas.alice).count() == TOKENS_PER_USER


def test_an_inactive_users_token_is_refused(personas: Personas, api: APIClient) -> None:
    new = api_token_create(user=personas.alice, name="cli")
    personas.alice.is_active = False
    personas.alice.save(update_fields=["is_active"])
    assert api.get("/api/v1/me/", **_auth(new.secret)).status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_callers_get_no_tokens(api: APIClient, method: str) -> None:
    response = getattr(api, method)(TOKENS, {"name": "x"}, format="json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_the_token_list_costs_the_same_queries_for_many_tokens(
    personas: Personas, api: APIClient, django_assert_num_queries
) -> None:
    new = api_token_create(user=personas.alice, name="cli")
    api.get(TOKENS, **_auth(new.secret))  # last_used_at written: later calls within the minute do not write
    with django_assert_num_queries(2):  # the token (with its user), the list
        api.get(TOKENS, **_auth(new.secret))
    for number in range(8):
        api_token_create(user=personas.alice, name=f"t{number}")
    with django_assert_num_queries(2):
        assert len(api.get(TOKENS, **_auth(new.secret)).json()) == 9
