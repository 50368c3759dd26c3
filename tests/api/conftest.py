"""Fixtures for the API tests: a DRF test client per persona, and a dispatch that sends nothing."""

from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from huashen.accounts.models import User
from huashen.grading import dispatch
from tests.conftest import SentRequests


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list:
    """GradeRequests that would have gone to a broker; nothing leaves the process."""
    requests = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", requests)
    return requests


@pytest.fixture
def api() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """A client signed in (by session) as the given user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_handshake_caches() -> Iterator[None]:
    from tests.sockets import forget_handshakes

    forget_handshakes()
    yield
    forget_handshakes()
