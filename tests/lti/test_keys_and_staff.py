"""The tool's signing keys (JWKS, rotation with a grace period) and the staff page that registers an LMS."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from huashen.accounts.models import Role
from huashen.accounts.services import user_create
from huashen.lti import services


def test_the_jwks_publishes_the_active_keys_and_makes_the_first(db) -> None:
    response = Client().get("/lti/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key  # never the private half


def test_rotation_keeps_the_old_key_for_the_grace_period_then_retires_it(db) -> None:
    first = services.keys_ensure()
    grace = dt.timedelta(days=7)
    services.keys_rotate(grace=grace)
    kids = {key["kid"] for key in Client().get("/lti/jwks.json").json()["keys"]}
    assert str(first) in kids and len(kids) == 2  # both published: the platform may hold the old one
    newest = Key.objects.active().latest()
    assert services.keys_rotate(grace=grace, add=False, now=timezone.now()).retired == 0
    rotation = services.keys_rotate(grace=grace, add=False, now=newest.datetime_created + grace)
    assert rotation.retired == 1
    kids = {key["kid"] for key in Client().get("/lti/jwks.json").json()["keys"]}
    assert kids == {str(newest)}


def test_the_rotate_command_adds_a_key(db, capsys) -> None:
    services.keys_ensure()
    call_command("lti_rotate_keys", "--grace-days", "7")
    assert Key.objects.active().count() == 2
    assert "retired 0" in capsys.readouterr().out


def test_an_admin_registers_a_platform_on_the_staff_page(db) -> None:
    admin = user_create(username="erin", password="pw-123456789", role=Role.ADMIN)
    client = Client()
    client.force_login(admin)
    page = client.get("/staff/lti/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "http://testserver/lti/login/" in page.content.decode()
    assert "http://testserver/lti/jwks.json" in page.content.decode()
    response = client.post(
        "/staff/lti/",
        {
            "action": "register", "name": "Moodle", "issuer": "https://moodle.example.edu",
            "client_id": "abc123", "deployment_ids": "1\n2", "keyset_url": "https://moodle.example.edu/mod/lti/certs.php",
            "auth_url": "https://moodle.example.edu/mod/lti/auth.php", "token_url": "https://moodle.example.edu/mod/lti/token.php",
            "audience": "",
        },
    )  # fmt: skip
    assert response.status_code == 302
    registration = LtiRegistration.objects.get()
    assert (registration.issuer, registration.client_id) == ("https://moodle.example.edu", "abc123")
    assert set(LtiDeployment.objects.filter(is_active=True).values_list("deployment_id", flat=True)) == {
        "1",
        "2",
    }
    client.post(
        "/staff/lti/", {"action": "deployments", "registration": registration.pk, "deployment_ids": "2"}
    )
    assert set(LtiDeployment.objects.filter(is_active=True).values_list("deployment_id", flat=True)) == {"2"}
    twice = client.post("/staff/lti/", {"action": "register", "name": "Again", "issuer": "https://moodle.example.edu",
                                        "client_id": "abc123", "deployment_ids": "1", "keyset_url": "https://x.example/k",
                                        "auth_url": "https://x.example/a", "token_url": "https://x.example/t"}, follow=True)  # fmt: skip
    assert "已经登记过了" in twice.content.decode() and LtiRegistration.objects.count() == 1


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR])
def test_only_admins_see_the_staff_page(db, role: Role) -> None:
    client = Client()
    client.force_login(user_create(username=f"u-{role}", password="pw-123456789", role=role))
    assert client.get("/staff/lti/").status_code == 403
    assert client.post("/staff/lti/", {"action": "rotate"}).status_code == 403


def test_the_admins_lti_pages_speak_chinese(db) -> None:
    services.registration_create(
        name="Moodle", issuer="https://moodle.example.edu", client_id="abc", auth_url="https://moodle.example.edu/a",
        token_url="https://moodle.example.edu/t", keyset_url="https://moodle.example.edu/k", deployment_ids=["1"],
    )  # fmt: skip
    client = Client()
    admin = user_create(username="erin", password="pw-123456789", role=Role.ADMIN)
    client.force_login(admin)
    page = client.get("/admin/lti_tool/ltiregistration/").content.decode()
    assert "签发方" in page and "客户端 ID" in page
    assert client.get("/admin/lti_tool/key/").status_code == 200
    admin.language = "en"
    admin.save(update_fields=["language"])
    english = client.get("/admin/lti_tool/ltiregistration/").content.decode()
    assert "Issuer" in english and "签发方" not in english
