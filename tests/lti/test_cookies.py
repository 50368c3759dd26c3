"""Cookies for launches that arrive cross-site: the login's state cookie is SameSite=None; Secure over https
(behind a TLS proxy too), while the site's own session and CSRF cookies stay SameSite=Lax."""

from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import Client

from tests.lti.standin import CLIENT_ID


def test_over_https_the_state_cookie_is_cross_site_and_the_redirect_uri_is_https(
    lms, standin, settings
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    params = {"iss": standin.url, "login_hint": "x", "target_link_uri": "https://testserver/lti/launch/",
              "client_id": CLIENT_ID, "lti1p3_new_window": "1"}  # fmt: skip
    response = Client().get("/lti/login/", params, HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["redirect_uri"] == ["https://testserver/lti/launch/"]
    (state,) = query["state"]
    cookie = response.cookies[f"lti1p3-{state}"]
    assert cookie["samesite"] == "None" and cookie["secure"] and cookie["httponly"]


def test_the_sites_own_cookies_stay_lax_and_pages_refuse_frames() -> None:
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.X_FRAME_OPTIONS == "DENY"


def test_a_login_from_an_unknown_platform_is_refused(lms, standin) -> None:
    params = {"iss": "https://elsewhere.example", "login_hint": "x", "target_link_uri": "https://testserver/lti/launch/",
              "client_id": CLIENT_ID, "lti1p3_new_window": "1"}  # fmt: skip
    response = Client().get("/lti/login/", params)
    assert response.status_code == 403 and response["X-Huashen-Lti-Refusal"] == "platform"
