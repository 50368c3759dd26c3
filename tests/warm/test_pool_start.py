"""The warm pool starts with the grading process, not at its first job."""

import time
from pathlib import Path

import pytest
from celery import signals

from workers import slot
from workers.grader import Grader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "grading"


@pytest.fixture
def fresh_grader(monkeypatch: pytest.MonkeyPatch):
    grader = Grader(exercises_dir=FIXTURES, require_cgroups=True, warm=True)
    monkeypatch.setattr(slot, "_grader", grader)
    yield grader
    grader.close()


def test_a_fresh_grading_process_has_a_warm_zygote_before_its_first_job(fresh_grader: Grader) -> None:
    import workers.celery_app  # noqa: F401  (connects the worker signals)

    assert fresh_grader._pool is None  # nothing started it yet
    # What a prefork child announces as it starts; no job is sent at all.
    signals.worker_process_init.send(sender=None)
    pool = fresh_grader._pool
    assert pool is not None, "the pool did not start with the process"
    deadline = time.monotonic() + 120
    while pool.ready() is None:
        assert time.monotonic() < deadline, pool.problems
        time.sleep(0.1)
    assert pool.verified and pool.zygote is not None and pool.zygote.alive()


def test_with_the_warm_pool_off_the_process_starts_none(monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.celery_app  # noqa: F401

    grader = Grader(exercises_dir=FIXTURES, require_cgroups=True, warm=False)
    monkeypatch.setattr(slot, "_grader", grader)
    signals.worker_process_init.send(sender=None)
    assert grader._pool is None
