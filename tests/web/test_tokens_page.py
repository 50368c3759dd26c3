"""The API tokens page: make a named token (its secret shown once), list them, revoke one."""

import pytest
from django.test import Client

from huashen.accounts.models import ApiToken
from huashen.accounts.tokens import api_token_create
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

URL = "/profile/tokens/"


@pytest.fixture
def alice(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.alice)
    return client


def test_the_page_needs_a_sign_in() -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_new_token_is_shown_once_then_only_listed(alice: Client, personas: Personas) -> None:
    # when alice makes a token named "laptop"
    response = alice.post(URL, {"name": "laptop"})
    assert response.status_code == 302
    # then the next page shows its secret, which works against the API
    page = alice.get(URL).content.decode()
    token = ApiToken.objects.get(user=personas.alice)
    start = page.index('id="new-token-secret"')
    secret = page[page.index(">", start) + 1 : page.index("</code>", start)]
    assert secret.startswith("hs_" + token.prefix)
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}").json()["username"] == "alice"
    # and a reload lists the token by name and prefix but never shows the secret again
    again = alice.get(URL).content.decode()
    assert "laptop" in again and f"hs_{token.prefix}" in again and secret not in again


def test_a_token_is_revoked_from_the_page(alice: Client, personas: Personas) -> None:
    new = api_token_create(user=personas.alice, name="old laptop")
    response = alice.post(URL, {"revoke": new.token.pk}, follow=True)
    assert not ApiToken.objects.exists()
    assert "令牌已撤销" in response.content.decode()
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {new.secret}").status_code == 401


def test_another_users_token_cannot_be_revoked_from_the_page(personas: Personas) -> None:
    token = api_token_create(user=personas.alice, name="laptop").token
    bob = Client()
    bob.force_login(personas.bob)
    response = bob.post(URL, {"revoke": token.pk}, follow=True)
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert "没有找到这个令牌" in response.content.decode()
    assert "laptop" not in response.content.decode()


def test_a_blank_name_is_refused_on_the_form(alice: Client) -> None:
    response = alice.post(URL, {"name": "   "})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_the_page_speaks_english(alice: Client, personas: Personas) -> None:
    api_token_create(user=personas.alice, name="laptop")
    personas.alice.language = "en"
    personas.alice.save(update_fields=["language"])
    page = alice.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "API tokens" in page and "Revoke" in page and "Your tokens" in page
    assert "Tokens let scripts" in page and "令牌" not in page.split("<main")[1]
