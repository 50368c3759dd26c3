"""Embedded grading: the local executor's bounded concurrency, and the platform recording what it grades.

The real `grade()` needs bubblewrap and a trial bundle; these replace `workers.local`'s reference to it
with a fake that emits events and returns a result, so what is tested is the plumbing around it.
"""

import threading
import time
from concurrent.futures import wait

import pytest

from huashen.grading import embedded
from huashen.grading.eventlog import MemoryEventLog
from huashen.grading.models import ExerciseProgress, Status, Submission, Verdict
from huashen.grading.services import submission_create
from tests.conftest import Personas
from workers import local
from workers.events import EventSink
from workers.grader import Grader
from workers.local import LocalExecutor
from workers.protocol import EventKind, GradeEvent, GradeRequest, GradeResult, Mode
from workers.protocol import Verdict as WireVerdict


class FakeGrade:
    """Counts how many gradings overlap; each emits a running event and a line, then passes."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.statuses: dict[int, str] = {}

    def __call__(self, request: GradeRequest, grader: Grader, sink: EventSink) -> GradeResult:
        assert grader.require_cgroups is False
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            sink.emit(EventKind.STATUS, {"status": "running", "device": "cpu"})
            self.after_first_event(request)
            time.sleep(self.seconds)
            sink.emit(EventKind.STDOUT, f"graded {request.submission_id}\n")
        finally:
            with self.lock:
                self.running -= 1
        return GradeResult(submission_id=request.submission_id, verdict=WireVerdict.PASSED, score=100.0)

    def after_first_event(self, request: GradeRequest) -> None:
        pass


def grade_request(submission_id: int) -> GradeRequest:
    return GradeRequest(submission_id=submission_id, trial="t", content_hash="h", mode=Mode.SUBMIT, code="x")


def test_at_most_max_workers_grade_at_once_and_every_result_arrives(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGrade(seconds=0.1)
    monkeypatch.setattr(local, "grade", fake)
    executor = LocalExecutor(2)
    events: dict[int, list[GradeEvent]] = {}
    results: list[GradeResult] = []
    lock = threading.Lock()

    def on_event(submission_id: int):
        def record(event: GradeEvent) -> None:
            with lock:
                events.setdefault(submission_id, []).append(event)

        return record

    futures = [
        executor.submit(grade_request(n), on_event=on_event(n), on_result=results.append) for n in range(1, 7)
    ]
    _done, pending = wait(futures, timeout=10)
    executor.shutdown()
    assert not pending
    assert fake.most == 2  # bounded, and the bound was used
    assert sorted(result.submission_id for result in results) == [1, 2, 3, 4, 5, 6]
    for n in range(1, 7):
        assert [(event.seq, event.kind) for event in events[n]] == [
            (1, EventKind.STATUS),
            (2, EventKind.STDOUT),
        ]


def test_a_failing_event_consumer_does_not_change_the_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "grade", FakeGrade(seconds=0))
    executor = LocalExecutor(1)
    results: list[GradeResult] = []

    def broken(event: GradeEvent) -> None:
        raise RuntimeError("the database went away")

    executor.submit(grade_request(1), on_event=broken, on_result=results.append).result(timeout=10)
    executor.shutdown()
    assert [result.verdict for result in results] == [WireVerdict.PASSED]


def test_max_workers_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LocalExecutor(0)


def test_the_executor_grades_the_platforms_exercises(tmp_path) -> None:
    executor = LocalExecutor(1, exercises_dir=tmp_path)
    assert executor.grader.exercises_dir == tmp_path and executor.grader.require_cgroups is False
    executor.shutdown()


@pytest.mark.django_db(transaction=True)
def test_embedded_dispatch_grades_records_and_streams(
    personas: Personas,
    curriculum: dict,
    memory_events: MemoryEventLog,
    settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`local` mode: submission_create → on commit → the local executor → events in the store, the
    submission running at its first event, and the result recorded with its log."""
    settings.HUASHEN_EXECUTOR = "local"
    fake = FakeGrade(seconds=0.05)
    go = threading.Event()

    def status_at_first_event(request: GradeRequest) -> None:
        fake.statuses[request.submission_id] = Submission.objects.get(pk=request.submission_id).status

    fake.after_first_event = status_at_first_event  # type: ignore[method-assign]

    def grade_when_told(request: GradeRequest, grader: Grader, sink: EventSink) -> GradeResult:
        # The test database is SQLite in shared-cache memory, where a write in one thread and any access
        # in another fail with "table is locked" instead of waiting: the test creates first, then grades.
        assert go.wait(10)
        return fake(request, grader, sink)

    monkeypatch.setattr(local, "grade", grade_when_told)
    executor = LocalExecutor(1)
    futures: list = []
    submit = executor.submit
    monkeypatch.setattr(executor, "submit", lambda *a, **k: futures.append(submit(*a, **k)) or futures[-1])
    monkeypatch.setattr(embedded, "_executor", executor)

    submissions = [
        submission_create(user=personas.alice, exercise=curriculum[f"r1t{tier}"], code="x = 1", mode="submit")
        for tier in (1, 2, 3)
    ]
    assert len(futures) == 3  # sent on commit of each submission
    go.set()
    _done, pending = wait(futures, timeout=20)
    assert not pending
    executor.shutdown()
    assert fake.most == 1  # LOCAL_GRADER_CONCURRENCY = 1 by default: one at a time
    for submission in submissions:
        submission.refresh_from_db()
        assert (submission.status, submission.verdict, submission.score) == (
            Status.DONE,
            Verdict.PASSED,
            100.0,
        )
        assert fake.statuses[submission.pk] == Status.RUNNING  # marked running at the grader's first event
        assert submission.started_at is not None
        assert [(wire["seq"], wire["kind"]) for wire in submission.log] == [
            (1, "status"),
            (2, "stdout"),
            (3, "status"),
        ]
        stream = memory_events.read(submission.pk)
        assert [event.seq for event in stream] == [1, 2, 3] and stream[-1].payload["status"] == "done"
    assert (
        ExerciseProgress.objects.filter(user=personas.alice, attempts=1, passed_at__isnull=False).count() == 3
    )


def test_one_process_wide_executor_sized_by_the_setting(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.LOCAL_GRADER_CONCURRENCY = 3
    settings.GRADING_REAP_INTERVAL_SECONDS = 17
    monkeypatch.setattr(embedded, "_executor", None)
    monkeypatch.setattr(embedded, "confinement_possible", lambda: "not here")  # no warm pool to start
    first = embedded.executor()
    try:
        assert embedded.executor() is first and first.max_workers == 3
        assert first.grader.exercises_dir == settings.EXERCISES_DIR
    finally:
        first.shutdown()


def test_the_local_hand_over_starts_the_upkeep_beat_would_do(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded mode has no beat: handing a request to the local executor starts the sweep-and-reap thread."""
    from huashen.grading import dispatch
    from workers.protocol import GradeRequest, Limits, Mode

    settings.HUASHEN_EXECUTOR = "local"
    settings.GRADING_REAP_INTERVAL_SECONDS = 17
    started: list[int] = []
    handed: list[GradeRequest] = []
    monkeypatch.setattr(dispatch, "_start_local_upkeep", started.append)
    monkeypatch.setattr(embedded, "submit", handed.append)
    request = GradeRequest(submission_id=5, trial="tensor-basics", content_hash="h", mode=Mode.RUN, code="x = 1",
                           limits=Limits(wall_seconds=30), device="cpu", request_id="r")  # fmt: skip
    dispatch.send_grade_request(request)
    assert started == [17] and handed == [request]
