"""The distributed shape, started by the tests themselves, driven through Debian's Chromium.

The browser tests share one stack: daphne serving `huashen.asgi:application` on a free port (with a
copy of the Vite bundle taken at the start), a platform worker and a Celery grader worker (bwrap):
separate processes on this run's PostgreSQL test database and Redis. Each test has its own data (`transactional_db`: flushed after it) with the real curriculum synced
from exercises/. One Chromium serves them all; each test gets fresh browser contexts (no shared cookies).

Both live for this package only: Playwright's sync API registers a running event loop on the main
thread for as long as it is started, so it is stopped before the integration tests that follow in the
same serial run, and while it runs Django is told that its synchronous queries here are meant
(DJANGO_ALLOW_ASYNC_UNSAFE: nothing in these tests shares that loop).

Every page a test opens fails the test on a console error or an uncaught exception. Screenshots go to
var/test-artifacts/browser/.
"""

import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from huashen.curriculum.services import exercises_sync
from tests.integration.conftest import WorkerProcess, start_grader, start_platform_worker, worker_database_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "browser"
FRONTEND_DIST = ROOT / "frontend" / "dist"
TRIAL_SCRIPT = Path("frontend") / "trial.js"  # in the bundle
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    url: str
    redis_url: str
    web: WorkerProcess
    platform: WorkerProcess
    grader: WorkerProcess
    frontend: Path  # the copy of the Vite bundle daphne serves

    def alive(self) -> None:
        for name, process in (
            ("daphne", self.web),
            ("platform worker", self.platform),
            ("grader", self.grader),
        ):
            assert process.process.poll() is None, f"the {name} died:\n{process.output()[-5000:]}"

    def tails(self) -> str:
        parts = []
        for name, process in (
            ("daphne", self.web),
            ("platform worker", self.platform),
            ("grader", self.grader),
        ):
            parts.append(f"--- {name} ({process.log}) ---\n{process.output()[-3000:]}")
        return "\n".join(parts)


def _snapshot_frontend(target: Path) -> Path:
    """A copy of frontend/dist as it is now, for daphne to serve: a rebuild while the tests run (a watch
    build, another checkout's `make frontend`) must not swap files under a page that is loading them.
    A copy taken while a build was writing is taken again."""
    for _ in range(20):
        shutil.rmtree(target, ignore_errors=True)
        if FRONTEND_DIST.is_dir():
            shutil.copytree(FRONTEND_DIST, target)
            copied = {
                path.relative_to(target): path.stat().st_size for path in target.rglob("*") if path.is_file()
            }
            source = {
                path.relative_to(FRONTEND_DIST): path.stat().st_size
                for path in FRONTEND_DIST.rglob("*")
                if path.is_file()
            }
            if copied == source and TRIAL_SCRIPT in copied:
                return target
        time.sleep(0.5)
    target.mkdir(parents=True, exist_ok=True)
    return target  # incomplete: the tests that need the trial page fail, naming `make frontend`


def _start_daphne(redis_url: str, database_url: str, frontend: Path, log: Path) -> tuple[WorkerProcess, str]:
    port = _free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HUASHEN_EXECUTOR": "celery",
        "HUASHEN_FRONTEND_DIST": str(frontend),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
    }
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "huashen.asgi:application"]
    return WorkerProcess(argv, env, log), f"http://127.0.0.1:{port}"


