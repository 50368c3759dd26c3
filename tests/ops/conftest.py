"""Operations tests use the in-memory event store and fast password hashing, like the grading tests."""

from collections.abc import Iterator

import pytest

from huashen.grading.eventlog import MemoryEventLog, memory_event_log


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def memory_events(settings) -> Iterator[MemoryEventLog]:
    settings.REDIS_URL = ""
    store = memory_event_log()
    store.clear()
    yield store
    store.clear()
