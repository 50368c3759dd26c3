"""An instructor finds two students' look-alike Submits in the browser: the cohort page's link, the pairs
of a trial, the side-by-side view with the shared regions marked, and a decision recorded."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from huashen.accounts.models import User
from huashen.accounts.services import cohort_join, user_create
from huashen.curriculum.models import Exercise
from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from huashen.similarity.models import SimilarPair
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import log_in
from tests.conftest import PASSWORD, Personas
from tests.teaching.test_similarity import DISGUISED, ORIGINAL, UNRELATED
from workers.protocol import CheckResult, GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def submit(user: User, slug: str, code: str) -> Submission:
    """A graded Submit stored through the result path, in a thread of its own (Playwright keeps an event
    loop on this one); its comparison runs on commit, as on the platform worker."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_submit, user, slug, code).result()


def _submit(user: User, slug: str, code: str) -> Submission:
    try:
        exercise = Exercise.objects.select_related("current_version").get(slug=slug)
        submission = Submission.objects.create(
            user=user, exercise=exercise, version=exercise.current_version, code=code, mode="submit",
            deadline=timezone.now() + timezone.timedelta(minutes=10),
        )  # fmt: skip
        check = CheckResult(
            "works", True, 100.0, 100.0, {"zh": "能运行", "en": "Runs"}, {"zh": "好", "en": "Good"}
        )
        return submission_record_result(
            result=GradeResult(
                submission_id=submission.pk,
                verdict=WireVerdict.PASSED,
                score=100.0,
                checks=[check],
                device="cpu",
            )
        )
    finally:
        connection.close()


def test_an_instructor_reviews_a_similar_pair(browse: Browse, personas: Personas) -> None:
    carl = user_create(username="carl", password=PASSWORD)
    cohort_join(student=carl, join_code=personas.cohort_a.join_code)
    submit(personas.alice, "tensor-basics", ORIGINAL)
    submit(personas.bob, "tensor-basics", DISGUISED)
    submit(carl, "tensor-basics", ORIGINAL.split("def evaluate")[0] + UNRELATED)
    pairs = SimilarPair.objects.order_by("-score")
    assert pairs.count() >= 2
    best = pairs.first()

    page: Page = browse.new_page()
    log_in(page, "carol")
    page.goto(f"/teach/cohorts/{personas.cohort_a.pk}/")
    page.locator("[data-testid=similarity-link]").click()
    page.wait_for_url(re.compile(rf"/teach/cohorts/{personas.cohort_a.pk}/similarity/$"))
    page.locator("[data-testid=threshold]").fill("0.3")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"threshold=0.3"))
    rows = page.locator("[data-testid=trial-tensor-basics] tbody tr")
    expect(rows).to_have_count(pairs.count())
    expect(rows.first).to_have_attribute("data-testid", f"pair-{best.pk}")
    screenshot(page, "similarity-pairs")

    rows.first.locator("a").click()
    page.wait_for_url(re.compile(rf"/similarity/pairs/{best.pk}/$"))
    expect(page.locator("[data-testid=first-code] mark.match").first).to_be_visible()
    expect(page.locator("[data-testid=second-code] mark.match").first).to_be_visible()
    page.locator("[data-testid=decision]").select_option("flagged")
    page.locator("form.decision-form textarea[name=note]").fill("同样的训练循环，只改了名字。")
    page.locator("form.decision-form button[type=submit]").click()
    expect(page.locator("[data-testid=decided]")).to_contain_text("carol")
    screenshot(page, "similarity-side-by-side")
    best.refresh_from_db()
    assert (best.decision, best.decided_by_id) == ("flagged", personas.carol.pk)
