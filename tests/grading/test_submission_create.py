"""submission_create: validation, pinning, locking and dispatch on commit."""

import pytest
from django.conf import settings
from django.test import override_settings

from huashen.curriculum.models import ExerciseVersion
from huashen.errors import DomainError
from huashen.grading import dispatch
from huashen.grading.models import Status, Submission
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from tests.grading.conftest import Clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list:
    requests = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", requests)
    return requests


def test_creates_a_queued_submission_pinned_to_the_current_version(
    personas: Personas, curriculum: dict, sent: list, django_capture_on_commit_callbacks
) -> None:
    exercise = curriculum["r1t1"]
    with django_capture_on_commit_callbacks(execute=True):
        submission = submission_create(user=personas.alice, exercise=exercise, code="x = 1\n", mode="run")
    assert submission.status == Status.QUEUED
    assert submission.version == exercise.current_version
    assert submission.deadline > submission.created_at
    assert len(sent) == 1
    request = sent[0]
    assert (request.submission_id, request.trial, request.mode, request.code) == (
        submission.pk, exercise.slug, "run", "x = 1\n",
    )  # fmt: skip
    assert request.content_hash == exercise.current_version.content_hash
    assert request.limits.wall_seconds == 30


def test_nothing_is_sent_when_the_transaction_rolls_back(
    personas: Personas, curriculum: dict, sent: list, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit")
    assert len(callbacks) == 1 and sent == []  # sent only by the commit hook


def test_a_later_content_change_does_not_move_the_pin(
    personas: Personas, curriculum: dict, sent: list
) -> None:
    exercise = curriculum["r1t1"]
    submission = submission_create(user=personas.alice, exercise=exercise, code="x = 1", mode="submit")
    old = exercise.current_version
    new = ExerciseVersion.objects.create(
        exercise=exercise, number=2, content_hash="new", title_zh="新", title_en="New", statement_zh="s",
        statement_en="s", starter_code="", files={},
    )  # fmt: skip
    exercise.current_version = new
    exercise.save()
    submission.refresh_from_db()
    assert submission.version == old


@pytest.mark.parametrize(
    "code, status, error_code",
    [
        ("x" * (64 * 1024 + 1), 413, "too_large"),
        ("print(1)\x00", 400, "invalid_code"),
        (b"print('\xff')", 400, "invalid_encoding"),
        ("   \n", 400, "empty_code"),
    ],
)
def test_bad_code_is_refused_and_nothing_is_stored(
    personas: Personas, curriculum: dict, sent: list, code: object, status: int, error_code: str
) -> None:
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code=code, mode="submit")  # type: ignore[arg-type]
    assert (caught.value.status, caught.value.code, caught.value.field) == (status, error_code, "code")
    assert Submission.objects.count() == 0


def test_code_of_exactly_the_size_limit_is_accepted_and_one_byte_more_refused(
    personas: Personas, curriculum: dict, sent: list
) -> None:
    # given code of exactly SUBMISSION_MAX_BYTES bytes, and the same code with one byte more
    limit = settings.SUBMISSION_MAX_BYTES
    at_limit = "x = 1\n#" + "#" * (limit - 7)
    assert len(at_limit.encode("utf-8")) == limit
    # when both are submitted
    accepted = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code=at_limit, mode="run")
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code=at_limit + "#", mode="run")
    # then the limit itself is allowed and only the byte past it is refused
    assert accepted.code == at_limit
    assert (caught.value.status, caught.value.code) == (413, "too_large")
    assert f"{limit + 1}" in caught.value.message
    assert Submission.objects.count() == 1


def test_multibyte_code_is_measured_in_bytes(personas: Personas, curriculum: dict, sent: list) -> None:
    with override_settings(SUBMISSION_MAX_BYTES=10):
        submission_create(
            user=personas.alice, exercise=curriculum["r1t1"], code="# 张量", mode="run"
        )  # 8 bytes
        with pytest.raises(DomainError, match="代码太长"):
            submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="# 张量张", mode="run")


def test_unknown_mode(personas: Personas, curriculum: dict, sent: list) -> None:
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="grade-me")
    assert caught.value.field == "mode"


def test_hidden_trials_cannot_be_submitted(personas: Personas, curriculum: dict, sent: list) -> None:
    exercise = curriculum["r1t2"]
    exercise.is_published = False
    exercise.save()
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=exercise, code="x=1", mode="submit")
    assert caught.value.status == 404


def test_locked_realm_is_refused(personas: Personas, curriculum: dict, sent: list) -> None:
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=curriculum["r2t1"], code="x=1", mode="submit")
    assert (caught.value.status, caught.value.code) == (403, "realm_locked")


@override_settings(SUBMISSIONS_PER_MINUTE=3)
def test_rate_limit_per_user_with_retry_after(personas: Personas, curriculum: dict, sent: list) -> None:
    for _ in range(3):
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="run")
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="run")
    assert caught.value.status == 429
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 61
    # another user is not limited by alice's submissions
    submission_create(user=personas.bob, exercise=curriculum["r1t1"], code="x=1", mode="run")
    assert Submission.objects.filter(user=personas.alice).count() == 3


@override_settings(SUBMISSIONS_PER_MINUTE=3)
@pytest.mark.parametrize("seconds_later", [30, 45, 59])
def test_the_rate_limit_counts_submissions_made_up_to_a_minute_ago(
    personas: Personas, curriculum: dict, sent: list, clock: Clock, seconds_later: int
) -> None:
    # given three submissions (the limit) made at one moment
    for _ in range(3):
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="run")
    # when a fourth comes 30 to 59 seconds later
    clock.advance(seconds=seconds_later)
    with pytest.raises(DomainError) as caught:
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="run")
    # then the three are still inside the one-minute window: refused, and told when the window frees a slot
    assert caught.value.status == 429
    assert int(caught.value.headers["Retry-After"]) == 60 - seconds_later + 1
    assert Submission.objects.filter(user=personas.alice).count() == 3


@override_settings(SUBMISSIONS_PER_MINUTE=3)
def test_the_rate_limit_window_ends_after_one_minute(
    personas: Personas, curriculum: dict, sent: list, clock: Clock
) -> None:
    # given three submissions (the limit) made at one moment
    for _ in range(3):
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="run")
    # when a fourth comes just over a minute later
    clock.advance(seconds=61)
    submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x=1", mode="run")
    # then it is accepted: the window is one minute long, not more
    assert Submission.objects.filter(user=personas.alice).count() == 4
