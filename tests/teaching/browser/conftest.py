"""The teaching browser tests run on the shared browser stack of tests/browser (daphne, a platform worker
and a grader on this run's PostgreSQL and Redis, Debian's Chromium), started again for this package."""

import pytest

from tests.browser.conftest import (  # noqa: F401  (fixtures and the report hook, shared as they are)
    browse,
    browser,
    curriculum,
    pytest_runtest_makereport,
    stack,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """Real password hashing here: the daphne process checks these passwords with its own hashers."""
