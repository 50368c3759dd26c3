"""exercise_statistics: pass rate, attempts and time to pass (from the first opening), failed checks, scores."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huashen.grading.models import Submission
from huashen.practice.models import ActivityEvent, ActivityKind
from huashen.teaching.selectors import exercise_statistics
from tests.conftest import Personas
from tests.teaching.conftest import graded
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def test_statistics_of_a_trial_in_a_cohort(personas: Personas, trials: dict) -> None:
    trial = trials["a1"]
    opened = timezone.now() - dt.timedelta(hours=1)
    ActivityEvent.objects.create(user=personas.alice, exercise=trial, kind=ActivityKind.OPENED, at=opened)
    graded(personas.alice, trial, WireVerdict.FAILED, 20.0, check_message="wrong shape")
    graded(personas.alice, trial, WireVerdict.FAILED, 50.0, check_message="wrong dtype")
    passing = graded(personas.alice, trial, WireVerdict.PASSED, 100.0)
    graded(personas.bob, trial, WireVerdict.FAILED, 5.0, check_message="wrong shape")
    graded(personas.carol, trial, WireVerdict.PASSED, 100.0)  # not a student of the cohort: not counted

    with CaptureQueriesContext(connection) as queries:
        stats = exercise_statistics(cohort=personas.cohort_a, exercise=trial)
    assert len(queries) <= 7

    assert (stats.students, stats.attempted, stats.passed, stats.pass_rate) == (2, 2, 1, 0.5)
    assert stats.median_attempts_to_pass == 3
    passing.refresh_from_db()
    expected = (passing.finished_at - opened).total_seconds()
    assert stats.median_seconds_to_pass == pytest.approx(expected, abs=2)
    assert [(c.key, c.failures) for c in stats.failed_checks] == [("shape", 3)]
    messages = [m["zh"] for m in stats.failed_checks[0].messages]
    assert messages == ["wrong shape", "wrong dtype"]
    assert stats.score_buckets[0] == 1 and stats.score_buckets[9] == 1 and sum(stats.score_buckets) == 2
    assert sum(count for _day, count in stats.submissions_per_day) == 4


def test_time_to_pass_falls_back_to_the_first_submission(personas: Personas, trials: dict) -> None:
    first = graded(personas.alice, trials["a2"], WireVerdict.FAILED, 0.0)
    Submission.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(minutes=30))
    graded(personas.alice, trials["a2"])
    ActivityEvent.objects.all().delete()  # as for work from before activity was recorded
    stats = exercise_statistics(cohort=personas.cohort_a, exercise=trials["a2"])
    assert stats.median_seconds_to_pass == pytest.approx(1800, abs=5)


def test_the_page_and_the_api(personas: Personas, trials: dict) -> None:
    graded(personas.alice, trials["a1"])
    client = Client()
    client.force_login(personas.carol)
    page = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/trials/{trials['a1'].slug}/")
    assert 'id="chart-data"' in page.content.decode()
    body = client.get(f"/api/v1/cohorts/{personas.cohort_a.pk}/trials/{trials['a1'].slug}/statistics/").json()
    assert (body["passed"], body["students"], body["pass_rate"]) == (1, 2, 0.5)
    assert body["submissions_per_day"][0]["count"] == 1
    missing = client.get(f"/api/v1/cohorts/{personas.cohort_a.pk}/trials/no-such-trial/statistics/")
    assert missing.status_code == 404


def test_the_student_view_counts_time_and_hints(personas: Personas, trials: dict) -> None:
    from huashen.practice.models import HintReveal

    start = timezone.now() - dt.timedelta(hours=2)  # long before the submission: an idle gap between
    for minutes in (0, 2, 4):
        ActivityEvent.objects.create(user=personas.alice, exercise=trials["a1"], kind=ActivityKind.DRAFT_SAVED,
                                     at=start + dt.timedelta(minutes=minutes))  # fmt: skip
    ActivityEvent.objects.create(
        user=personas.alice, exercise=trials["a1"], kind=ActivityKind.OPENED, at=start
    )
    HintReveal.objects.create(user=personas.alice, exercise=trials["a1"], index=0)
    graded(personas.alice, trials["a1"])
    client = Client()
    client.force_login(personas.carol)
    page = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/students/{personas.alice.pk}/").content.decode()
    assert "4 min" in page
    from huashen.teaching.selectors import student_view

    view = student_view(student=personas.alice)
    assert view.hints_used == 1 and view.seconds_on_task == pytest.approx(240)
    # the submission, then (older) the opening; drafts are not in it, runs and submits are their submissions
    assert [(entry.kind, entry.exercise.pk) for entry in view.timeline] == [
        ("submission", trials["a1"].pk), ("opened", trials["a1"].pk),
    ]  # fmt: skip
    assert "#" + str(view.timeline[0].submission.pk) in page
