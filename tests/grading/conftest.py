"""Grading unit tests use the in-memory event store, even when `make test` has put REDIS_URL in the
environment: database ids repeat across rolled-back tests and xdist workers, a shared Redis would mix them."""

from collections.abc import Iterator

import pytest

from huashen.grading.eventlog import MemoryEventLog, memory_event_log


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Personas hash five passwords; PBKDF2 makes that a second per test, and it is not what these test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def memory_events(settings) -> Iterator[MemoryEventLog]:
    settings.REDIS_URL = ""
    store = memory_event_log()
    store.clear()
    yield store
    store.clear()
