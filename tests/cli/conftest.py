"""The `huashen` client run as a subprocess (bin/huashen), against a live daphne on the test database."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import WorkerProcess, worker_database_url

ROOT = Path(__file__).resolve().parents[2]
HUASHEN = ROOT / "bin" / "huashen"


@dataclass
class Run:
    code: int
    out: str
    err: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh home for the client's config file, and a working directory for starter files."""
    path = tmp_path / "home"
    (path / "work").mkdir(parents=True)
    return path


@pytest.fixture
def huashen(home: Path) -> Callable[..., Run]:
    """`huashen(*args, stdin=None, env=None)`: run the client and capture what it printed."""

    def run(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
    ) -> Run:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE", "REDIS", "DJANGO", "HUASHEN", "NO_COLOR"))
        }
        environment |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "HUASHEN_LANG": "en"}
        environment |= env or {}
        done = subprocess.run(
            [str(HUASHEN), *args],
            cwd=home / "work",
            env=environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


def start_web(services: dict, log: Path) -> tuple[WorkerProcess, str]:
    """One daphne on a free port, on this test's database and the test Redis (graders on Celery)."""
    port = _free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": services["redis"],
        "HUASHEN_EXECUTOR": "celery",
        "DEBUG": "0",
        "SECRET_KEY": "cli-tests-" + "x" * 40,
        "SECURE_COOKIES": "0",
        "SUBMISSIONS_PER_MINUTE": "1000",
    }
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "huashen.asgi:application"]
    return WorkerProcess(argv, env, log), f"http://127.0.0.1:{port}"


def wait_alive(server: str, web: WorkerProcess, timeout: float = 90) -> None:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline and web.process.poll() is None:
        try:
            if httpx.get(f"{server}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.2)
    raise AssertionError(f"the web server never answered ({last}):\n{web.output()[-4000:]}")


@pytest.fixture
def daphne_server(services: dict, transactional_db: None, tmp_path: Path) -> Iterator[str]:
    web, server = start_web(services, tmp_path / "web.log")
    try:
        wait_alive(server, web)
        yield server
    finally:
        web.stop()
