"""Feedback to compare against, in Chromium: the coach's finding beside the failed check it explains, and a
training trial's chart with the cohort's median and the reference solution's curve."""

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.utils import timezone
from playwright.sync_api import expect

from huashen.accounts.models import Role, User
from huashen.accounts.services import cohort_create, cohort_join, user_create
from huashen.curriculum.models import Exercise
from huashen.curves.models import ReferenceCurve
from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import (
    PASSWORD,
    ROOT,
    check_item,
    open_trial,
    sign_up,
    start,
    verdict,
    write_code,
)
from tests.browser.test_trial import _in_own_connection, _pass_trials
from workers.protocol import GradeResult, Verdict

TRAIN = "train-loop"  # 2.3: reports loss per step
MODELS = ROOT / "exercises" / "02-models"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _open_realm_two(username: str) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_in_own_connection, _pass_trials, username, ("tensors",), 3).result()


def test_a_softmax_before_cross_entropy_is_shown_beside_the_failed_check(browse: Browse) -> None:
    page = browse.new_page()
    username = name("beside")
    sign_up(page, username)
    _open_realm_two(username)
    page.reload()
    open_trial(page, "custom-module")
    write_code(page, (MODELS / "01-custom-module" / "wrong" / "softmax_in_forward.py").read_text())
    start(page, "submit")
    verdict(page, "failed")
    beside = check_item(page, "logits").locator(
        "[data-testid=check-coach] li[data-rule='softmax-before-cross-entropy']"
    )
    expect(beside).to_be_visible()
    expect(beside.locator("a")).to_have_attribute("href", "/trials/custom-module/")
    beside.scroll_into_view_if_needed()
    screenshot(page, "result-coach-beside-check")


def _cohort_with_curves(username: str) -> None:
    """Five classmates' passed runs of the training trial with a loss per step, and a recorded reference."""
    exercise = Exercise.objects.select_related("current_version").get(slug=TRAIN)
    teacher = user_create(username=name("teacher"), password=PASSWORD, role=Role.INSTRUCTOR)
    cohort = cohort_create(name="curves", instructor=teacher)
    cohort_join(student=User.objects.get(username=username), join_code=cohort.join_code)
    for number in range(5):
        classmate = user_create(username=name(f"classmate{number}"), password=PASSWORD)
        cohort_join(student=classmate, join_code=cohort.join_code)
        submission = Submission.objects.create(
            user=classmate, exercise=exercise, version=exercise.current_version, code="# passed\n", mode="submit",
            deadline=timezone.now() + dt.timedelta(minutes=10),
        )  # fmt: skip
        submission_record_result(
            result=GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0)
        )
        log = [
            {"seq": step + 1, "kind": "metric", "payload": {"step": step, "metrics": {"loss": 2.4 / (1 + step / 8) * (1 + number / 10)}}, "time": 1.0}
            for step in range(400)
        ]  # fmt: skip
        Submission.objects.filter(pk=submission.pk).update(log=log)
    ReferenceCurve.objects.create(
        version=exercise.current_version,
        series={
            "loss": {"steps": list(range(400)), "values": [2.3 / (1 + step / 10) for step in range(400)]}
        },
        source="test",
    )


def test_a_training_trials_chart_overlays_the_cohort_median_and_the_reference(browse: Browse) -> None:
    page = browse.new_page()
    username = name("curves")
    sign_up(page, username)
    _open_realm_two(username)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_in_own_connection, _cohort_with_curves, username).result()
    page.reload()
    open_trial(page, TRAIN)
    write_code(page, (MODELS / "03-train-loop" / "reference" / "solution.py").read_text())
    start(page, "run")
    verdict(page, "passed")
    chart = page.locator("[data-testid=chart][data-metric=loss]")
    expect(chart).to_have_attribute("data-overlay", "cohort-median reference")
    expect(page.locator("[data-testid=standing]").first).to_contain_text("班级中位数")
    chart.scroll_into_view_if_needed()
    screenshot(page, "chart-cohort-median-and-reference")
