"""Grading unit tests use the in-memory event store, even when `make test` has put REDIS_URL in the
environment: database ids repeat across rolled-back tests and xdist workers, a shared Redis would mix them."""

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import timezone


class Clock:
    """A wall clock a test moves by hand: `django.utils.timezone.now` (so `auto_now_add` too) reads it."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Time stands still until the test moves it, so "59 s later" is exactly 59 s later."""
    fixed = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


@pytest.fixture(autouse=True)
def _fresh_handshake_caches() -> Iterator[None]:
    from tests.sockets import forget_handshakes

    forget_handshakes()
    yield
    forget_handshakes()
