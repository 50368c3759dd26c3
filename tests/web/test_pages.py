"""The server-rendered pages, through Django's test client: accounts, the realm map, language, cohorts."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user
from django.core.management import call_command
from django.test import Client

from huashen.accounts.models import CohortMembership, Role, User
from huashen.grading import dispatch
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.conftest import PASSWORD, Personas, SentRequests
from workers.protocol import GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db

REALM_NAMES = [
    ("元神凝练 · PyTorch 入门", "Condensing the Spirit · PyTorch Foundations"),
    ("法身塑造 · 模型构建", "Shaping the Body · Building Models"),
    ("灵识扩展 · 计算机视觉与序列", "Expanding the Senses · Vision and Sequences"),
    ("元神游历 · 迁移学习与部署", "Spirit Journey · Transfer Learning and Deployment"),
    ("道果巩固 · 持续精进", "Consolidating the Fruit · Continued Practice"),
]
NEW_PASSWORD = "a brand new passphrase 77"


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


@pytest.fixture(scope="session", autouse=True)
def _english_catalog_is_compiled() -> None:
    """The .mo files are build outputs (git-ignored): compile the English catalog when it is missing."""
    mo = Path(django_settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.mo"
    if not mo.exists():
        call_command("compilemessages", locale=["en"], verbosity=0)


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


def messages_of(response) -> list[tuple[str, str]]:
    """(tags, text) of the messages a page showed."""
    return [(message.tags, message.message) for message in response.context["messages"]]


def signed_in(client: Client) -> User | None:
    user = get_user(client)
    return user if user.is_authenticated else None  # type: ignore[return-value]


def sign_up_data(**extra: str) -> dict[str, str]:
    return {"username": "frank", "email": "", "password1": PASSWORD, "password2": PASSWORD, **extra}


# --- home and sign-in -----------------------------------------------------------------------------------
def test_home_page_for_anonymous_visitors(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "化神：在实践中修炼 PyTorch 深度学习" in content
    assert 'href="/signup/"' in content and 'href="/login/"' in content
    assert html_lang(response) == "zh-Hans"


def test_home_page_sends_signed_in_users_to_the_realm_map(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/realms/")


def test_the_realm_map_needs_a_sign_in(client: Client) -> None:
    response = client.get("/realms/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/realms/"


def test_sign_up_creates_a_signed_in_student(client: Client) -> None:
    # when a visitor signs up
    response = client.post("/signup/", sign_up_data(email="frank@example.com"))
    # then they are a student, signed in and sent to the realm map
    assert (response.status_code, response["Location"]) == (302, "/realms/")
    user = User.objects.get(username="frank")
    assert (user.role, user.email, user.language) == (Role.STUDENT, "frank@example.com", "zh-hans")
    assert user.check_password(PASSWORD)
    assert signed_in(client) == user
    page = client.get("/realms/")
    assert page.status_code == 200
    assert "frank" in page.content.decode()


def test_sign_up_refuses_mismatched_passwords(client: Client) -> None:
    response = client.post("/signup/", sign_up_data(password2="something else entirely 9"))
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(username="frank").exists()
    assert signed_in(client) is None


def test_sign_up_refuses_a_taken_username(client: Client, personas: Personas) -> None:
    response = client.post("/signup/", sign_up_data(username="alice"))
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.filter(username="alice").count() == 1


def test_sign_up_with_a_join_code_joins_the_cohort(client: Client, personas: Personas) -> None:
    # given cohort A's join code, typed in lower case with spaces
    code = f"  {personas.cohort_a.join_code.lower()} "
    # when a visitor signs up with it
    response = client.post("/signup/", sign_up_data(join_code=code), follow=True)
    # then they are in cohort A and told so on the realm map
    user = User.objects.get(username="frank")
    assert list(user.cohorts.all()) == [personas.cohort_a]
    assert response.redirect_chain == [("/realms/", 302)]
    assert messages_of(response) == [("success", "已加入班级：A")]


def test_sign_up_with_a_bad_join_code_still_signs_up_with_a_warning(
    client: Client, personas: Personas
) -> None:
    response = client.post("/signup/", sign_up_data(join_code="NOPE2345"), follow=True)
    user = User.objects.get(username="frank")
    assert signed_in(client) == user
    assert not user.cohorts.exists()
    assert response.redirect_chain == [("/realms/", 302)]
    assert messages_of(response) == [("warning", "没有这个加入码对应的开放班级。")]
    assert '<li class="warning">没有这个加入码对应的开放班级。</li>' in response.content.decode()


def test_sign_up_in_english_saves_english(client: Client) -> None:
    # given an anonymous visitor who chose English
    client.post("/language/", {"language": "en", "next": "/signup/"})
    # when they sign up
    client.post("/signup/", sign_up_data())
    # then their account keeps English
    assert User.objects.get(username="frank").language == "en"


def test_login_and_logout(client: Client, personas: Personas) -> None:
    # a wrong password is refused
    refused = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert refused.status_code == 200 and signed_in(client) is None
    # the right one signs in and goes to the realm map
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/realms/")
    assert signed_in(client) == personas.alice
    # logging out is a POST; a GET changes nothing
    assert client.get("/logout/").status_code == 405
    assert signed_in(client) == personas.alice
    response = client.post("/logout/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert signed_in(client) is None
    assert client.get("/realms/").status_code == 302


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(client: Client, personas: Personas) -> None:
    credentials = {"username": "alice", "password": PASSWORD}
    response = client.post("/login/", {**credentials, "next": "/password/"})
    assert response["Location"] == "/password/"
    client.post("/logout/")
    response = client.post("/login/", {**credentials, "next": "http://evil.example/"})
    assert response["Location"] == "/realms/"


def test_password_change(client: Client, personas: Personas) -> None:
    # given alice is signed in
    client.force_login(personas.alice)
    assert client.get("/password/").status_code == 200
    # when she changes her password
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    # then she stays signed in, and only the new password opens the account afterwards
    assert (response.status_code, response["Location"]) == (302, "/password/done/")
    assert signed_in(client) == personas.alice
    assert client.get("/password/done/").status_code == 200
    client.post("/logout/")
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 200
    assert signed_in(client) is None
    assert client.post("/login/", {"username": "alice", "password": NEW_PASSWORD}).status_code == 302
    assert signed_in(client) == personas.alice


def test_password_change_needs_the_old_password(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    response = client.post(
        "/password/", {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    personas.alice.refresh_from_db()
    assert personas.alice.check_password(PASSWORD)


# --- the realm map --------------------------------------------------------------------------------------
def test_the_realm_map_lists_the_repositorys_realms_in_both_languages(
    client: Client, personas: Personas
) -> None:
    # given the real curriculum under exercises/
    call_command("sync_exercises", verbosity=0)
    client.force_login(personas.alice)
    # when alice opens the realm map
    response = client.get("/realms/")
    # then the five realms are there in order, each with its Chinese and English name
    assert response.status_code == 200
    content = response.content.decode()
    positions = []
    for name_zh, name_en in REALM_NAMES:
        assert name_zh in content
        assert name_en in content
        positions.append(content.index(name_zh))
    assert positions == sorted(positions)
    # and only the first is open
    assert len(re.findall(r'class="realm unlocked"', content)) == 1
    assert len(re.findall(r'class="realm locked"', content)) == 4


def test_the_realm_map_shows_trial_states(client: Client, personas: Personas, curriculum: dict) -> None:
    # given alice has passed trial 1.1 and failed trial 1.2
    for key, verdict, score in [("r1t1", WireVerdict.PASSED, 100.0), ("r1t2", WireVerdict.FAILED, 40.0)]:
        submission = submission_create(
            user=personas.alice, exercise=curriculum[key], code="x = 1", mode="submit"
        )
        submission_record_result(
            result=GradeResult(
                submission_id=submission.pk, verdict=verdict, score=score, checks=[], device="cpu"
            )
        )
    client.force_login(personas.alice)
    content = client.get("/realms/").content.decode()
    assert content.count('class="trial state-passed"') == 1
    assert content.count('class="trial state-attempted"') == 1
    assert content.count('class="trial state-open"') == 3
    assert content.count('class="trial state-locked"') == 5
    assert "已通过 1 / 5" in content


def test_the_realm_map_without_realms(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    assert "还没有境界" in client.get("/realms/").content.decode()


def test_the_realm_map_for_the_demo_student_is_a_bounded_number_of_queries(
    client: Client,
    settings,
    tmp_path: Path,
    curriculum: dict,
    django_assert_max_num_queries,
) -> None:
    # given the demo accounts (their password record goes to a temporary var/) and some progress
    settings.VAR_DIR = tmp_path
    call_command("create_demo_accounts", stdout=io.StringIO())
    student = User.objects.get(username="demo-student")
    assert student.cohorts.get().name == "Demo cohort / 演示班级"
    for key in ("r1t1", "r1t2", "r1t3", "r2t1"):
        submission = submission_create(user=student, exercise=curriculum[key], code="x = 1", mode="submit")
        submission_record_result(
            result=GradeResult(submission_id=submission.pk, verdict=WireVerdict.PASSED, score=100.0, checks=[],
                               device="cpu")
        )  # fmt: skip
    client.force_login(student)
    # when the demo student opens the realm map, the query count does not grow with the trials
    with django_assert_max_num_queries(12):
        response = client.get("/realms/")
    assert response.status_code == 200
    assert "demo-student" in response.content.decode()
    assert response.content.decode().count('class="realm unlocked"') == 2


# --- language -------------------------------------------------------------------------------------------
def test_switching_to_english_is_saved_on_the_account(client: Client, personas: Personas) -> None:
    # given alice on the realm map, in Chinese
    client.force_login(personas.alice)
    before = client.get("/realms/")
    assert "境界地图" in before.content.decode() and html_lang(before) == "zh-Hans"
    # when she switches to English
    response = client.post("/language/", {"language": "en", "next": "/realms/"})
    # then it is saved on her account and she goes back where she was
    assert (response.status_code, response["Location"]) == (302, "/realms/")
    personas.alice.refresh_from_db()
    assert personas.alice.language == "en"
    # and the next page is in English
    after = client.get("/realms/")
    content = after.content.decode()
    assert html_lang(after) == "en"
    assert "<h1>Realm map</h1>" in content
    assert "<title>Realm map · Huashen</title>" in content
    assert "Log out" in content and "Join another cohort" in content  # she is in cohort A already
    assert "境界地图" not in content
    assert after["Content-Language"] == "en"


def test_the_saved_language_follows_the_user_to_a_new_session(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    client.post("/language/", {"language": "en", "next": "/realms/"})
    fresh = Client()
    fresh.post("/login/", {"username": "alice", "password": PASSWORD})
    assert html_lang(fresh.get("/realms/")) == "en"


def test_anonymous_visitors_switch_language_by_cookie(client: Client) -> None:
    response = client.post("/language/", {"language": "en", "next": "/"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/")
    assert html_lang(page) == "en"
    assert "Huashen: master PyTorch deep learning through practice" in page.content.decode()
    # and back again
    client.post("/language/", {"language": "zh-hans", "next": "/"})
    assert html_lang(client.get("/")) == "zh-Hans"


@pytest.mark.parametrize(
    "target", ["http://evil.example/", "//evil.example/", "https://evil.example/realms/", ""]
)
def test_an_unsafe_next_goes_home(client: Client, personas: Personas, target: str) -> None:
    client.force_login(personas.alice)
    response = client.post("/language/", {"language": "en", "next": target})
    assert (response.status_code, response["Location"]) == (302, "/")
    personas.alice.refresh_from_db()
    assert personas.alice.language == "en"  # the switch itself still happens


def test_an_unsupported_language_changes_nothing(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    response = client.post("/language/", {"language": "fr", "next": "/realms/"})
    assert (response.status_code, response["Location"]) == (302, "/realms/")
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    personas.alice.refresh_from_db()
    assert personas.alice.language == "zh-hans"
    page = client.get("/realms/")
    assert messages_of(page) == [("error", "不支持的语言。")]
    assert html_lang(page) == "zh-Hans"


def test_the_language_switch_is_post_only(client: Client) -> None:
    assert client.get("/language/", {"language": "en"}).status_code == 405


# --- cohorts --------------------------------------------------------------------------------------------
def test_joining_a_cohort_with_its_code(client: Client, personas: Personas) -> None:
    # given alice, in cohort A, has cohort B's code (typed in lower case)
    client.force_login(personas.alice)
    # when she joins with it
    response = client.post("/cohorts/join/", {"join_code": personas.cohort_b.join_code.lower()}, follow=True)
    # then she is in both cohorts and told so
    assert response.redirect_chain == [("/realms/", 302)]
    assert set(personas.alice.cohorts.all()) == {personas.cohort_a, personas.cohort_b}
    assert messages_of(response) == [("success", "已加入班级：B")]
    # and joining again changes nothing
    client.post("/cohorts/join/", {"join_code": personas.cohort_b.join_code})
    assert CohortMembership.objects.filter(student=personas.alice, cohort=personas.cohort_b).count() == 1


@pytest.mark.parametrize("code", ["NOPE2345", "closed"])
def test_joining_with_a_bad_code_says_so(client: Client, personas: Personas, code: str) -> None:
    # given a code that matches no cohort, or the code of a closed cohort
    if code == "closed":
        personas.cohort_b.is_open = False
        personas.cohort_b.save()
        code = personas.cohort_b.join_code
    client.force_login(personas.alice)
    # when alice tries to join with it
    response = client.post("/cohorts/join/", {"join_code": code}, follow=True)
    # then she is told, and is still only in cohort A
    assert response.redirect_chain == [("/realms/", 302)]
    assert messages_of(response) == [("error", "没有这个加入码对应的开放班级。")]
    assert list(personas.alice.cohorts.all()) == [personas.cohort_a]


def test_joining_needs_a_sign_in_and_a_post(client: Client, personas: Personas) -> None:
    response = client.post("/cohorts/join/", {"join_code": personas.cohort_a.join_code})
    assert response["Location"].startswith("/login/")
    client.force_login(personas.alice)
    assert client.get("/cohorts/join/").status_code == 405


def test_over_https_a_next_that_drops_to_http_goes_home(client: Client, personas: Personas) -> None:
    # given alice on the site over HTTPS
    client.force_login(personas.alice)
    # when the language form carries a next on the same host but over plain HTTP
    response = client.post("/language/", {"language": "en", "next": "http://testserver/realms/"}, secure=True)
    # then she is not sent off HTTPS (Django's own set_language passes require_https=request.is_secure())
    assert (response.status_code, response["Location"]) == (302, "/")


def test_an_unknown_page_is_an_html_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
