"""The grader worker process: fails closed on an unsound sandbox; a worker lost mid-run means a re-queue."""

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from huashen.curriculum.models import Exercise
from huashen.curriculum.services import exercises_sync
from huashen.grading.services import submission_create
from tests.conftest import Personas
from tests.integration.conftest import WorkerProcess, result_summary, start_grader, wait_for_result
from workers.protocol import HEARTBEAT_KEY_PREFIX

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "grading"


@pytest.fixture
def probe_trial(transactional_db: None) -> Exercise:
    assert exercises_sync(root=FIXTURES).ok
    return Exercise.objects.get(slug="sandbox-probe")


def test_a_grader_without_bwrap_refuses_to_consume(
    services: dict, probe_trial: Exercise, personas: Personas, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(services["redis"])
    with pytest.raises(AssertionError, match="did not come up") as caught:
        start_grader(services, FIXTURES, tmp_path / "grader.log", extra_env={"PATH": "/nonexistent"})
    assert "sandbox self-test failed" in str(caught.value)
    # a request queued now stays queued: nothing consumed it unsandboxed
    submission = submission_create(
        user=personas.alice, exercise=probe_trial, code="def answer(): return 1", mode="run"
    )
    time.sleep(1)
    assert client.llen("cpu") == 1
    assert not list(client.scan_iter(HEARTBEAT_KEY_PREFIX + "*"))
    submission.refresh_from_db()
    assert submission.status == "queued"


def _pool_children(worker: WorkerProcess) -> list[int]:
    children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_grader_killed_mid_run_is_redelivered_and_graded_once(
    platform_worker_process: WorkerProcess,
    grader_for,
    probe_trial: Exercise,
    personas: Personas,
) -> None:
    grader = grader_for(FIXTURES)
    code = "import time\n\ndef answer():\n    time.sleep(3)\n    return 1729\n"
    submission = submission_create(user=personas.alice, exercise=probe_trial, code=code, mode="submit")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "Task huashen.grade" not in grader.output():
        time.sleep(0.1)
    time.sleep(1.0)  # inside the sandbox now
    for child in _pool_children(grader):
        os.kill(child, signal.SIGKILL)  # the pool process dies as on an OOM kill or a lost machine
    result = wait_for_result(submission, platform_worker_process, grader, timeout=120)
    assert (result.verdict, result.score) == ("passed", 100.0), result_summary(result)
    assert "WorkerLostError" in grader.output()  # the first run really died mid-task
