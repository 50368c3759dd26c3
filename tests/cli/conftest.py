"""The `huashen` client run as a subprocess (bin/huashen), against a live daphne on the test database."""

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import start_web_server, wait_for_200

ROOT = Path(__file__).resolve().parents[2]
HUASHEN = ROOT / "bin" / "huashen"


@dataclass
class Run:
    code: int
    out: str
    err: str


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


@pytest.fixture
def daphne_server(services: dict, transactional_db: None, tmp_path: Path) -> Iterator[str]:
    web, host = start_web_server(services, tmp_path / "web.log", secret_key="cli-tests-" + "x" * 40)
    try:
        wait_for_200(f"http://{host}/healthz", web)
        yield f"http://{host}"
    finally:
        web.stop()
