"""An instructor in the browser: the matrix changing live, a review from the queue to the student's
submission page, and a CSV download."""

import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise
from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import log_in
from tests.conftest import Personas
from workers.protocol import CheckResult, GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def record(
    user: User, slug: str, verdict: WireVerdict = WireVerdict.PASSED, score: float = 100.0
) -> Submission:
    """A finished Submit, stored through the result path as a grader's result would be (no sandbox run).

    In a thread of its own, as on the platform worker: Playwright keeps an event loop running on this one,
    and the live matrix announcement (async_to_sync) may not run inside it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_record, user, slug, verdict, score).result()


def _record(user: User, slug: str, verdict: WireVerdict, score: float) -> Submission:
    try:
        return _store(user, slug, verdict, score)
    finally:
        connection.close()


def _store(user: User, slug: str, verdict: WireVerdict, score: float) -> Submission:
    exercise = Exercise.objects.select_related("current_version").get(slug=slug)
    submission = Submission.objects.create(
        user=user, exercise=exercise, version=exercise.current_version, code="print('work')\n", mode="submit",
        deadline=timezone.now() + timezone.timedelta(minutes=10),
    )  # fmt: skip
    check = CheckResult("works", verdict == WireVerdict.PASSED, score, 100.0, {"zh": "能运行", "en": "Runs"},
                        {"zh": "好", "en": "Good"})  # fmt: skip
    return submission_record_result(
        result=GradeResult(
            submission_id=submission.pk, verdict=verdict, score=score, checks=[check], device="cpu"
        )
    )


def matrix_cell(page: Page, student: User, exercise_slug: str):
    exercise = Exercise.objects.get(slug=exercise_slug)
    return page.locator(f"#matrix tr[data-student='{student.pk}'] td[data-exercise='{exercise.pk}']")


def test_the_matrix_changes_live_when_a_result_lands(browse: Browse, personas: Personas) -> None:
    page = browse.new_page()
    log_in(page, "carol")
    page.goto(f"/teach/cohorts/{personas.cohort_a.pk}/matrix/")
    cell = matrix_cell(page, personas.alice, "tensor-basics")
    expect(cell).to_have_attribute("data-state", "none")
    expect(page.locator("#live-status")).to_have_text("实时更新中")

    record(personas.alice, "tensor-basics", WireVerdict.FAILED, 40.0)
    expect(cell).to_have_attribute("data-state", "attempted")
    expect(cell).to_have_text("40")
    record(personas.alice, "tensor-basics")
    expect(cell).to_have_attribute("data-state", "passed")
    expect(cell).to_have_text("100")
    expect(page.locator(f"#matrix tr[data-student='{personas.alice.pk}'] .passed-count")).to_have_text("1")
    screenshot(page, "teaching-matrix-live")

    # sorting by progress puts alice first; the cell opens her submissions of that trial
    page.locator("select[name=sort]").select_option("progress")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"sort=progress"))
    expect(page.locator("#matrix tbody tr").first).to_have_attribute("data-student", str(personas.alice.pk))
    matrix_cell(page, personas.alice, "tensor-basics").locator("a").click()
    page.wait_for_url(re.compile(rf"/students/{personas.alice.pk}/trials/tensor-basics/$"))
    expect(page.locator("main table tbody tr")).to_have_count(2)


def test_a_review_from_the_queue_reaches_the_students_submission_page(
    browse: Browse, personas: Personas
) -> None:
    work = record(personas.alice, "cutmix")  # hybrid: its checks passed, it waits for a reviewer

    teacher = browse.new_page()
    log_in(teacher, "carol")
    teacher.goto("/teach/reviews/")
    queue = teacher.locator("[data-testid=review-queue] tbody tr")
    expect(queue).to_have_count(1)
    queue.first.locator("a.button").click()
    teacher.wait_for_url(f"**/teach/reviews/{work.pk}/")
    rubric = work.version.rubric
    for criterion in rubric:
        teacher.locator(f"[data-testid=score-{criterion['key']}]").fill(str(criterion["points"] - 5))
    teacher.locator("#review-comment").fill("实验部分写得很清楚。")
    teacher.locator("main form.card button[type=submit]").click()
    teacher.wait_for_url("**/teach/reviews/")
    expect(teacher.locator("[data-testid=review-queue]")).to_have_count(0)

    student = browse.new_page()
    log_in(student, "alice")
    student.goto(f"/submissions/{work.pk}/")
    review = student.locator("[data-testid=review]")
    expected = round(100 * sum(c["points"] - 5 for c in rubric) / sum(c["points"] for c in rubric))
    expect(review).to_contain_text(f"{expected} / 100")
    expect(review).to_contain_text("实验部分写得很清楚。")
    expect(review).to_contain_text("carol")
    screenshot(student, "teaching-review-seen-by-student")


def test_the_matrix_csv_downloads(browse: Browse, personas: Personas) -> None:
    record(personas.bob, "tensor-basics", WireVerdict.FAILED, 25.0)
    page = browse.new_page()
    log_in(page, "carol")
    page.goto(f"/teach/cohorts/{personas.cohort_a.pk}/matrix/")
    with page.expect_download() as info:
        page.locator("[data-testid=matrix-csv]").click()
    download = info.value
    assert download.suggested_filename == f"cohort-{personas.cohort_a.pk}-matrix.csv"
    with open(download.path(), "rb") as stream:
        content = stream.read()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["student", "passed", "last_activity", "tensor-basics"]
    assert [(row[0], row[3]) for row in rows[1:]] == [("alice", ""), ("bob", "25.0")]


def test_trial_statistics_draw_their_chart(browse: Browse, personas: Personas) -> None:
    record(personas.alice, "tensor-basics", WireVerdict.FAILED, 30.0)
    record(personas.alice, "tensor-basics")
    page = browse.new_page()
    log_in(page, "carol")
    page.goto(f"/teach/cohorts/{personas.cohort_a.pk}/trials/tensor-basics/")
    expect(page.locator("[data-testid=pass-rate]")).to_have_text("50%")
    expect(page.locator("#submissions-chart canvas")).to_be_visible()
    screenshot(page, "teaching-trial-statistics")
