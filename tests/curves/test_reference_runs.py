"""The reference curve recorded at sync, and the cohort median kept in the cache.

A sync that gives a trial that trains a new version queues a run of its reference solution (distributed
shape only, at a regrade's priority, never counted), and the run's metric series is stored with that
version when it passes. The cohort median curve is computed once per (version, cohort) and computed again
only after a run of that version passed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huashen.curriculum.models import Exercise
from huashen.curriculum.services import exercises_sync
from huashen.curves.models import ReferenceCurve
from huashen.curves.runs import REFERENCE_ACCOUNT
from huashen.grading.curves import cohort_median_curve
from huashen.grading.eventlog import get_event_log
from huashen.grading.models import ExerciseProgress, Purpose, Submission
from huashen.grading.results import submission_record_result
from tests.conftest import Personas, SentRequests
from tests.records.builders import graded
from tests.records.test_curves import classmates, passed_runs, with_losses
from workers.protocol import EventKind, GradeResult
from workers.protocol import Verdict as WireVerdict

# The in-memory event store, emptied around each test: the ids of rolled-back tests repeat.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("memory_events")]

TRAINS = "train-loop"  # 2.3: its reference reports its loss
DOES_NOT_TRAIN = "tensor-basics"  # 1.1


@pytest.fixture
def reference_runs_on(settings) -> None:
    settings.REFERENCE_RUNS_AT_SYNC = True
    settings.HUASHEN_EXECUTOR = "celery"


def synced(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert exercises_sync().ok


@pytest.mark.usefixtures("reference_runs_on")
def test_a_sync_queues_a_reference_run_of_each_new_version_that_trains(
    sent_requests: SentRequests, django_capture_on_commit_callbacks
) -> None:
    synced(django_capture_on_commit_callbacks)
    trials = {request.trial for request in sent_requests}
    assert TRAINS in trials and DOES_NOT_TRAIN not in trials
    request = next(request for request in sent_requests if request.trial == TRAINS)
    run = Submission.objects.select_related("user", "version").get(pk=request.submission_id)
    assert run.user.username == REFERENCE_ACCOUNT and not run.user.is_active
    assert run.purpose == Purpose.RERUN and "from exercises.kit.report import" in request.code
    assert run.version == Exercise.objects.get(slug=TRAINS).current_version
    assert all(options.get("priority") for options in sent_requests.options)  # behind students' work
    # an unchanged sync queues nothing more
    sent_requests.clear()
    synced(django_capture_on_commit_callbacks)
    assert sent_requests == []


def test_no_reference_run_in_the_embedded_shape_or_when_turned_off(
    settings, sent_requests: SentRequests, django_capture_on_commit_callbacks
) -> None:
    settings.REFERENCE_RUNS_AT_SYNC = True
    settings.HUASHEN_EXECUTOR = "local"
    synced(django_capture_on_commit_callbacks)
    assert sent_requests == [] and not Submission.objects.exists()


@pytest.mark.usefixtures("reference_runs_on")
def test_a_passed_reference_run_becomes_its_versions_curve_and_counts_nothing(
    sent_requests: SentRequests, django_capture_on_commit_callbacks
) -> None:
    synced(django_capture_on_commit_callbacks)
    request = next(request for request in sent_requests if request.trial == TRAINS)
    run = Submission.objects.get(pk=request.submission_id)
    store = get_event_log()  # what the grader streamed; the result copies it into the log
    for step, loss in enumerate([2.0, 1.0, 0.5], 1):
        store.append(run.pk, EventKind.METRIC, {"step": step, "metrics": {"loss": loss}})
    with django_capture_on_commit_callbacks(execute=True):
        submission_record_result(
            result=GradeResult(submission_id=run.pk, verdict=WireVerdict.PASSED, score=100.0)
        )
    curve = ReferenceCurve.objects.get(version=run.version)
    assert curve.series["loss"] == {"steps": [1, 2, 3], "values": [2.0, 1.0, 0.5]}
    assert curve.source == f"reference run #{run.pk} (sync)"
    assert not ExerciseProgress.objects.exists()


@pytest.mark.usefixtures("reference_runs_on")
def test_a_failed_reference_run_records_nothing(
    sent_requests: SentRequests, django_capture_on_commit_callbacks
) -> None:
    synced(django_capture_on_commit_callbacks)
    request = next(request for request in sent_requests if request.trial == TRAINS)
    get_event_log().append(request.submission_id, EventKind.METRIC, {"step": 1, "metrics": {"loss": 2.0}})
    with django_capture_on_commit_callbacks(execute=True):
        submission_record_result(
            result=GradeResult(submission_id=request.submission_id, verdict=WireVerdict.FAILED, score=0.0)
        )
    assert not ReferenceCurve.objects.exists()


def test_the_cohort_median_is_computed_once_until_a_run_passes(
    settings, personas: Personas, curriculum, django_capture_on_commit_callbacks
) -> None:
    settings.COHORT_CURVE_CACHE_SECONDS = 3600
    exercise = curriculum["r1t1"]
    students = classmates(personas, 6)
    passed_runs(students[:5], exercise)
    assert cohort_median_curve(cohort=personas.cohort_a, exercise=exercise).runs == 5
    with CaptureQueriesContext(connection) as kept:
        again = cohort_median_curve(cohort=personas.cohort_a, exercise=exercise)
    assert again.runs == 5 and again.available and len(kept) == 0  # from the cache
    # a failed run changes nothing; a passed one is counted at the next request
    with django_capture_on_commit_callbacks(execute=True):
        graded(students[5], exercise, verdict=WireVerdict.FAILED, score=0.0)
    assert cohort_median_curve(cohort=personas.cohort_a, exercise=exercise).runs == 5
    with django_capture_on_commit_callbacks(execute=True):
        with_losses(graded(students[5], exercise, verdict=WireVerdict.PASSED), [6.0, 3.0, 1.5])
    assert cohort_median_curve(cohort=personas.cohort_a, exercise=exercise).runs == 6
