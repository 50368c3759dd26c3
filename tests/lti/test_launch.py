"""A launch from the stand-in LMS: the user and the cohort made or linked, the landing page; bad input
refused with a page and a log line, and nothing written."""

import logging
import uuid

import pytest
from django.test import Client
from lti_tool.models import LtiContext, LtiDeployment, LtiUser

from huashen.accounts.models import Cohort, CohortMembership, Role, User
from huashen.lti.models import ContextCohort, Placement
from tests.factories import make_exercise, make_realm
from tests.lti.standin import id_token_form, path_of

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def trial(db: None):  # type: ignore[no-untyped-def]
    return make_exercise(make_realm(1), 1)


def _tool_get(client: Client):  # type: ignore[no-untyped-def]
    def get(url: str) -> tuple[int, str, str]:
        response = client.get(path_of(url))
        return response.status_code, response.get("Location", ""), response.content.decode()

    return get


def launch(client: Client, standin, spec: dict, **headers: str):  # type: ignore[no-untyped-def]
    action, fields = id_token_form(standin, spec, _tool_get(client))
    assert path_of(action) == "/lti/launch/"
    return client.post("/lti/launch/", fields, **headers), fields


def spec_for(trial, **extra: object) -> dict:  # type: ignore[no-untyped-def]
    return {
        "sub": f"student-{uuid.uuid4().hex[:6]}", "roles": [LEARNER], "names_only_in_nrps": True,
        "name": "Li Hua", "given_name": "Hua", "family_name": "Li", "email": "lihua@example.edu",
        "custom": {"huashen_trial": trial.slug}, "resource_link": {"id": "link-1", "title": "Trial 1.1"},
        **extra,
    }  # fmt: skip


def test_a_learner_launch_makes_the_user_and_the_cohort_and_lands_on_the_trial(lms, standin, trial) -> None:
    client = Client()
    response, _fields = launch(client, standin, spec_for(trial))
    assert response.status_code == 302
    assert response["Location"] == f"/trials/{trial.slug}/"
    lti_user = LtiUser.objects.get(sub__startswith="student-")
    user = lti_user.auth_user
    assert user is not None and user.role == Role.STUDENT
    # Names came from Names and Roles: the id_token carried none.
    assert (user.first_name, user.last_name, user.email) == ("Hua", "Li", "lihua@example.edu")
    cohort = ContextCohort.objects.get().cohort
    assert cohort.name == "Deep Learning 101" and not cohort.is_open
    assert CohortMembership.objects.filter(cohort=cohort, student=user).exists()
    placement = Placement.objects.get()
    assert placement.exercise == trial and placement.lineitem_url.endswith("/items/link-1")
    # Signed in: the trial page opens.
    assert client.get(f"/trials/{trial.slug}/").status_code == 200


def test_a_second_launch_links_the_same_user_and_an_instructor_teaches_the_cohort(
    lms, standin, trial
) -> None:
    spec = spec_for(trial)
    launch(Client(), standin, spec)
    launch(Client(), standin, spec)
    assert User.objects.filter(username__startswith="lti-").count() == 1
    teacher = {**spec_for(trial), "roles": [INSTRUCTOR], "names_only_in_nrps": False}
    response, _ = launch(Client(), standin, teacher)
    assert response.status_code == 302
    instructor = LtiUser.objects.get(sub=teacher["sub"]).auth_user
    assert instructor.role == Role.INSTRUCTOR
    cohort = Cohort.objects.get()
    assert list(cohort.instructors.all()) == [instructor]
    assert not CohortMembership.objects.filter(student=instructor).exists()


def test_a_framed_launch_opens_a_window_through_a_one_time_link(lms, standin, trial) -> None:
    client = Client()
    response, _ = launch(client, standin, spec_for(trial, document_target="iframe"))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response  # the LMS may frame this page, and only this one
    assert "_auth_user_id" not in client.session
    link = response.context["link"]
    window = Client()
    opened = window.get(link)
    assert opened.status_code == 302 and opened["Location"] == f"/trials/{trial.slug}/"
    assert window.get(f"/trials/{trial.slug}/").status_code == 200
    again = Client().get(link)
    assert again.status_code == 403 and again["X-Huashen-Lti-Refusal"] == "link"


