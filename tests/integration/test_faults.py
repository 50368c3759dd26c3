"""Faults on the distributed shape, with real processes: PostgreSQL stopped, Redis restarted, a broker
outage at submission, a duplicate delivery, a grader killed outright. Each test asserts no submission
lost, none graded twice, no 5xx without Retry-After, and recovery within a stated bound.

Limits are lowered through settings, not sleeps: a 3 s claim lease, a 1 s outbox sweep (beat runs in the
platform worker as in production), a 5 s patience per delivery of a result. Each test prints its figures
(`pytest -s`): submitted, lost, graded twice, recovery seconds.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient

from huashen.celery import app as platform_app
from huashen.curriculum.models import Exercise
from huashen.curriculum.services import exercises_sync
from huashen.grading.dispatch import grade_request_for
from huashen.grading.models import ExerciseProgress, Status, Submission
from huashen.grading.services import submission_create
from tests.conftest import Personas
from tests.integration.conftest import ROOT, WorkerProcess, start_grader, worker_database_url
from workers.protocol import GRADE_TASK

FIXTURES = ROOT / "tests" / "fixtures" / "grading"
LEASE_SECONDS = 3
SWEEP_SECONDS = 1
FAST = {
    "GRADING_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    "GRADING_DISPATCH_SWEEP_SECONDS": str(SWEEP_SECONDS),
    "GRADING_RECORD_PATIENCE_SECONDS": "5",
    "GRADING_OUTAGE_PATIENCE_SECONDS": "60",
}
# Passes after about a second in the sandbox: long enough to be caught mid-run.
CODE = "import time\n\ndef answer():\n    time.sleep(1.5)\n    return 1729\n"


def _services_dir() -> Path:
    directory = os.environ.get("HUASHEN_SERVICES_DIR")
    if not directory:
        pytest.fail(
            "fault tests need HUASHEN_SERVICES_DIR (scripts/services.sh): run them through `make test`"
        )
    return Path(directory)


def _ctl(service: str, action: str) -> None:
    subprocess.run([str(_services_dir() / f"{service}-ctl"), action], check=True, timeout=60)


@pytest.fixture(autouse=True)
def _no_fault_outlives_its_test(services: dict):
    """A fault test kills workers outright, so messages they held stay in Redis (`unacked`, queues,
    claims, streams) until a visibility timeout far beyond the test. Clear them afterwards so the next
    test starts from an empty broker, as the other integration tests assume; kombu's exchange bindings
    (`_kombu.*`) stay, since live producers route through them."""
    yield
    client = redis.Redis.from_url(services["redis"])
    leftovers = [key for key in client.scan_iter() if not key.startswith(b"_kombu.")]
    if leftovers:
        client.delete(*leftovers)


@pytest.fixture
def probe_trial(transactional_db: None) -> Exercise:
    assert exercises_sync(root=FIXTURES).ok
    return Exercise.objects.get(slug="sandbox-probe")


@pytest.fixture
def platform_worker(services: dict, transactional_db: None, tmp_path: Path):
    """The platform worker with its embedded beat (-B), as deployed, on lowered limits."""
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": services["redis"],
        **FAST,
    }
    redis.Redis.from_url(services["redis"]).delete("platform")
    argv = [sys.executable, "-m", "celery", "-A", "huashen", "worker", "-Q", "platform", "-P", "solo",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
            "-B", "-s", str(tmp_path / "beat-schedule")]  # fmt: skip
    worker = WorkerProcess(argv, env, tmp_path / "platform-worker.log")
    yield worker
    worker.stop()


@pytest.fixture
def graders(services: dict, tmp_path: Path):
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        log = tmp_path / f"grader-{len(started)}.log"
        worker = start_grader(services, FIXTURES, log, extra_env={**FAST, **env})
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.stop()


def _wait(condition, timeout: float, what: str, *workers: WorkerProcess) -> float:
    """Seconds until `condition()` holds; fails with the workers' logs after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    logs = "\n\n".join(worker.output()[-3000:] for worker in workers)
    raise AssertionError(f"{what}: not within {timeout} s\n{logs}")


def _all_done(ids: list[int]) -> bool:
    try:
        return Submission.objects.filter(pk__in=ids, status=Status.DONE).count() == len(ids)
    except Exception:  # the test's own connection to a restarted database
        connection.close()
        return False


