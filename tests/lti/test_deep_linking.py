"""Deep Linking: an instructor in the LMS picks a trial; Huashen answers a signed content item that the
stand-in LMS verifies against Huashen's JWKS and stores."""

import httpx
from django.test import Client

from tests.factories import make_exercise, make_realm
from tests.lti.standin import form_fields, id_token_form
from tests.lti.test_launch import INSTRUCTOR, LEARNER, _tool_get


def _deep_linking_launch(client: Client, standin, roles: list[str]):  # type: ignore[no-untyped-def]
    spec = {"sub": "teacher-1", "roles": roles, "deep_linking": True, "name": "Wang Laoshi"}
    _action, fields = id_token_form(standin, spec, _tool_get(client))
    return client.post("/lti/launch/", fields)


def test_an_instructor_places_a_trial_and_the_lms_stores_the_signed_link(lms, standin) -> None:
    trial = make_exercise(make_realm(1), 2)
    client = Client()
    page = _deep_linking_launch(client, standin, [INSTRUCTOR])
    assert page.status_code == 200
    assert trial.slug in page.content.decode()
    answer = client.post(
        "/lti/deep-link/", {"launch_id": page.context["launch_id"], "choice": f"trial:{trial.slug}"}
    )
    assert answer.status_code == 200
    action, fields = form_fields(answer.content.decode())
    assert action == f"{standin.url}/deep-link-return"
    stored = httpx.post(action, data=fields, timeout=10)
    assert stored.status_code == 200, stored.text
    link = standin.received()["deep_links"][-1]
    assert link["data"] == "standin-data-course-1"  # the platform's opaque data comes back
    (item,) = link["items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == "http://testserver/lti/launch/"
    assert item["custom"] == {"huashen_trial": trial.slug}
    assert item["lineItem"]["scoreMaximum"] == 100 and item["lineItem"]["resourceId"] == trial.slug
    # The launch id is spent: posting the choice again is refused.
    again = client.post(
        "/lti/deep-link/", {"launch_id": page.context["launch_id"], "choice": f"trial:{trial.slug}"}
    )
    assert again.status_code == 403


def test_a_learner_cannot_place_trials(lms, standin) -> None:
    response = _deep_linking_launch(Client(), standin, [LEARNER])
    assert response.status_code == 403 and response["X-Huashen-Lti-Refusal"] == "teaching"


def test_a_realm_can_be_placed_after_a_choice_that_was_refused(lms, standin) -> None:
    realm = make_realm(1)
    make_exercise(realm, 1)
    client = Client()
    page = _deep_linking_launch(client, standin, [INSTRUCTOR])
    launch_id = page.context["launch_id"]
    assert (
        client.post("/lti/deep-link/", {"launch_id": launch_id, "choice": "trial:no-such"}).status_code == 400
    )
    answer = client.post("/lti/deep-link/", {"launch_id": launch_id, "choice": f"realm:{realm.slug}"})
    action, fields = form_fields(answer.content.decode())
    assert httpx.post(action, data=fields, timeout=10).status_code == 200
    (item,) = standin.received()["deep_links"][-1]["items"]
    assert item["custom"] == {"huashen_realm": realm.slug} and "lineItem" not in item
    forged = client.post(
        "/lti/deep-link/", {"launch_id": "lti1p3-launch-made-up", "choice": f"realm:{realm.slug}"}
    )
    assert forged.status_code == 403
