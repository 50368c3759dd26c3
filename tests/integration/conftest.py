"""Real worker processes for the integration tests: a platform worker and a grader worker.

These tests consume the `cpu` and `platform` queues of the shared Redis, so `make test` runs them (and
tests/security) in a second, serial pytest run: two tests never race for the same messages.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from django.db import connection

from exercises.kit.weights import DEFAULT_TORCH_HOME, ensure_resnet18
from huashen.grading.models import Status, Submission
from workers.protocol import HEARTBEAT_KEY_PREFIX

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


def _celery(app: str, queue: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queue, "--concurrency", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]  # fmt: skip


def worker_database_url() -> str:
    """The test database pytest-django set up, as a DATABASE_URL for another process."""
    database = connection.settings_dict
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_web_server(
    services: dict, log: Path, *, secret_key: str, extra_env: dict[str, str] | None = None
) -> tuple[WorkerProcess, str]:
    """One daphne on a free port, on the test database and the test Redis (grading through Celery);
    returns the process and its `127.0.0.1:PORT`. Servers given one secret key share sessions."""
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": services["redis"],
        "HUASHEN_EXECUTOR": "celery",
        "DEBUG": "0",
        "SECRET_KEY": secret_key,
        "SECURE_COOKIES": "0",  # plain http on loopback
        "SUBMISSIONS_PER_MINUTE": "1000",
        **(extra_env or {}),
    }
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "huashen.asgi:application"]
    return WorkerProcess(argv, env, log), f"127.0.0.1:{port}"


def wait_for_200(url: str, web: WorkerProcess, timeout: float = 90) -> None:
    """Until `url` answers 200 (or the server process dies, or the time is up: then fail with its log)."""
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline and web.process.poll() is None:
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:300]}"
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered 200 ({last}):\n{web.output()[-4000:]}")


def start_platform_worker(services: dict, log: Path) -> WorkerProcess:
    """The platform worker (records results) on the test database."""
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": services["redis"],
    }
    redis.Redis.from_url(services["redis"]).delete("platform")
    return WorkerProcess([*_celery("huashen", "platform"), "-P", "solo"], env, log)


@pytest.fixture
def platform_worker_process(
    services: dict, transactional_db: None, tmp_path: Path
) -> Iterator[WorkerProcess]:
    """The platform worker (records results) on this test's database."""
    worker = start_platform_worker(services, tmp_path / "platform-worker.log")
    yield worker
    worker.stop()


def start_grader(
    services: dict, exercises_dir: Path, log: Path, *, extra_env: dict[str, str] | None = None
) -> WorkerProcess:
    """A grader worker on the cpu queue: no database credentials at all, only Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE", "POSTGRES", "PG", "SECRET", "DJANGO"))
    }
    env |= {
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": services["redis"],
        "HUASHEN_EXERCISES_DIR": str(exercises_dir),
        "TORCH_HOME": str(ensure_resnet18(DEFAULT_TORCH_HOME).parents[2]),  # realm 4's pretrained weights
        **(extra_env or {}),
    }
    client = redis.Redis.from_url(services["redis"])
    client.delete("cpu")
    for key in client.scan_iter(HEARTBEAT_KEY_PREFIX + "*"):
        client.delete(key)
    name = f"grader-{uuid.uuid4().hex[:8]}@test"
    worker = WorkerProcess([*_celery("workers.celery_app", "cpu"), "-P", "prefork", "-n", name], env, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if client.exists(HEARTBEAT_KEY_PREFIX + name):  # this worker's own heartbeat: its self-test passed
            return worker
        if worker.process.poll() is not None:
            break
        time.sleep(0.2)
    worker.stop()
    raise AssertionError(f"the grader worker did not come up:\n{worker.output()[-5000:]}")


@pytest.fixture
def grader_for(services: dict, tmp_path: Path) -> Iterator:
    """`grader_for(exercises_dir)` starts a grader worker process on that curriculum."""
    workers: list[WorkerProcess] = []

    def start(exercises_dir: Path, **kwargs: object) -> WorkerProcess:
        worker = start_grader(services, exercises_dir, tmp_path / f"grader-{len(workers)}.log", **kwargs)  # type: ignore[arg-type]
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for_result(submission: Submission, *workers: WorkerProcess, timeout: float = 120) -> Submission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.status == Status.DONE:
            return submission
        for worker in workers:
            assert worker.process.poll() is None, f"a worker died:\n{worker.output()[-5000:]}"
        time.sleep(0.1)
    logs = "\n".join(worker.output()[-4000:] for worker in workers)
    raise AssertionError(f"submission {submission.pk} got no result in {timeout}s:\n{logs}")


def result_summary(submission: Submission) -> str:
    return json.dumps(
        {"verdict": submission.verdict, "score": submission.score, "checks": submission.checks,
         "traceback": submission.traceback[-2000:]},
        ensure_ascii=False, indent=1,
    )  # fmt: skip
