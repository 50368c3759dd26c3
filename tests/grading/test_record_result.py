"""submission_record_result and progress: idempotent results, the log copied from the event store with a
final event, only Submit counts, the unlock rule."""

import pytest
from django.test import override_settings

from huashen.errors import DomainError
from huashen.grading import dispatch
from huashen.grading.eventlog import MemoryEventLog
from huashen.grading.models import ExerciseProgress, Status, Verdict
from huashen.grading.results import submission_mark_running, submission_record_result
from huashen.grading.selectors import realms_with_progress
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from tests.factories import make_curriculum
from tests.grading.conftest import Clock
from workers.events import CallbackSink
from workers.protocol import CheckResult, EventKind, GradeEvent, GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


def grade(submission_id: int, verdict: WireVerdict = WireVerdict.PASSED, score: float = 100.0) -> GradeResult:
    check = CheckResult("shape", verdict == WireVerdict.PASSED, score, 100.0, {"zh": "形状", "en": "Shape"},
                        {"zh": "好", "en": "Good"})  # fmt: skip
    return GradeResult(
        submission_id=submission_id, verdict=verdict, score=score, checks=[check], device="cpu"
    )


def submit(user, exercise, mode: str = "submit"):
    return submission_create(user=user, exercise=exercise, code="x = 1", mode=mode)


def test_result_is_stored_and_progress_updated(personas: Personas, curriculum: dict) -> None:
    submission = submit(personas.alice, curriculum["r1t1"])
    submission_mark_running(submission_id=submission.pk)
    stored = submission_record_result(result=grade(submission.pk, WireVerdict.FAILED, 40.0))
    assert (stored.status, stored.verdict, stored.score) == (Status.DONE, Verdict.FAILED, 40.0)
    assert stored.checks[0]["key"] == "shape"
    assert stored.started_at is not None and stored.finished_at >= stored.started_at
    progress = ExerciseProgress.objects.get(user=personas.alice, exercise=curriculum["r1t1"])
    assert (progress.attempts, progress.best_score, progress.passed) == (1, 40.0, False)

    second = submit(personas.alice, curriculum["r1t1"])
    submission_record_result(result=grade(second.pk))
    progress.refresh_from_db()
    assert (progress.attempts, progress.best_score, progress.passed) == (2, 100.0, True)
    first_pass = progress.passed_at

    third = submit(personas.alice, curriculum["r1t1"])
    submission_record_result(result=grade(third.pk, WireVerdict.FAILED, 10.0))
    progress.refresh_from_db()
    assert (progress.attempts, progress.best_score, progress.passed_at) == (3, 100.0, first_pass)


def test_a_repeated_delivery_changes_nothing(personas: Personas, curriculum: dict) -> None:
    submission = submit(personas.alice, curriculum["r1t1"])
    submission_record_result(result=grade(submission.pk, WireVerdict.FAILED, 30.0))
    again = submission_record_result(result=grade(submission.pk, WireVerdict.PASSED, 100.0))
    assert (again.verdict, again.score) == (Verdict.FAILED, 30.0)
    assert ExerciseProgress.objects.get(user=personas.alice).attempts == 1


def test_the_first_pass_is_kept_when_a_later_submission_passes_again(
    personas: Personas, curriculum: dict, clock: Clock
) -> None:
    # given alice passed a trial at 09:00
    first = submission_record_result(result=grade(submit(personas.alice, curriculum["r1t1"]).pk))
    # when she passes it again an hour later
    clock.advance(hours=1)
    second = submission_record_result(result=grade(submit(personas.alice, curriculum["r1t1"]).pk))
    # then the trial still counts as passed since the first pass
    progress = ExerciseProgress.objects.get(user=personas.alice, exercise=curriculum["r1t1"])
    assert second.finished_at > first.finished_at
    assert (progress.attempts, progress.passed_at) == (2, first.finished_at)


def test_run_mode_never_counts_for_progress(personas: Personas, curriculum: dict) -> None:
    submission = submit(personas.alice, curriculum["r1t1"], mode="run")
    submission_record_result(result=grade(submission.pk))
    # a Run is activity (when the student last worked on the trial), never an attempt, a score or a pass
    progress = ExerciseProgress.objects.get(user=personas.alice)
    submission.refresh_from_db()
    assert (progress.attempts, progress.best_score, progress.passed_at) == (0, 0.0, None)
    assert progress.last_submitted_at == submission.finished_at


