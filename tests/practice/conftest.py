"""Fixtures for the practice tests: clients per persona, a dispatch that sends nothing, helpers to pass a
trial and to give a trial a reference solution on disk."""

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from rest_framework.test import APIClient

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise, ExerciseVersion
from huashen.grading import dispatch
from huashen.grading.models import Mode, Submission
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.conftest import SentRequests
from workers.protocol import GradeResult
from workers.protocol import Verdict as WireVerdict

REFERENCE = "def answer():\n    return 42\n"
OTHER_WAY = "answer = lambda: 42\n"


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())


@pytest.fixture(scope="session", autouse=True)
def _english_catalog_is_compiled() -> None:
    """The .mo files are build outputs (git-ignored): compile the English catalog when it is missing."""
    mo = Path(django_settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.mo"
    if not mo.exists():
        call_command("compilemessages", locale=["en"], verbosity=0)


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client signed in (by session) as the given user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


def finish(
    submission: Submission, verdict: WireVerdict = WireVerdict.PASSED, score: float = 100.0
) -> Submission:
    return submission_record_result(
        result=GradeResult(submission_id=submission.pk, verdict=verdict, score=score, checks=[], device="cpu")
    )


def pass_trial(user: User, exercise: Exercise) -> Submission:
    submission = submission_create(user=user, exercise=exercise, code="print(1)\n", mode=Mode.SUBMIT)
    return finish(submission)


@pytest.fixture
def bundle_with_reference(tmp_path: Path, settings) -> Callable[[Exercise], Path]:
    """Give a trial a bundle folder under a temporary EXERCISES_DIR, its reference files recorded in a
    new current version (as `sync_exercises` would)."""
    settings.EXERCISES_DIR = tmp_path

    def make(exercise: Exercise) -> Path:
        folder = tmp_path / "01-realm" / "01-trial"
        (folder / "reference").mkdir(parents=True)
        (folder / "exercise.toml").write_text(f'slug = "{exercise.slug}"\n', encoding="utf-8")
        (folder / "reference" / "solution.py").write_text(REFERENCE, encoding="utf-8")
        (folder / "reference" / "another_way.py").write_text(OTHER_WAY, encoding="utf-8")
        files = {
            f"reference/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()
            for path in (folder / "reference").glob("*.py")
        }
        current = exercise.current_version
        assert current is not None
        version = ExerciseVersion.objects.create(
            exercise=exercise,
            number=current.number + 1,
            content_hash="f" * 64,
            title_zh=current.title_zh,
            title_en=current.title_en,
            statement_zh=current.statement_zh,
            statement_en=current.statement_en,
            hints=current.hints,
            starter_code=current.starter_code,
            limits=current.limits,
            files=files,
        )
        exercise.current_version = version
        exercise.save(update_fields=["current_version"])
        return folder

    return make