def _runs(*workers: WorkerProcess) -> Counter:
    """How many times each submission was actually run (a claim taken and grading begun)."""
    runs: Counter = Counter()
    for worker in workers:
        for line in worker.output().splitlines():
            if '"message": "grading submission ' in line:
                runs[int(line.split('"message": "grading submission ', 1)[1].split(":", 1)[0])] += 1
    return runs


def _report(fault: str, ids: list[int], runs: Counter, recovery: float) -> tuple[int, int]:
    done = Submission.objects.filter(pk__in=ids, status=Status.DONE)
    lost = len(ids) - done.filter(verdict="passed").count()
    twice = sum(1 for submission_id in ids if runs[submission_id] > 1)
    print(
        f"\n[fault] {fault}: submitted {len(ids)}, lost {lost}, graded twice {twice}, recovery {recovery:.1f} s"
    )
    return lost, twice


def _submit(personas: Personas, trial: Exercise, count: int) -> list[int]:
    return [
        submission_create(user=personas.alice, exercise=trial, code=CODE, mode="submit").pk
        for _ in range(count)
    ]


def _assert_counted_once(personas: Personas, trial: Exercise, count: int) -> None:
    assert ExerciseProgress.objects.get(user=personas.alice, exercise=trial).attempts == count


def test_postgresql_stopped_mid_grading_loses_nothing_and_answers_503(
    platform_worker: WorkerProcess, graders, probe_trial: Exercise, personas: Personas
) -> None:
    grader = graders()
    ids = _submit(personas, probe_trial, 4)
    _wait(lambda: "grading submission" in grader.output(), 60, "a run started", grader, platform_worker)
    client = APIClient(raise_request_exception=False)  # a real server answers; it does not re-raise
    client.force_login(personas.bob)
    # when PostgreSQL stops while runs are in flight (their results arrive during the outage)
    _ctl("pg", "stop")
    try:
        time.sleep(2)
        connection.close()
        response = client.post(
            "/api/v1/submissions/", {"exercise": "sandbox-probe", "code": CODE}, format="json"
        )
        # then the API says "come back", never a bare 500
        assert response.status_code == 503 and int(response["Retry-After"]) > 0, response.content
        time.sleep(6)
    finally:
        _ctl("pg", "start")
    connection.close()
    # bound: the results wait on the platform queue and are recorded within seconds of the restart
    recovery = _wait(lambda: _all_done(ids), 90, "every result recorded", grader, platform_worker)
    lost, twice = _report("PostgreSQL stopped 8 s", ids, _runs(grader), recovery)
    assert (lost, twice) == (0, 0)
    assert Submission.objects.filter(user=personas.bob).count() == 0  # the 503 left no row behind
    _assert_counted_once(personas, probe_trial, len(ids))
    assert recovery < 60


def test_redis_restarted_mid_grading_loses_nothing(
    platform_worker: WorkerProcess, graders, probe_trial: Exercise, personas: Personas
) -> None:
    # as deployed, the claim's lease outlasts a short restart (30 s against 3 s; here 3 s against 3 s:
    # a claim that expired meanwhile is taken back by its holder while nobody else claimed it)
    grader = graders()
    ids = _submit(personas, probe_trial, 4)
    _wait(lambda: "grading submission" in grader.output(), 60, "a run started", grader, platform_worker)
    # when Redis (broker, claims, streams) restarts for 3 s with queued and running work
    _ctl("redis", "stop")
    time.sleep(3)
    _ctl("redis", "start")
    recovery = _wait(lambda: _all_done(ids), 120, "every result recorded", grader, platform_worker)
    lost, twice = _report("Redis restarted 3 s (append-only file)", ids, _runs(grader), recovery)
    assert (lost, twice) == (0, 0)
    _assert_counted_once(personas, probe_trial, len(ids))
    assert recovery < 90


def test_a_broker_outage_at_submission_is_201_and_graded_later(
    platform_worker: WorkerProcess, graders, probe_trial: Exercise, personas: Personas
) -> None:
    grader = graders()
    client = APIClient(raise_request_exception=False)
    client.force_login(personas.alice)
    _ctl("redis", "stop")
    try:
        # when a student submits while the broker is away
        response = client.post(
            "/api/v1/submissions/", {"exercise": "sandbox-probe", "code": CODE}, format="json"
        )
    finally:
        _ctl("redis", "start")
    # then the API says queued, and the outbox sweep hands it over once the broker is back
    assert response.status_code == 201, response.content
    ids = [response.json()["id"]]
    recovery = _wait(lambda: _all_done(ids), 90, "the waiting submission graded", grader, platform_worker)
    lost, twice = _report("broker down at submission", ids, _runs(grader), recovery)
    assert (lost, twice) == (0, 0)
    assert recovery < 60


