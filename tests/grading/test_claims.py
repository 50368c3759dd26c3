"""One grading per submission, the platform's side: the newest claim's token wins, a replaced holder's
result is refused, and a running submission whose grader's claim ran out is sent again."""

import datetime as dt

import pytest
from django.utils import timezone

from huashen.grading import claims, dispatch
from huashen.grading.models import Dispatch, ExerciseProgress, Status
from huashen.grading.results import submission_mark_running, submission_record_result
from huashen.grading.services import MAX_RECOVERIES, submission_create, submissions_recover
from tests.conftest import Personas, SentRequests
from workers.protocol import GradeResult, Verdict

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list:
    requests = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", requests)
    return requests


@pytest.fixture
def submission(personas: Personas, curriculum: dict, sent: list, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = submission_create(
            user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
        )
    sent.clear()
    return created


def _result(submission_id: int, claim: int, score: float = 100.0) -> GradeResult:
    return GradeResult(submission_id=submission_id, verdict=Verdict.PASSED, score=score, claim=claim)


def test_the_newest_claim_is_kept_and_an_older_running_note_changes_nothing(submission) -> None:
    submission_mark_running(submission_id=submission.pk, claim=2)
    submission_mark_running(submission_id=submission.pk, claim=1)
    submission.refresh_from_db()
    assert (submission.status, submission.claim) == (Status.RUNNING, 2)


def test_a_replaced_holders_result_is_refused_and_the_newer_one_recorded(submission) -> None:
    # given a run with claim 1 that stalled, and the submission claimed again by a run with token 2
    submission_mark_running(submission_id=submission.pk, claim=1)
    submission_mark_running(submission_id=submission.pk, claim=2)
    # when the stale run's result arrives
    submission_record_result(result=_result(submission.pk, claim=1, score=0.0))
    # then it is refused
    submission.refresh_from_db()
    assert submission.status == Status.RUNNING
    # and the newer run's result is recorded, counted once
    submission_record_result(result=_result(submission.pk, claim=2))
    submission.refresh_from_db()
    assert (submission.status, submission.score) == (Status.DONE, 100.0)
    assert ExerciseProgress.objects.get(user=submission.user, exercise=submission.exercise).attempts == 1


def test_a_result_is_refused_when_redis_says_a_newer_run_holds_the_claim(
    submission, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the newer run's running note has not reached the database yet, but its claim is in Redis
    monkeypatch.setattr(claims, "claim_holder", lambda submission_id, request_id: "3 grader-2@host:41")
    submission_mark_running(submission_id=submission.pk, claim=2)
    submission_record_result(result=_result(submission.pk, claim=2))
    submission.refresh_from_db()
    assert submission.status == Status.RUNNING


def test_a_running_submission_whose_claim_ran_out_is_sent_again(
    submission, sent: list, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    # given a running submission whose grader died (its claim is gone from Redis)
    submission_mark_running(submission_id=submission.pk, claim=1)
    monkeypatch.setattr(claims, "claims_expired", lambda rows: [pk for pk, _request_id in rows])
    before = type(submission).objects.get(pk=submission.pk).deadline
    # when the sweep looks
    with django_capture_on_commit_callbacks(execute=True):
        assert submissions_recover(now=timezone.now() + dt.timedelta(seconds=1)) == 1
    # then it is queued again with a fresh deadline, and its request is sent
    submission.refresh_from_db()
    assert (submission.status, submission.recoveries) == (Status.QUEUED, 1)
    assert submission.deadline >= before
    assert [request.submission_id for request in sent] == [submission.pk]
    assert not Dispatch.objects.exists()
    # and a queued submission is not sent again by the next sweep
    assert submissions_recover() == 0


def test_a_submission_that_keeps_killing_graders_is_left_to_the_reaper(
    submission, sent: list, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(claims, "claims_expired", lambda rows: [pk for pk, _request_id in rows])
    for token in range(1, MAX_RECOVERIES + 2):
        submission_mark_running(submission_id=submission.pk, claim=token)
        with django_capture_on_commit_callbacks(execute=True):
            submissions_recover()
    submission.refresh_from_db()
    assert submission.recoveries == MAX_RECOVERIES and len(sent) == MAX_RECOVERIES


def test_a_live_claim_is_left_alone(submission, monkeypatch: pytest.MonkeyPatch) -> None:
    submission_mark_running(submission_id=submission.pk, claim=1)
    monkeypatch.setattr(claims, "claims_expired", lambda rows: [])
    assert submissions_recover() == 0
    submission.refresh_from_db()
    assert submission.status == Status.RUNNING