def test_mark_running_only_moves_queued_submissions(personas: Personas, curriculum: dict) -> None:
    submission = submit(personas.alice, curriculum["r1t1"])
    submission_record_result(result=grade(submission.pk))
    submission_mark_running(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == Status.DONE


def pass_trials(user, curriculum: dict, realm: int, tiers: range) -> None:
    for tier in tiers:
        submission = submit(user, curriculum[f"r{realm}t{tier}"])
        submission_record_result(result=grade(submission.pk))


def test_unlock_rule_opens_the_next_realm_at_three_passes(personas: Personas, curriculum: dict) -> None:
    states = realms_with_progress(user=personas.alice)
    assert [s.unlocked for s in states] == [True, False]
    pass_trials(personas.alice, curriculum, 1, range(1, 3))
    assert [s.unlocked for s in realms_with_progress(user=personas.alice)] == [True, False]
    pass_trials(personas.alice, curriculum, 1, range(3, 4))
    states = realms_with_progress(user=personas.alice)
    assert [s.unlocked for s in states] == [True, True]
    assert (states[0].passed, states[0].total, states[0].completed, states[0].percent) == (3, 5, False, 60)
    # bob's progress is his own
    assert [s.unlocked for s in realms_with_progress(user=personas.bob)] == [True, False]
    pass_trials(personas.alice, curriculum, 1, range(4, 6))
    assert realms_with_progress(user=personas.alice)[0].completed


@override_settings(REALM_UNLOCK_PASSES=3)
def test_a_realm_behind_a_locked_realm_stays_locked_whatever_its_passes(personas: Personas) -> None:
    """Realm n opens only when realm n-1 is itself open: passes kept in a realm that locked again (its
    predecessor's passed trials were hidden) do not open the realm after it."""
    # given three realms, and alice with three passes in realm 1 and three in realm 2
    trials = make_curriculum(realms=3)
    pass_trials(personas.alice, trials, 1, range(1, 4))
    pass_trials(personas.alice, trials, 2, range(1, 4))
    assert [s.unlocked for s in realms_with_progress(user=personas.alice)] == [True, True, True]
    # when two of her passed trials in realm 1 are hidden, so realm 1 holds one pass of three trials
    for tier in (1, 2):
        trials[f"r1t{tier}"].is_published = False
        trials[f"r1t{tier}"].save(update_fields=["is_published"])
    # then realm 2 locks again, and realm 3 with it, though realm 2 still holds three passes
    states = realms_with_progress(user=personas.alice)
    assert [(s.unlocked, s.passed) for s in states] == [(True, 1), (False, 3), (False, 0)]
    with pytest.raises(DomainError) as caught:
        submit(personas.alice, trials["r3t1"])
    assert (caught.value.status, caught.value.code) == (403, "realm_locked")


def test_a_failed_attempt_does_not_unlock(personas: Personas, curriculum: dict) -> None:
    for tier in (1, 2, 3):
        submission = submit(personas.alice, curriculum[f"r1t{tier}"])
        submission_record_result(result=grade(submission.pk, WireVerdict.FAILED, 90.0))
    states = realms_with_progress(user=personas.alice)
    assert states[1].unlocked is False
    assert [t.state for t in states[0].trials] == ["attempted"] * 3 + ["open"] * 2


@override_settings(REALM_UNLOCK_PASSES=3)
def test_realm_map_costs_a_constant_number_of_queries(
    personas: Personas, curriculum: dict, django_assert_max_num_queries
) -> None:
    pass_trials(personas.alice, curriculum, 1, range(1, 4))
    with django_assert_max_num_queries(3):
        states = realms_with_progress(user=personas.alice)
        titles = [trial.exercise.current_version.title for state in states for trial in state.trials]
    assert len(titles) == 10


def test_the_log_is_copied_from_the_event_store_and_ends_with_the_final_event(
    personas: Personas, curriculum: dict, memory_events: MemoryEventLog, django_capture_on_commit_callbacks
) -> None:
    submission = submit(personas.alice, curriculum["r1t1"])
    sink = CallbackSink(lambda event: memory_events.put(submission.pk, event))
    sink.emit(EventKind.STATUS, {"status": "running", "device": "cpu"})
    sink.emit(EventKind.STDOUT, "epoch 1 loss 0.5\n")
    sink.emit(EventKind.METRIC, {"step": 1, "metrics": {"loss": 0.5}})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored = submission_record_result(result=grade(submission.pk, WireVerdict.FAILED, 40.0))
        assert [event.seq for event in memory_events.read(submission.pk)] == [1, 2, 3]  # not before commit
    assert len(callbacks) == 3  # the final event, submission_finished and the progress_changed announcement
    log = [GradeEvent.from_wire(wire) for wire in stored.log]
    assert [(event.seq, event.kind) for event in log] == [
        (1, EventKind.STATUS), (2, EventKind.STDOUT), (3, EventKind.METRIC), (4, EventKind.STATUS),
    ]  # fmt: skip
    assert log[-1].payload == {"status": "done", "verdict": "failed", "score": 40.0}
    # the store got the same final event, at the same seq, and will expire
    in_store = memory_events.read(submission.pk)
    assert (in_store[-1].seq, in_store[-1].payload) == (4, log[-1].payload)
    assert submission.pk in memory_events._expires

    # a repeated delivery appends no second final event
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submission_record_result(result=grade(submission.pk))
    assert callbacks == [] and len(memory_events.read(submission.pk)) == 4


def test_a_long_log_is_capped_with_its_head_tail_and_a_notice(
    personas: Personas, curriculum: dict, memory_events: MemoryEventLog
) -> None:
    submission = submit(personas.alice, curriculum["r1t1"])
    sink = CallbackSink(lambda event: memory_events.put(submission.pk, event))
    for line in range(6000):
        sink.emit(EventKind.STDOUT, f"line {line}\n")
    stored = submission_record_result(result=grade(submission.pk))
    log = [GradeEvent.from_wire(wire) for wire in stored.log]
    assert len(log) <= 5001  # at most 5,000 of the run's, plus the final event
    assert log[0].payload == "line 0\n" and log[-2].payload == "line 5999\n"
    notices = [event for event in log if event.kind == EventKind.LOG]
    assert len(notices) == 1 and notices[0].payload["notice"] == "log_truncated"
    assert notices[0].payload["omitted"] == 6000 - (len(log) - 2)
    assert [event.seq for event in log] == sorted({event.seq for event in log})  # increasing, no repeats
    assert log[-1].seq == 6001 and log[-1].payload["status"] == "done"


def test_the_record_result_task_takes_only_the_result(personas: Personas, curriculum: dict) -> None:
    from huashen.grading.tasks import record_result

    submission = submit(personas.alice, curriculum["r1t1"])
    record_result(grade(submission.pk).to_wire())
    submission.refresh_from_db()
    assert (submission.status, submission.verdict) == (Status.DONE, Verdict.PASSED)
    assert submission.log[-1]["payload"]["status"] == "done"


def test_what_a_job_wrote_is_cleaned_so_the_result_is_always_storable(
    personas: Personas, curriculum: dict
) -> None:
    submission = submit(personas.alice, curriculum["r1t1"])
    check = CheckResult("shape", False, 0.0, 100.0, {"zh": "形状", "en": "Shape"},
                        {"zh": "看到 \x00", "en": "saw \ud800 and \x00"})  # fmt: skip
    result = GradeResult(
        submission_id=submission.pk, verdict=WireVerdict.ERROR, score=0.0, checks=[check],
        traceback="Traceback\x00 (most recent call last)", resources={"peak_gpu_memory_mb": float("nan")},
        artifacts=[{"name": "overlay", "media_type": "image/png", "data": "iVBORw0KGgo="}],
    )  # fmt: skip
    stored = submission_record_result(result=result)
    stored.refresh_from_db()
    assert "\x00" not in stored.traceback and "\x00" not in stored.checks[0]["message"]["zh"]
    assert stored.checks[0]["message"]["en"].startswith("saw ")
    assert stored.resources == {"peak_gpu_memory_mb": None}
    assert stored.artifacts == [{"name": "overlay", "media_type": "image/png", "data": "iVBORw0KGgo="}]


def test_grading_announces_created_and_finished_submissions(
    personas: Personas, curriculum: dict, django_capture_on_commit_callbacks
) -> None:
    from huashen.grading.models import Purpose, Submission
    from huashen.grading.services import submission_create_rerun
    from huashen.grading.signals import submission_created, submission_finished

    created: list[dict] = []
    finished: list[dict] = []

    def on_created(sender, **kwargs) -> None:
        created.append(kwargs)

    def on_finished(sender, **kwargs) -> None:
        finished.append(kwargs)

    def broken(sender, **kwargs) -> None:
        raise RuntimeError("a receiver that fails must not undo the grading")

    submission_created.connect(on_created, dispatch_uid="test-created")
    submission_finished.connect(broken, dispatch_uid="test-broken")
    submission_finished.connect(on_finished, dispatch_uid="test-finished")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            submission = submit(personas.alice, curriculum["r1t1"])
        assert created[-1]["submission_id"] == submission.pk and created[-1]["purpose"] == Purpose.ATTEMPT
        with django_capture_on_commit_callbacks(execute=True):
            submission_record_result(result=grade(submission.pk, WireVerdict.FAILED, 40.0))
        assert finished == [
            {"signal": submission_finished, "submission_id": submission.pk, "user_id": personas.alice.pk,
             "exercise_id": curriculum["r1t1"].pk, "mode": "submit", "purpose": "attempt",
             "verdict": "failed", "score": 40.0}
        ]  # fmt: skip
        assert Submission.objects.get(pk=submission.pk).status == Status.DONE
        with django_capture_on_commit_callbacks(execute=True):
            rerun = submission_create_rerun(original=submission)
            submission_record_result(result=grade(rerun.pk, WireVerdict.PASSED, 100.0))
        assert created[-1]["purpose"] == Purpose.RERUN and finished[-1]["purpose"] == Purpose.RERUN
        progress = ExerciseProgress.objects.get(user=personas.alice, exercise=curriculum["r1t1"])
        assert (progress.attempts, progress.best_score, progress.passed_at) == (1, 40.0, None)  # not counted
    finally:
        submission_created.disconnect(dispatch_uid="test-created")
        submission_finished.disconnect(dispatch_uid="test-broken")
        submission_finished.disconnect(dispatch_uid="test-finished")