def test_a_duplicate_delivery_is_not_graded_twice(
    platform_worker: WorkerProcess, graders, probe_trial: Exercise, personas: Personas
) -> None:
    first, second = graders(), graders()
    ids = _submit(personas, probe_trial, 1)
    _wait(
        lambda: "grading submission" in first.output() + second.output(), 60, "the run started", first, second
    )
    # when a copy of the running request arrives (the broker restored an unacknowledged task)
    request = grade_request_for(Submission.objects.select_related("exercise", "version").get(pk=ids[0]))
    platform_app.send_task(GRADE_TASK, args=[request.to_wire()], queue="cpu")
    recovery = _wait(lambda: _all_done(ids), 60, "the result recorded", first, second, platform_worker)
    _wait(
        lambda: "without running it" in first.output() + second.output(),
        30,
        "the copy acknowledged",
        first,
        second,
    )
    lost, twice = _report("duplicate delivery while running", ids, _runs(first, second), recovery)
    assert (lost, twice) == (0, 0)
    _assert_counted_once(personas, probe_trial, 1)


def test_a_grader_killed_outright_has_its_run_sent_again_within_the_lease(
    platform_worker: WorkerProcess, graders, probe_trial: Exercise, personas: Personas
) -> None:
    first, second = graders(), graders()
    ids = _submit(personas, probe_trial, 1)
    _wait(
        lambda: "grading submission" in first.output() + second.output(), 60, "the run started", first, second
    )
    victim = first if "grading submission" in first.output() else second
    # when the grader running it dies at once, main process and pool (a lost machine)
    children = Path(f"/proc/{victim.process.pid}/task/{victim.process.pid}/children").read_text().split()
    killed_at = time.monotonic()
    for pid in [victim.process.pid, *map(int, children)]:
        os.kill(pid, signal.SIGKILL)
    # then its claim runs out, the sweep sends the submission again and the other grader grades it once;
    # bound: lease + sweep + one run + slack, far below the broker's visibility timeout
    _wait(lambda: _all_done(ids), 60, "the run sent again and graded", first, second, platform_worker)
    recovery = time.monotonic() - killed_at
    survivor = second if victim is first else first
    # the killed run never finished: "twice" counts the survivor's runs, which must be one
    lost, twice = _report("grader killed -9 mid-run", ids, _runs(survivor), recovery)
    assert (lost, twice) == (0, 0)
    assert Submission.objects.get(pk=ids[0]).recoveries == 1
    _assert_counted_once(personas, probe_trial, 1)
    assert recovery < 45


def test_the_platform_worker_killed_mid_stream_loses_nothing(
    services: dict, graders, probe_trial: Exercise, personas: Personas, tmp_path: Path
) -> None:
    # the platform worker's visibility timeout lowered (hard limit 10 s + 60): a result it held unacked
    # when it died comes back after that, not after the production 16 minutes
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": services["redis"],
        **FAST,
        "GRADING_HARD_LIMIT_SECONDS": "10",
    }
    redis.Redis.from_url(services["redis"]).delete("platform")

    def platform(name: str) -> WorkerProcess:
        argv = [sys.executable, "-m", "celery", "-A", "huashen", "worker", "-Q", "platform", "-P", "solo",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
                "-B", "-s", str(tmp_path / f"{name}-schedule")]  # fmt: skip
        return WorkerProcess(argv, env, tmp_path / f"{name}.log")

    grader = graders()
    first = platform("platform-1")
    ids = _submit(personas, probe_trial, 4)
    _wait(
        lambda: Submission.objects.filter(pk__in=ids, status=Status.DONE).exists(),
        60,
        "a result",
        first,
        grader,
    )
    # when the platform worker is killed outright mid-stream, and a new one started
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    killed_at = time.monotonic()
    second = platform("platform-2")
    try:
        _wait(lambda: _all_done(ids), 150, "every result recorded", second, grader)
        recovery = time.monotonic() - killed_at
    finally:
        second.stop()
        first._log_file.close()
    # then nothing is lost or counted twice (bound: the lowered visibility timeout, 70 s, plus slack)
    lost, twice = _report("platform worker killed -9", ids, _runs(grader), recovery)
    assert (lost, twice) == (0, 0)
    _assert_counted_once(personas, probe_trial, len(ids))
    assert recovery < 120
