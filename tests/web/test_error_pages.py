"""The error pages a visitor can meet (404, 403, the CSRF refusal, 500): in their language, with the site's
navigation, never Django's bare or debug pages; and the API keeps its JSON error body for the same paths."""

import pytest
from django.test import Client, RequestFactory

from huashen.web import error_pages
from huashen.web import views as web_views
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def _english(client: Client) -> None:
    client.cookies["django_language"] = "en"


def test_an_unknown_page_is_a_404_page_in_chinese_with_navigation(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    content = response.content.decode()
    assert 'data-testid="error-page"' in content and 'data-status="404"' in content
    assert "页面不存在" in content and "/no-such-page/" in content
    # an anonymous visitor is offered the home page and the sign-in
    assert 'href="/"' in content and 'href="/login/"' in content
    # and nothing of Django's own pages: no URL patterns listed, no "Not Found" heading
    assert "Using the URLconf" not in content and "<h1>Not Found</h1>" not in content


def test_the_404_page_in_english_for_a_signed_in_student(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    personas.alice.language = "en"
    personas.alice.save()
    response = client.get("/trials/no-such-trial/")
    assert response.status_code == 404
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "Page not found" in content and "页面不存在" not in content
    assert 'href="/realms/"' in content and 'href="/profile/"' in content


def test_a_students_403_names_who_may_see_the_page(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    response = client.get("/teach/")
    assert response.status_code == 403
    content = response.content.decode()
    assert 'data-status="403"' in content and "没有权限" in content
    assert "只有导师可以查看这个页面。" in content
    assert 'href="/realms/"' in content


def test_the_403_page_in_english(client: Client, personas: Personas) -> None:
    personas.alice.language = "en"
    personas.alice.save()
    client.force_login(personas.alice)
    content = client.get("/teach/").content.decode()
    assert "Not allowed" in content and "Only instructors can see this page." in content


def test_an_expired_form_is_a_403_page_that_says_to_reload(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/language/", {"language": "en"})
    assert response.status_code == 403
    content = response.content.decode()
    assert 'data-status="403"' in content and "请刷新页面后再提交一次" in content
    client.cookies["django_language"] = "en"
    assert "reload the page" in client.post("/language/", {"language": "en"}).content.decode()


def test_a_bug_is_a_500_page_with_navigation(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a page that fails
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(web_views, "render", broken)
    client.raise_request_exception = False
    # when a visitor opens it, the 500 page answers in their language
    response = client.get("/")
    assert response.status_code == 500
    content = response.content.decode()
    assert 'data-status="500"' in content and "服务器出错了" in content and 'href="/"' in content
    assert "a bug" not in content and "Traceback" not in content
    _english(client)
    assert "Something went wrong" in client.get("/").content.decode()


def test_the_500_page_without_a_database_is_the_plain_one(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the page cannot even be rendered with the request (the header asks the database for the user)
    real = error_pages.loader.render_to_string

    def no_request(template: str, context: dict, request: object = None, **options: object) -> str:
        if request is not None:
            raise RuntimeError("database is down")
        return real(template, context, **options)

    monkeypatch.setattr(error_pages.loader, "render_to_string", no_request)
    response = error_pages.server_error(RequestFactory().get("/"))
    # then the plain page still answers, with the way home
    assert response.status_code == 500
    content = response.content.decode()
    assert 'data-status="500"' in content and "服务器出错了" in content and 'href="/"' in content


def test_the_api_keeps_its_json_errors(client: Client, personas: Personas) -> None:
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


# --- where each role lands, and who sees the join form --------------------------------------------------
def test_instructors_land_on_their_cohorts_students_on_the_realm_map(
    client: Client, personas: Personas
) -> None:
    from tests.conftest import PASSWORD

    for name, landing in [("alice", "/realms/"), ("carol", "/teach/"), ("erin", "/teach/")]:
        client.logout()
        response = client.post("/login/", {"username": name, "password": PASSWORD})
        assert (response.status_code, response["Location"]) == (302, landing), name
        assert client.get("/")["Location"] == landing, name
    # a next given to the sign-in still wins
    client.logout()
    response = client.post("/login/?next=/realms/", {"username": "carol", "password": PASSWORD})
    assert response["Location"] == "/realms/"


def test_the_join_form_is_for_students_and_folded_once_in_a_cohort(
    client: Client, personas: Personas, django_user_model
) -> None:
    # an instructor on the realm map sees no join form
    client.force_login(personas.carol)
    assert 'data-testid="join-cohort"' not in client.get("/realms/").content.decode()
    # alice, in cohort A, sees her cohort named and joining another folded away
    client.force_login(personas.alice)
    content = client.get("/realms/").content.decode()
    assert "你的班级：A" in content
    assert "<details>" in content and "加入另一个班级" in content
    # a student in no cohort sees the form itself
    from huashen.accounts.services import user_create

    client.force_login(user_create(username="frank", password="x" * 12))
    content = client.get("/realms/").content.decode()
    assert 'data-testid="join-cohort"' in content and "<details>" not in content
    assert 'name="join_code"' in content
