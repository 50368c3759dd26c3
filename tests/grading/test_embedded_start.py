"""The embedded grader of `make run`: confined with the warm pool where the process can confine runs
(started with the server, so a newcomer's first Submit finds it warm), rlimits only and said so otherwise."""

import logging

import pytest

from huashen.grading import embedded
from workers import local
from workers.grader import Grader


@pytest.fixture
def pool_starts(monkeypatch: pytest.MonkeyPatch) -> list[Grader]:
    """Graders whose warm pool was asked to start (nothing is started, nor the warm checker)."""
    started: list[Grader] = []
    monkeypatch.setattr(Grader, "warm_pool", lambda self, wait=False: started.append(self))
    monkeypatch.setattr(Grader, "warm_checker", lambda self: None)
    return started


def test_a_confined_executor_requires_cgroups_and_starts_its_warm_pool_at_once(
    pool_starts: list[Grader], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="workers.local"):
        executor = local.LocalExecutor(1, confine=True)
    try:
        assert executor.grader.require_cgroups is True
        assert pool_starts == [executor.grader]
        assert "EMBEDDED GRADING, CONFINED" in caplog.text
    finally:
        executor.shutdown(wait=False)


def test_an_unconfined_executor_says_rlimits_only_and_why(
    pool_starts: list[Grader], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "confinement_possible", lambda: "the warm pool needs a root grader")
    with caplog.at_level(logging.WARNING, logger="workers.local"):
        executor = local.LocalExecutor(1)
    try:
        assert executor.grader.require_cgroups is False and pool_starts == []
        assert "EMBEDDED GRADING, RLIMITS ONLY (the warm pool needs a root grader)" in caplog.text
    finally:
        executor.shutdown()


@pytest.mark.parametrize(("reason", "confined"), [(None, True), ("not root", False)])
def test_the_platforms_executor_confines_exactly_when_it_can(
    settings, monkeypatch: pytest.MonkeyPatch, pool_starts: list[Grader], reason: str | None, confined: bool
) -> None:
    monkeypatch.setattr(embedded, "_executor", None)
    monkeypatch.setattr(embedded, "confinement_possible", lambda: reason)
    executor = embedded.executor()
    try:
        assert executor.grader.require_cgroups is confined
        assert len(pool_starts) == (1 if confined else 0)
    finally:
        executor.shutdown(wait=False)


@pytest.mark.parametrize(
    ("executor_setting", "start", "made"),
    [("local", True, True), ("local", False, False), ("celery", True, False)],
)
def test_the_server_starts_the_embedded_grader_only_when_asked(
    settings, monkeypatch: pytest.MonkeyPatch, executor_setting: str, start: bool, made: bool
) -> None:
    settings.HUASHEN_EXECUTOR = executor_setting
    settings.LOCAL_GRADER_START = start
    calls: list[int] = []
    monkeypatch.setattr(embedded, "executor", lambda: calls.append(1))
    embedded.start_with_the_server()
    assert calls == ([1] if made else [])


def test_a_confined_executor_starts_its_warm_checker_too(
    pool_starts: list[Grader], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    started = threading.Event()

    class Checker:
        lock = threading.Lock()
        process = None

        def _start(self) -> str:
            started.set()
            return "the checker process"

    checker = Checker()
    monkeypatch.setattr(Grader, "warm_checker", lambda self: checker)
    executor = local.LocalExecutor(1, confine=True)
    try:
        assert started.wait(10)
        with checker.lock:  # held by the starting thread until the process is kept
            assert checker.process == "the checker process"
    finally:
        executor.shutdown(wait=False)
