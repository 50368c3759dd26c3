"""A result is never dropped: recording rides out database and Redis outages with backoff, and a
delivery that outlasts its patience goes back on the queue instead of being acknowledged."""

import pytest
from celery.exceptions import Reject
from django.db import IntegrityError, OperationalError

from huashen.grading import dispatch, tasks
from huashen.grading.eventlog import EventLogUnavailable
from huashen.grading.models import ExerciseProgress, Status
from huashen.grading.outages import StillUnavailable, through_outages
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from workers.protocol import GradeResult, Verdict

pytestmark = pytest.mark.django_db


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def failing(times: int, error: Exception, then: object = "done"):
    calls = {"n": 0}

    def function() -> object:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return then

    return function, calls


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("the database system is shutting down"),
        IntegrityError("deadlock detected"),
        EventLogUnavailable("redis away"),
        ConnectionError("refused"),
    ],
)
def test_an_outage_is_waited_out_with_growing_backoff(error: Exception) -> None:
    time = FakeTime()
    function, calls = failing(4, error)
    assert (
        through_outages(function, what="x", patience_seconds=60, sleep=time.sleep, clock=time.clock) == "done"
    )
    assert calls["n"] == 5
    assert time.sleeps == sorted(time.sleeps) and time.sleeps[-1] > time.sleeps[0]


def test_past_its_patience_it_gives_up_for_the_caller_to_keep_the_work() -> None:
    time = FakeTime()
    function, calls = failing(10_000, OperationalError("connection refused"))
    with pytest.raises(StillUnavailable):
        through_outages(function, what="x", patience_seconds=30, sleep=time.sleep, clock=time.clock)
    assert time.now <= 30 and calls["n"] > 3


def test_a_bug_is_not_retried() -> None:
    function, calls = failing(1, KeyError("a bug"))
    with pytest.raises(KeyError):
        through_outages(function, what="x", patience_seconds=60, sleep=lambda _s: None)
    assert calls["n"] == 1


@pytest.fixture
def submission(personas: Personas, curriculum: dict, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())
    return submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit")


def _wire(submission_id: int) -> dict:
    return GradeResult(submission_id=submission_id, verdict=Verdict.PASSED, score=100.0).to_wire()


def test_the_task_records_once_the_database_is_back(submission, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a database that fails the first three attempts
    calls = {"n": 0}

    def flaky(*, result: GradeResult):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise OperationalError("server closed the connection unexpectedly")
        return submission_record_result(result=result)

    monkeypatch.setattr(tasks, "submission_record_result", flaky)
    monkeypatch.setattr("huashen.grading.outages.time.sleep", lambda _seconds: None)
    # when the platform worker runs the task
    tasks.record_result(_wire(submission.pk))
    # then the result is recorded, once, and counted once
    submission.refresh_from_db()
    assert (submission.status, submission.verdict) == (Status.DONE, "passed")
    assert ExerciseProgress.objects.get(user=submission.user, exercise=submission.exercise).attempts == 1
    # and a repeated delivery (the broker's redelivery of the same message) changes nothing
    tasks.record_result(_wire(submission.pk))
    assert ExerciseProgress.objects.get(user=submission.user, exercise=submission.exercise).attempts == 1


@pytest.mark.parametrize("task, argument", [("record_result", "wire"), ("mark_running", "id")])
def test_a_delivery_that_outlasts_its_patience_is_requeued_not_acknowledged(
    submission, monkeypatch: pytest.MonkeyPatch, settings, task: str, argument: str
) -> None:
    settings.GRADING_RECORD_PATIENCE_SECONDS = 0

    def down(**_kwargs: object) -> None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(tasks, "submission_record_result", down)
    monkeypatch.setattr(tasks, "submission_mark_running", down)
    with pytest.raises(Reject) as rejected:
        getattr(tasks, task)(_wire(submission.pk) if argument == "wire" else submission.pk)
    assert rejected.value.requeue is True
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED  # nothing half-written; the next delivery records it


def test_the_embedded_executor_waits_out_a_locked_database(
    submission, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huashen.grading import embedded

    calls = {"n": 0}

    def locked(*, result: GradeResult):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OperationalError("database is locked")
        return submission_record_result(result=result)

    monkeypatch.setattr(embedded, "submission_record_result", locked)
    monkeypatch.setattr(embedded, "with_fresh_connection", lambda function, **kwargs: function(**kwargs))
    monkeypatch.setattr("huashen.grading.outages.time.sleep", lambda _seconds: None)
    embedded._Run(submission.pk).on_result(GradeResult.from_wire(_wire(submission.pk)))
    submission.refresh_from_db()
    assert submission.status == Status.DONE and calls["n"] == 3
