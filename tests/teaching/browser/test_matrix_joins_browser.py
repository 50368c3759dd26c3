"""In a browser: the live matrix gains a student who joins the cohort without a reload, and that student's
first Run shows as activity (▷), not "not started"."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from huashen.accounts.services import cohort_join, user_create
from huashen.curriculum.models import Exercise
from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import log_in
from tests.conftest import PASSWORD, Personas
from workers.protocol import GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def in_a_thread(work, *args):
    """As on the platform: the announcements (async_to_sync) may not run inside Playwright's event loop."""

    def run():
        try:
            return work(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def join(join_code: str) -> int:
    newcomer = user_create(username="newcomer", password=PASSWORD)
    cohort_join(student=newcomer, join_code=join_code)
    return newcomer.pk


def ran(student_id: int, slug: str) -> None:
    exercise = Exercise.objects.select_related("current_version").get(slug=slug)
    submission = Submission.objects.create(
        user_id=student_id, exercise=exercise, version=exercise.current_version, code="x = 1\n", mode="run",
        deadline=timezone.now() + timezone.timedelta(minutes=10),
    )  # fmt: skip
    submission_record_result(
        result=GradeResult(submission_id=submission.pk, verdict=WireVerdict.FAILED, score=0.0, device="cpu")
    )


def test_the_matrix_gains_a_student_who_joins_live(browse: Browse, personas: Personas) -> None:
    page = browse.new_page()
    log_in(page, "carol")
    page.goto(f"/teach/cohorts/{personas.cohort_a.pk}/matrix/")
    expect(page.locator("#live-status")).to_have_text("实时更新中")
    rows = page.locator("#matrix tbody tr[data-student]")
    before = rows.count()
    total = page.locator("[data-role=matrix-total]")
    expect(total).to_contain_text(f"共 {before} 名学生")

    newcomer = in_a_thread(join, personas.cohort_a.join_code)
    row = page.locator(f"#matrix tr[data-student='{newcomer}']")
    expect(row).to_be_visible()
    expect(row.locator("th.student")).to_have_text("newcomer")
    expect(rows).to_have_count(before + 1)
    expect(total).to_contain_text(f"共 {before + 1} 名学生")  # the count follows, without a reload
    exercise = Exercise.objects.get(slug="tensor-basics")
    cell = row.locator(f"td[data-exercise='{exercise.pk}']")
    expect(cell).to_have_attribute("data-state", "none")

    in_a_thread(ran, newcomer, "tensor-basics")
    expect(cell).to_have_attribute("data-state", "ran")
    expect(cell).to_have_text("▷")
    screenshot(page, "teaching-matrix-joined-live")
