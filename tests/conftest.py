"""Shared fixtures: the personas every permission test uses, and a small curriculum to submit to.

Personas (after healthchecks' alice/bob/charlie):
- alice, bob: students in cohort "A"
- carol: instructor of cohort "A"
- dave: instructor of cohort "B" (not theirs)
- erin: admin
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from exercises.kit import report as _kit_report
from huashen.accounts.models import Cohort, Role, User
from huashen.accounts.services import cohort_create, cohort_join, user_create
from tests.factories import make_curriculum

# The kit's event channel writes to fd 3 and makes it non-blocking: inside the sandbox fd 3 is the grader's
# pipe. In a test process fd 3 belongs to someone else (a pytest-xdist worker reads its controller's commands
# there, and O_NONBLOCK set on it turns the worker's next idle read into an error that ends the worker), so
# kit code run in-process (the instruments, report) never uses it. Tests of the channel patch `send` itself.
_kit_report._channel.usable = False


class SentRequests(list):
    """Stands in for `dispatch.send_grade_request`: the GradeRequests that would have gone to a broker, in
    order (nothing leaves the process), and the options each was sent with (priority, to_front)."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[dict] = []

    def __call__(self, request, **options) -> None:
        self.append(request)
        self.options.append(options)


@pytest.fixture
def sent_requests(monkeypatch: pytest.MonkeyPatch) -> SentRequests:
    """Dispatch hands requests to a SentRequests instead of a broker or the local executor."""
    from huashen.grading import dispatch

    stand_in = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", stand_in)
    return stand_in


# Said once here rather than in each folder's conftest: the test folders (first part of the path under tests/)
# whose tests hash the personas' passwords with MD5 (PBKDF2 costs a second per test, and it is not what they
# test; servers in other processes would not accept it, so browser and integration folders keep the real
# hasher) and whose tests use the in-memory event store (database ids repeat across rolled-back tests and
# xdist workers: a shared Redis would mix their streams).
FAST_PASSWORD_HASHING = {
    "api",
    "api_fuzz",
    "coach",
    "grading",
    "lti",
    "ops",
    "practice",
    "records",
    "teaching",
    "web",
}
IN_MEMORY_EVENTS = {"grading", "ops", "teaching"}
TESTS_DIR = Path(__file__).resolve().parent


def _test_folder(request: pytest.FixtureRequest) -> str:
    parts = Path(str(request.node.path)).resolve().relative_to(TESTS_DIR).parts
    return parts[0] if len(parts) > 1 else ""


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    if _test_folder(request) in FAST_PASSWORD_HASHING:
        request.getfixturevalue("settings").PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher"
        ]


@pytest.fixture
def memory_events(settings):
    """The in-memory event store, empty, with REDIS_URL cleared so nothing reaches a shared Redis."""
    from huashen.grading.eventlog import memory_event_log

    settings.REDIS_URL = ""
    store = memory_event_log()
    store.clear()
    yield store
    store.clear()


@pytest.fixture(autouse=True)
def _in_memory_events(request: pytest.FixtureRequest) -> None:
    if _test_folder(request) in IN_MEMORY_EVENTS:
        request.getfixturevalue("memory_events")


def pytest_report_header(config: pytest.Config) -> list[str]:
    database_url = os.environ.get("DATABASE_URL", "")
    vendor = "postgresql" if database_url.startswith("postgres") else "sqlite (embedded default)"
    redis_url = os.environ.get("REDIS_URL") or "none (in-memory channel layer)"
    return [f"huashen: database vendor {vendor}; redis {redis_url}"]