def _rows() -> tuple[int, ...]:
    return (User.objects.count(), LtiUser.objects.count(), LtiContext.objects.count(),
            LtiDeployment.objects.count(), Cohort.objects.count(), CohortMembership.objects.count())  # fmt: skip


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"tamper": "expired"}, "expired"),
        ({"tamper": "wrong_key"}, "signature"),
        ({"tamper": "wrong_aud"}, "platform"),
        ({"deployment_id": "deployment-unknown"}, "deployment"),
    ],
)
def test_bad_id_tokens_are_refused_with_a_page_and_a_log_line_and_nothing_is_made(
    lms, standin, trial, caplog, tamper: dict, reason: str
) -> None:
    before = _rows()
    with caplog.at_level(logging.WARNING, logger="huashen.lti.views"):
        response, _ = launch(Client(), standin, spec_for(trial, **tamper), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response["X-Huashen-Lti-Refusal"] == reason
    assert "Could not enter Huashen from your course platform" in response.content.decode()
    assert f"LTI launch refused ({reason})" in caplog.text
    assert _rows() == before


def test_a_replayed_id_token_is_refused(lms, standin, trial, caplog) -> None:
    client = Client()
    first, fields = launch(client, standin, spec_for(trial))
    assert first.status_code == 302
    before = _rows()
    with caplog.at_level(logging.WARNING, logger="huashen.lti.views"):
        replay = client.post("/lti/launch/", fields)  # the same browser, its state cookie and all
    assert replay.status_code == 403 and replay["X-Huashen-Lti-Refusal"] == "replayed"
    assert "已经用过了" in replay.content.decode()
    assert "LTI launch refused (replayed)" in caplog.text
    assert _rows() == before


def test_a_launch_without_the_login_state_cookie_is_refused(lms, standin, trial) -> None:
    _action, fields = id_token_form(standin, spec_for(trial), _tool_get(Client()))
    response = Client().post("/lti/launch/", fields)  # another browser posts it
    assert response.status_code == 403 and response["X-Huashen-Lti-Refusal"] == "state"


def test_an_inactive_deployment_is_refused(lms, standin, trial) -> None:
    LtiDeployment.objects.update(is_active=False)
    response, _ = launch(Client(), standin, spec_for(trial))
    assert response["X-Huashen-Lti-Refusal"] == "deployment"
    assert not LtiUser.objects.exists()


def test_a_realm_placement_and_an_unknown_trial_open_the_realm_map(lms, standin, trial) -> None:
    realm_spec = spec_for(
        trial, custom={"huashen_realm": trial.realm.slug}, resource_link={"id": "realm-link"}
    )
    response, _ = launch(Client(), standin, realm_spec)
    assert response.status_code == 302 and response["Location"] == "/realms/"
    assert Placement.objects.get(resource_link__id_on_platform="realm-link").realm == trial.realm
    client = Client()
    gone, _ = launch(client, standin, spec_for(trial, custom={"huashen_trial": "no-such-trial"}))
    assert gone.status_code == 302 and gone["Location"] == "/realms/"
    assert "不存在或未发布" in client.get("/realms/").content.decode()


def test_without_names_and_roles_the_names_come_from_the_id_token(lms, standin, trial) -> None:
    spec = spec_for(
        trial, nrps=False, names_only_in_nrps=False, given_name="Mei", family_name="Han", locale="en-US"
    )
    launch(Client(), standin, spec)
    user = LtiUser.objects.get(sub=spec["sub"]).auth_user
    assert (user.first_name, user.last_name, user.email, user.language) == (
        "Mei",
        "Han",
        "lihua@example.edu",
        "en",
    )
