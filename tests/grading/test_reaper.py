"""The reaper: deadlines that wait out Celery's redelivery, internal_error that is not an attempt, idempotence."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from huashen.grading import dispatch
from huashen.grading.eventlog import MemoryEventLog
from huashen.grading.models import ExerciseProgress, Status, Submission, Verdict
from huashen.grading.results import (
    REAPED_MESSAGE,
    grading_deadline,
    submission_mark_running,
    submission_record_result,
    submissions_reap,
)
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from workers.events import CallbackSink
from workers.protocol import EventKind, GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


def submit(personas: Personas, curriculum: dict, mode: str = "submit") -> Submission:
    return submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode=mode)


@override_settings(
    GRADING_HARD_LIMIT_SECONDS=600,
    CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 660},
    GRADING_GRACE_SECONDS=45,
)
def test_the_deadline_waits_out_celerys_redelivery(personas: Personas, curriculum: dict) -> None:
    # created + hard limit + 60 (the visibility timeout) + the trial's wall limit (30 s) + the grace
    submission = submit(personas, curriculum)
    expected = dt.timedelta(seconds=600 + 60 + 30 + 45)
    assert abs((submission.deadline - submission.created_at) - expected) < dt.timedelta(seconds=2)
    start = timezone.now()
    assert grading_deadline(start=start, wall_seconds=100) == start + dt.timedelta(seconds=660 + 100 + 45)


def test_the_default_deadline_follows_the_settings(personas: Personas, curriculum: dict, settings) -> None:
    submission = submit(personas, curriculum)
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        == settings.GRADING_HARD_LIMIT_SECONDS + 60
    )
    seconds = settings.GRADING_HARD_LIMIT_SECONDS + 60 + 30 + settings.GRADING_GRACE_SECONDS
    assert abs((submission.deadline - submission.created_at).total_seconds() - seconds) < 2


def test_starting_to_run_moves_the_deadline_to_count_from_the_start(
    personas: Personas, curriculum: dict
) -> None:
    submission = submit(personas, curriculum)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Submission.objects.filter(pk=submission.pk).update(created_at=long_ago, deadline=long_ago)
    submission_mark_running(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == Status.RUNNING
    assert submission.deadline == grading_deadline(start=submission.started_at, wall_seconds=30)


def test_nothing_is_reaped_before_its_deadline(personas: Personas, curriculum: dict) -> None:
    submission = submit(personas, curriculum)
    assert submissions_reap(now=submission.deadline - dt.timedelta(seconds=1)) == 0
    assert submissions_reap() == 0
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED


def test_a_stuck_submission_is_failed_and_not_counted(
    personas: Personas, curriculum: dict, memory_events: MemoryEventLog, django_capture_on_commit_callbacks
) -> None:
    queued = submit(personas, curriculum)
    running = submit(personas, curriculum)
    submission_mark_running(submission_id=running.pk)
    sink = CallbackSink(lambda event: memory_events.put(running.pk, event))
    sink.emit(EventKind.STATUS, {"status": "running", "device": "cpu"})
    sink.emit(EventKind.STDOUT, "training...\n")
    running.refresh_from_db()
    later = max(queued.deadline, running.deadline) + dt.timedelta(seconds=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert submissions_reap(now=later) == 2
    for submission in (queued, running):
        submission.refresh_from_db()
        assert (submission.status, submission.verdict, submission.score) == (
            Status.DONE, Verdict.INTERNAL_ERROR, 0.0,
        )  # fmt: skip
        assert submission.message == REAPED_MESSAGE
        assert submission.finished_at == later
        assert submission.log[-1]["payload"] == {"status": "done", "verdict": "internal_error", "score": 0.0}
        # followers get the same final event from the store
        assert memory_events.read(submission.pk)[-1].payload["status"] == "done"
    assert [wire["seq"] for wire in running.log] == [1, 2, 3]
    assert "not counted" in REAPED_MESSAGE["en"] and "不计入" in REAPED_MESSAGE["zh"]
    # not an attempt
    assert not ExerciseProgress.objects.filter(user=personas.alice).exists()

    # idempotent: a second sweep, and a grader's late result, change nothing
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert submissions_reap(now=later + dt.timedelta(hours=1)) == 0
        late = submission_record_result(
            result=GradeResult(submission_id=running.pk, verdict=WireVerdict.PASSED, score=100.0)
        )
    assert callbacks == [] and late.verdict == Verdict.INTERNAL_ERROR
    assert len(memory_events.read(running.pk)) == 3
    assert not ExerciseProgress.objects.filter(user=personas.alice).exists()


def test_finished_submissions_are_never_reaped(personas: Personas, curriculum: dict) -> None:
    submission = submit(personas, curriculum)
    submission_record_result(
        result=GradeResult(submission_id=submission.pk, verdict=WireVerdict.FAILED, score=10.0)
    )
    assert submissions_reap(now=submission.deadline + dt.timedelta(days=1)) == 0
    submission.refresh_from_db()
    assert (submission.verdict, submission.score) == (Verdict.FAILED, 10.0)
    assert ExerciseProgress.objects.get(user=personas.alice).attempts == 1


def test_the_command_and_the_beat_task_run_the_reaper(
    personas: Personas, curriculum: dict, settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from huashen.grading.tasks import reap

    first, second = submit(personas, curriculum), submit(personas, curriculum)
    past = timezone.now() - dt.timedelta(seconds=1)
    Submission.objects.filter(pk__in=[first.pk, second.pk]).update(deadline=past)
    Submission.objects.filter(pk=second.pk).update(deadline=timezone.now() + dt.timedelta(hours=1))
    call_command("reap_submissions")
    assert "reaped 1" in capsys.readouterr().out
    Submission.objects.filter(pk=second.pk).update(deadline=past)
    assert reap() == 1
    assert Submission.objects.filter(status=Status.DONE).count() == 2
    schedule = settings.CELERY_BEAT_SCHEDULE["reap-stuck-submissions"]
    assert (schedule["task"], schedule["schedule"], schedule["options"]["queue"]) == (
        "huashen.reap",
        60.0,
        "platform",
    )
