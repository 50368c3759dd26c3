"""A grader told to stop (SIGTERM, as `docker stop` and Kubernetes send it) finishes the run in hand.

Celery's warm shutdown waits for the running task; with acks_late the message is acknowledged only
after the result went out, so the submission is graded once and nothing is left for Redis to redeliver.
The sandbox's launch chain runs in its own session, so a SIGTERM sent to the worker's whole process
group (a terminal's Ctrl-C, `kill -TERM -PGID`) never reaches the student's job.
"""

import json
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
from tests.integration.conftest import WorkerProcess, result_summary, wait_for_result

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "grading"


@pytest.fixture
def probe_trial(transactional_db: None) -> Exercise:
    assert exercises_sync(root=FIXTURES).ok
    return Exercise.objects.get(slug="sandbox-probe")


def _children(pid: int) -> list[int]:
    """Children of every thread of `pid`: the warm pool's zygote is its keeper thread's child."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found.extend([child, *_descendants(child)])
    return found


def _lines(worker: WorkerProcess, needle: str, submission_id: int) -> list[dict]:
    found = []
    for line in worker.output().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("submission_id") == submission_id and needle in entry.get("message", ""):
                found.append(entry)
    return found


WARM_READY = "the warm sandbox passed its self-test"  # workers.sandbox.warm.pool, once its zygote is up


@pytest.mark.parametrize("sandbox", ["cold", "warm"])
def test_sigterm_lets_the_run_in_hand_finish_and_records_it_once(
    services: dict,
    platform_worker_process: WorkerProcess,
    grader_for,
    probe_trial: Exercise,
    personas: Personas,
    sandbox: str,
) -> None:
    grader = grader_for(FIXTURES, extra_env={"HUASHEN_WARM_POOL": "0" if sandbox == "cold" else "1"})
    if sandbox == "warm":  # the pool starts with the grading process, before any job is sent
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and WARM_READY not in grader.output():
            time.sleep(0.2)
        assert WARM_READY in grader.output(), grader.output()[-4000:]
    code = "import time\n\ndef answer():\n    time.sleep(4)\n    return 1729\n"
    submission = submission_create(user=personas.alice, exercise=probe_trial, code=code, mode="submit")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _lines(grader, "grading submission", submission.pk):
        time.sleep(0.1)
    assert _lines(grader, "grading submission", submission.pk), grader.output()[-4000:]
    time.sleep(1.5)  # inside the sandbox now

    # the job's launch chain is in a session of its own: a signal to the worker's group misses it
    worker_group = os.getpgid(grader.process.pid)
    pool = _children(grader.process.pid)
    jobs = [pid for child in pool for pid in _descendants(child)]
    assert jobs, "no sandbox process is running under the pool"
    assert all(os.getpgid(pid) != worker_group for pid in jobs if Path(f"/proc/{pid}").exists())

    grader.process.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
    result = wait_for_result(submission, platform_worker_process, timeout=120)
    assert (result.verdict, result.score) == ("passed", 100.0), result_summary(result)
    assert grader.process.wait(timeout=60) == 0, grader.output()[-4000:]  # a warm shutdown, then exit

    assert len(_lines(grader, "graded:", submission.pk)) == 1
    if sandbox == "warm":
        assert _lines(grader, "warm sandbox run", submission.pk), "the run did not take the warm path"
    assert len(_lines(platform_worker_process, "recorded:", submission.pk)) == 1
    client = redis.Redis.from_url(services["redis"])
    # acknowledged after the result went out: nothing waits in the queue or for a redelivery
    assert client.llen("cpu") == 0
    assert client.hlen("unacked") == 0
    time.sleep(1.0)
    assert len(_lines(platform_worker_process, "recorded:", submission.pk)) == 1
    assert "repeated delivery" not in platform_worker_process.output()
