"""LTI 1.3 in Chromium: an instructor in the stand-in LMS places trial 1.1 through Deep Linking; a student
launched from that activity lands on the trial, submits the reference, passes, and the LMS's gradebook
receives the score once."""

import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from huashen.lti import services
from tests.browser.conftest import Browse, Stack, screenshot
from tests.browser.pages import reference_solution, start, verdict, write_code
from tests.lti.standin import StandInProcess

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.usefixtures("trial_script")]

SLUG = "tensor-basics"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@pytest.fixture
def lms(stack: Stack, curriculum: None, tmp_path) -> Iterator[StandInProcess]:  # type: ignore[no-untyped-def]
    from tests.integration.conftest import free_port

    standin = StandInProcess(
        port=free_port(),
        tool_base=stack.url,
        log=tmp_path / "lms.log",
        tool_jwks=f"{stack.url}/lti/jwks.json",
    )
    services.registration_create(**standin.registration_fields())
    yield standin
    standin.stop()


def test_deep_linking_then_a_launch_a_pass_and_the_score_in_the_lms(
    browse: Browse, lms: StandInProcess
) -> None:
    teacher = browse.new_page()
    teacher.goto(
        lms.launch_url({"sub": "teacher-1", "roles": [INSTRUCTOR], "deep_linking": True, "name": "Wang"})
    )
    expect(teacher.locator("[data-testid=lti-deep-link]")).to_be_visible()
    teacher.locator(f"[data-testid=choose-{SLUG}]").check()
    screenshot(teacher, "lti-deep-linking-selection")
    teacher.locator("[data-testid=deep-link-submit]").click()
    expect(teacher.locator("[data-testid=lms-stored]")).to_be_visible()
    (item,) = lms.received()["deep_links"][-1]["items"]
    assert item["custom"] == {"huashen_trial": SLUG} and item["lineItem"]["resourceId"] == SLUG

    sub = f"student-{uuid.uuid4().hex[:6]}"
    page = browse.new_page()
    page.goto(
        lms.launch_url(
            {
                "sub": sub, "roles": [LEARNER], "name": "Li Lei", "given_name": "Lei", "family_name": "Li",
                "custom": item["custom"], "resource_link": {"id": "activity-1", "title": item["title"]},
            }
        )
    )  # fmt: skip
    page.wait_for_url(f"**/trials/{SLUG}/")
    expect(page.locator("[data-testid=editor] .cm-content")).to_be_editable()
    write_code(page, reference_solution(SLUG))
    start(page, "submit")
    verdict(page, "passed")
    screenshot(page, "lti-launched-trial-passed")

    deadline = time.monotonic() + 60
    scores: list[dict] = []
    while time.monotonic() < deadline and not scores:
        scores = [score for score in lms.received()["scores"] if score["userId"] == sub]
        time.sleep(0.5)
    assert len(scores) == 1, scores
    assert scores[0]["scoreGiven"] == 100.0 and scores[0]["lineitem"].endswith("/activity-1")
    time.sleep(2)  # nothing more follows
    assert len([score for score in lms.received()["scores"] if score["userId"] == sub]) == 1