def _wait_ready(url: str, web: WorkerProcess, timeout: float = 90) -> None:
    """/readyz answers 200 once the database, Redis and a grader's heartbeat are all there."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            break
        try:
            response = httpx.get(f"{url}/readyz", timeout=5)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:500]}"
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.2)
    raise AssertionError(f"daphne never got ready ({last}):\n{web.output()[-5000:]}")


@pytest.fixture(scope="package")
def stack(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"browser tests need {', '.join(missing)}: run them through `make test` or `make test-browser`"
        )
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail("browser tests share the Redis queues with their workers: run them in one process")
    services = {"database": os.environ["DATABASE_URL"], "redis": os.environ["REDIS_URL"]}
    # Submission ids restart with every test database, and a finished submission's event stream outlives
    # it in Redis for a while: a stream left by an earlier run would be replayed as this run's.
    redis.Redis.from_url(services["redis"]).flushdb()
    logs = tmp_path_factory.mktemp("stack")
    started: list[WorkerProcess] = []
    try:
        database_url = worker_database_url()
        platform = start_platform_worker(services, logs / "platform-worker.log")
        started.append(platform)
        grader = start_grader(services, ROOT / "exercises", logs / "grader.log")
        started.append(grader)
        frontend = _snapshot_frontend(logs / "frontend-dist")
        web, url = _start_daphne(services["redis"], database_url, frontend, logs / "daphne.log")
        started.append(web)
        _wait_ready(url, web)
        yield Stack(
            url=url, redis_url=services["redis"], web=web, platform=platform, grader=grader, frontend=frontend
        )
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture
def curriculum(transactional_db: None) -> None:
    """The real curriculum, synced into this test's (empty) database."""
    result = exercises_sync()
    assert result.ok, result.errors


@pytest.fixture
def trial_script(stack: Stack) -> Path:
    """The trial page's island, built by Vite; without it the editor never appears."""
    if not (stack.frontend / TRIAL_SCRIPT).is_file():
        pytest.fail(f"frontend/dist/{TRIAL_SCRIPT} is missing: build the front end first (`make frontend`)")
    return stack.frontend / TRIAL_SCRIPT


# --- the browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser(stack: Stack) -> Iterator[Browser]:
    """After the stack: none of its processes may inherit DJANGO_ALLOW_ASYNC_UNSAFE."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        # Waiting, not timing: a page reacts within seconds, but on a loaded 2-core machine a sandboxed
        # job (which imports torch first) can take longer than Playwright's 5 s default to print.
        expect.set_options(timeout=30_000)
        yield chromium
        chromium.close()


class ConsoleWatch:
    """Console errors and uncaught exceptions of every page a test opens; `allow` names expected ones."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def attach(self, page: Page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: uncaught {error}"))

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{page.url}: {message.text} @ {message.location}")

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(p.search(error) for p in self.allowed)]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@dataclass
class Browse:
    """A test's way into the browser: fresh contexts on the stack, each page watched for errors."""

    browser: Browser
    stack: Stack
    console: ConsoleWatch
    contexts: list[BrowserContext] = field(default_factory=list)

    def new_page(
        self, *, width: int = 1280, height: int = 900, timezone_id: str | None = None, phone: bool = False
    ) -> Page:
        """A page in a fresh context; `phone` emulates a touch screen (touch events, a mobile viewport)."""
        context = self.browser.new_context(
            base_url=self.stack.url,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            **({"timezone_id": timezone_id} if timezone_id else {}),
            **({"has_touch": True, "is_mobile": True} if phone else {}),
        )
        context.set_default_timeout(30_000)
        self.contexts.append(context)
        page = context.new_page()
        self.console.attach(page)
        return page


@pytest.fixture
def browse(
    stack: Stack, browser: Browser, curriculum: None, request: pytest.FixtureRequest
) -> Iterator[Browse]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stack.alive()
    session = Browse(browser, stack, ConsoleWatch())
    yield session
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        for index, context in enumerate(session.contexts):
            for number, page in enumerate(context.pages):
                name = re.sub(r"[^\w.-]+", "_", request.node.name)  # parametrized ids may hold slashes
                path = ARTIFACTS / f"FAILED-{name}-{index}-{number}.png"
                page.screenshot(path=path, full_page=True)
                print(f"screenshot of the failure: {path}")
                SCREENSHOTS.append(path)
        print(stack.tails())
    for context in session.contexts:
        context.close()
    unexpected = session.console.unexpected()
    assert not unexpected, "console errors:\n" + "\n".join(unexpected)
    stack.alive()


SCREENSHOTS: list[Path] = []


def screenshot(page: Page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")
    SCREENSHOTS.append(path)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS:
        terminalreporter.write_line(f"browser screenshots ({len(SCREENSHOTS)}) in {ARTIFACTS}:")
        for path in SCREENSHOTS:
            terminalreporter.write_line(f"  {path.name}")
