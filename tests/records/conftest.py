from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from huashen.grading import dispatch
from tests.conftest import SentRequests


@pytest.fixture(autouse=True)
def _records_settings(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """No grader to send to, and room for many submissions."""
    settings.SUBMISSIONS_PER_MINUTE = 1000
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


@pytest.fixture(scope="session", autouse=True)
def _english_catalog_is_compiled() -> None:
    """The .mo files are build outputs (git-ignored): compile the English catalog when it is missing."""
    mo = Path(django_settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.mo"
    if not mo.exists():
        call_command("compilemessages", locale=["en"], verbosity=0)
