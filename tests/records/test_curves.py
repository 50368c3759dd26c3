"""Curves to compare against: the median curve of a cohort's passed runs (GET /api/v1/exercises/<slug>/curves/)
and where a run stands against it on the result page. Only with enough runs, never anyone's identity."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from huashen.accounts.models import User
from huashen.accounts.services import cohort_join, user_create
from huashen.grading.curves import COHORT_CURVE_MIN_RUNS, metric_curves
from huashen.grading.models import Submission
from tests.conftest import PASSWORD, Personas
from tests.records.builders import graded, in_english
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def with_losses(submission: Submission, losses: list[float], **extra: list[float]) -> Submission:
    """Give a finished run a stored log of metric events (test data: as the platform keeps them)."""
    events = [{"seq": 1, "kind": "stdout", "payload": "training\n", "time": 1.0}]
    for step, loss in enumerate(losses, 1):
        metrics = {"loss": loss, **{name: values[step - 1] for name, values in extra.items()}}
        events.append(
            {"seq": step + 1, "kind": "metric", "payload": {"step": step, "metrics": metrics}, "time": 1.0}
        )
    Submission.objects.filter(pk=submission.pk).update(log=events)
    submission.refresh_from_db()
    return submission


def classmates(personas: Personas, count: int) -> list[User]:
    students = []
    for number in range(count):
        student = user_create(username=f"classmate{number}", password=PASSWORD)
        cohort_join(student=student, join_code=personas.cohort_a.join_code)
        students.append(student)
    return students


def passed_runs(students: list[User], exercise, scale: float = 1.0) -> None:
    for number, student in enumerate(students):
        # losses 1.0, 0.5, 0.25 times (1 + number): the median is the middle student's
        run = graded(student, exercise, verdict=WireVerdict.PASSED)
        with_losses(run, [scale * (1 + number) / 2**step for step in range(3)])


def curves(user: User, slug: str, **params: object):
    api = APIClient()
    api.force_authenticate(user)
    return api.get(f"/api/v1/exercises/{slug}/curves/", params)


def test_the_median_of_five_passed_runs_is_given_without_identities(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    passed_runs(classmates(personas, 5), exercise)
    # a failed run and another cohort's run do not count
    with_losses(graded(personas.bob, exercise, verdict=WireVerdict.FAILED, score=0.0), [100.0, 100.0, 100.0])
    response = curves(personas.alice, exercise.slug)
    assert response.status_code == 200
    body = response.json()
    assert body["available"] is True and body["runs"] == 5 and body["min_runs"] == COHORT_CURVE_MIN_RUNS
    assert body["cohort"] == {"id": personas.cohort_a.pk, "name": "A"}
    (series,) = body["series"]
    assert series["name"] == "loss" and series["steps"] == [1, 2, 3]
    assert series["median"] == pytest.approx([3.0, 1.5, 0.75])
    text = response.content.decode()
    assert "classmate" not in text and "user" not in text and "submission" not in text


def test_fewer_than_five_runs_give_no_curve(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    students = classmates(personas, 4)
    passed_runs(students, exercise)
    # one student passing twice is still one run: their latest
    with_losses(graded(students[0], exercise, verdict=WireVerdict.PASSED), [9.0, 9.0, 9.0])
    body = curves(personas.alice, exercise.slug).json()
    assert body["available"] is False and body["runs"] == 4 and body["series"] == []


def test_a_step_reported_by_fewer_than_five_runs_is_left_out(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    students = classmates(personas, 5)
    passed_runs(students, exercise)
    # one student reports a fourth step: no median there, it would be their own value
    run = Submission.objects.filter(user=students[0]).latest("pk")
    log = [
        *run.log,
        {"seq": 99, "kind": "metric", "payload": {"step": 4, "metrics": {"loss": 7.0}}, "time": 1.0},
    ]
    Submission.objects.filter(pk=run.pk).update(log=log)
    (series,) = curves(personas.alice, exercise.slug).json()["series"]
    assert series["steps"] == [1, 2, 3]


def test_a_student_reads_only_their_own_cohort(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    passed_runs(classmates(personas, 5), exercise)
    assert curves(personas.alice, exercise.slug, cohort=personas.cohort_b.pk).status_code == 404
    assert curves(personas.alice, exercise.slug, cohort=personas.cohort_a.pk).json()["available"] is True
    # the instructor of A may read A's; the instructor of B may not
    assert curves(personas.carol, exercise.slug, cohort=personas.cohort_a.pk).json()["runs"] == 5
    assert curves(personas.dave, exercise.slug, cohort=personas.cohort_a.pk).status_code == 404
    # without a cohort there is nothing to compare against
    loner = user_create(username="loner", password=PASSWORD)
    body = curves(loner, exercise.slug).json()
    assert body["cohort"] is None and body["available"] is False
    assert curves(personas.alice, exercise.slug, cohort="x").status_code == 400


def test_the_curve_costs_a_fixed_number_of_queries(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    students = classmates(personas, 12)
    passed_runs(students[:6], exercise)
    with CaptureQueriesContext(connection) as few:
        assert curves(personas.alice, exercise.slug).json()["runs"] == 6
    passed_runs(students[6:], exercise)
    with CaptureQueriesContext(connection) as many:
        assert curves(personas.alice, exercise.slug).json()["runs"] == 12
    assert len(many) == len(few) <= 4


def test_the_result_page_says_where_the_run_stands(client: Client, personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    passed_runs(classmates(personas, 5), exercise)  # median loss at step 3: 0.75
    mine = with_losses(
        graded(personas.alice, exercise, verdict=WireVerdict.FAILED, score=0.0), [3.0, 2.5, 1.575]
    )
    client.force_login(personas.alice)
    html = client.get(f"/submissions/{mine.pk}/").content.decode()
    assert "第 3 步时，这次运行的 loss 是班级中位数的 2.1 倍（5 次通过的运行）。" in html
    assert "参考答案" not in html  # no reference curve recorded for this version
    in_english(client)
    html = client.get(f"/submissions/{mine.pk}/").content.decode()
    assert "At step 3, this run&#x27;s loss is 2.1× the cohort median (5 passed runs)." in html


def test_no_standing_without_enough_runs(client: Client, personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    passed_runs(classmates(personas, 4), exercise)
    mine = with_losses(
        graded(personas.alice, exercise, verdict=WireVerdict.FAILED, score=0.0), [3.0, 2.5, 2.0]
    )
    client.force_login(personas.alice)
    assert 'data-testid="standing"' not in client.get(f"/submissions/{mine.pk}/").content.decode()


def test_metric_curves_reads_only_finite_metric_points() -> None:
    log = [
        {"kind": "metric", "payload": {"step": 2, "metrics": {"loss": 1.0, "acc": "nan", "flag": True}}},
        {"kind": "metric", "payload": {"metrics": {"loss": 0.5}}},  # no step: one past the last
        {"kind": "metric", "payload": {"step": 5, "metrics": {"loss": float("inf")}}},
        {"kind": "stdout", "payload": "loss 9"},
        "junk",
    ]
    assert metric_curves(log) == {"loss": {2: 1.0, 3: 0.5}}
    assert metric_curves(None) == {}
