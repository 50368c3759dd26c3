"""Trial 1.1 graded end to end: service → Redis `cpu` queue → a grader worker process (no database) →
bwrap → the trusted check → the `platform` queue → a platform worker process → PostgreSQL."""

from pathlib import Path

import pytest

from huashen.curriculum.models import Exercise
from huashen.curriculum.services import exercises_sync
from huashen.grading.models import ExerciseProgress
from huashen.grading.services import submission_create
from tests.conftest import Personas
from tests.integration.conftest import WorkerProcess, result_summary, wait_for_result

ROOT = Path(__file__).resolve().parents[2]
TRIAL = ROOT / "exercises" / "01-tensors" / "01-tensor-basics"


@pytest.fixture
def workers(platform_worker_process: WorkerProcess, grader_for) -> tuple[WorkerProcess, WorkerProcess]:
    return platform_worker_process, grader_for(ROOT / "exercises")


@pytest.fixture
def trial(transactional_db: None) -> Exercise:
    result = exercises_sync()
    assert result.ok, result.errors
    return Exercise.objects.get(slug="tensor-basics")


def test_the_reference_passes_through_the_whole_path(
    workers: tuple[WorkerProcess, WorkerProcess], trial: Exercise, personas: Personas
) -> None:
    code = (TRIAL / "reference" / "solution.py").read_text()
    submission = wait_for_result(
        submission_create(user=personas.alice, exercise=trial, code=code, mode="submit"), *workers
    )
    assert (submission.verdict, submission.score) == ("passed", 100.0), result_summary(submission)
    assert {check["key"] for check in submission.checks} == {
        "shape", "dtype", "describe", "device-follows-availability", "round-trip",
    }  # fmt: skip
    assert submission.device == "cpu" and submission.versions["torch"].startswith("2.")
    assert submission.resources["confined"] is True and submission.resources["peak_memory_mb"] > 50
    progress = ExerciseProgress.objects.get(user=personas.alice, exercise=trial)
    assert progress.passed and progress.attempts == 1


def test_a_classic_mistake_fails_the_check_it_names(
    workers: tuple[WorkerProcess, WorkerProcess], trial: Exercise, personas: Personas
) -> None:
    code = (TRIAL / "wrong" / "hard_coded_cpu.py").read_text()
    submission = wait_for_result(
        submission_create(user=personas.alice, exercise=trial, code=code, mode="submit"), *workers
    )
    assert submission.verdict == "failed", result_summary(submission)
    failed = {check["key"] for check in submission.checks if not check["passed"]}
    assert failed == {"device-follows-availability"}
    assert 0 < submission.score < 100
    message = next(c["message"] for c in submission.checks if c["key"] == "device-follows-availability")
    assert "cuda" in message["en"].lower() and message["zh"]


def test_run_mode_shows_only_visible_checks_and_does_not_count(
    workers: tuple[WorkerProcess, WorkerProcess], trial: Exercise, personas: Personas
) -> None:
    code = (TRIAL / "reference" / "solution.py").read_text()
    submission = wait_for_result(
        submission_create(user=personas.bob, exercise=trial, code=code, mode="run"), *workers
    )
    assert submission.verdict == "passed", result_summary(submission)
    assert {check["key"] for check in submission.checks} == {"shape", "dtype", "describe"}
    assert all(check["visible"] for check in submission.checks)
    # a Run is activity (the matrix shows it), never an attempt, a score or a pass
    progress = ExerciseProgress.objects.get(user=personas.bob, exercise=trial)
    assert (progress.attempts, progress.best_score, progress.passed_at) == (0, 0.0, None)


def test_a_student_exception_is_an_error_with_their_own_traceback(
    workers: tuple[WorkerProcess, WorkerProcess], trial: Exercise, personas: Personas
) -> None:
    code = "import torch\n\ndef helper():\n    raise ValueError('my own bug')\n\nhelper()\n"
    submission = wait_for_result(
        submission_create(user=personas.alice, exercise=trial, code=code, mode="submit"), *workers
    )
    assert submission.verdict == "error", result_summary(submission)
    assert "ValueError: my own bug" in submission.traceback
    assert "line 4" in submission.traceback and "helper" in submission.traceback
    assert "exercises/kit" not in submission.traceback and "harness" not in submission.traceback
    assert submission.message["zh"] and submission.message["en"]