@pytest.fixture(autouse=True)
def _similarity_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Submit's similarity comparison runs in the test's own process, never through a broker, even
    when REDIS_URL makes Celery the executor: nothing a test submits is left on the platform queue."""
    from huashen.similarity import dispatch

    monkeypatch.setattr(dispatch, "send_to_broker", dispatch.run_here)


@pytest.fixture(autouse=True)
def _coach_deadline_beyond_a_loaded_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The coach's 0.5 s analysis deadline bounds hostile input in a web process; a test asks what the
    analysis finds, and a test machine busy with parallel workers must not end it early (a reference
    solution was once reported incomplete). The deadline itself is tested with explicit values."""
    from huashen.coach import analysis

    monkeypatch.setattr(analysis, "DEFAULT_DEADLINE_SECONDS", 60.0)


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in the default language: a test that activated English (on this thread, which
    the next test shares) must not turn the next test's Chinese messages English."""
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _database_vendor_is_recorded(request: pytest.FixtureRequest) -> None:
    """Record the database a test really used (it travels back from xdist workers in the report)."""
    uses_database = {"db", "transactional_db"} & set(request.fixturenames)
    if uses_database or request.node.get_closest_marker("django_db"):
        request.node.user_properties.append(("database", connection.vendor))


_SESSION_STARTED = time.monotonic()

# The outcomes `make test` counts for its closing line, as pytest's terminal reporter names them.
_OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def _write_phase_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where `HUASHEN_TEST_SUMMARY` names a file, write this run's counts and wall time to it as JSON
    (`scripts/test_summary.py` prints them as the one line that ends `make test`)."""
    target = os.environ.get("HUASHEN_TEST_SUMMARY")
    if not target:
        return
    counts: dict[str, float] = {  # counted as pytest's own closing line counts them
        outcome: sum(
            1
            for report in terminalreporter.stats.get(outcome, [])
            if getattr(report, "count_towards_summary", True)
        )
        for outcome in _OUTCOMES
    }
    counts["seconds"] = round(time.monotonic() - _SESSION_STARTED, 1)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(json.dumps(counts), encoding="utf-8")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _write_phase_summary(terminalreporter)
    seen: dict[str, int] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", []):
                if key == "database" and getattr(report, "when", "") == "call":
                    seen[value] = seen.get(value, 0) + 1
    for database, count in sorted(seen.items()):
        terminalreporter.write_line(f"huashen: {count} database tests ran against {database}")


PASSWORD = "correct horse battery staple 42"


@dataclass
class Personas:
    alice: User
    bob: User
    carol: User
    dave: User
    erin: User
    cohort_a: Cohort
    cohort_b: Cohort

    def all(self) -> dict[str, User]:
        return {name: getattr(self, name) for name in ("alice", "bob", "carol", "dave", "erin")}


@pytest.fixture
def personas(db: None) -> Personas:
    alice = user_create(username="alice", password=PASSWORD)
    bob = user_create(username="bob", password=PASSWORD)
    carol = user_create(username="carol", password=PASSWORD, role=Role.INSTRUCTOR)
    dave = user_create(username="dave", password=PASSWORD, role=Role.INSTRUCTOR)
    erin = user_create(username="erin", password=PASSWORD, role=Role.ADMIN)
    cohort_a = cohort_create(name="A", instructor=carol)
    cohort_b = cohort_create(name="B", instructor=dave)
    for student in (alice, bob):
        cohort_join(student=student, join_code=cohort_a.join_code)
    return Personas(alice, bob, carol, dave, erin, cohort_a, cohort_b)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Integration tests need the real services that `make test` starts; without them they fail, loudly."""
    for item in items:
        if "tests/integration/" in item.nodeid or "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def services() -> dict[str, str]:
    """The real PostgreSQL and Redis URLs. Missing services are an error here, never a skip."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.fail(f"integration tests need {', '.join(missing)}: run them through `make test`")
    return {"database": os.environ["DATABASE_URL"], "redis": os.environ["REDIS_URL"]}


@pytest.fixture
def curriculum(db: None) -> dict[str, object]:
    return make_curriculum()


@pytest.fixture(autouse=True)
def _no_reference_runs_at_sync_nor_kept_curves(settings) -> None:
    """A sync in a test queues no reference run on the test's graders, and cohort curves are computed on
    every request: a test's passed runs commit inside its transaction, where the curve cache is never told
    (tests/curves/test_reference_runs.py turns both on)."""
    settings.REFERENCE_RUNS_AT_SYNC = False
    settings.COHORT_CURVE_CACHE_SECONDS = 0
