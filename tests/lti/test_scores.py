"""Scores back to the LMS (Assignment and Grade Services): a pass, a review, a regrade; queued once per
submission and score, sent with the tool's signed assertion, retried on a 5xx, every try logged."""

import pytest
from django.test import Client
from django.utils import timezone
from lti_tool.models import LtiUser

from huashen.grading.models import Submission
from huashen.lti import receivers, services
from huashen.lti.models import ScoreAttempt, ScorePublication
from tests.factories import make_exercise, make_realm
from tests.lti.test_launch import launch, spec_for


@pytest.fixture
def launched(lms, standin, settings):  # type: ignore[no-untyped-def]
    settings.LTI_SCORE_RETRY_BASE_SECONDS = 1
    trial = make_exercise(make_realm(1), 1)
    spec = spec_for(trial, resource_link={"id": f"link-{trial.pk}-{LtiUser.objects.count()}", "title": "1.1"})
    response, _ = launch(Client(), standin, spec)
    assert response.status_code == 302
    user = LtiUser.objects.get(sub=spec["sub"]).auth_user
    return user, trial, spec


def _scores_for(standin, sub: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [score for score in standin.received()["scores"] if score["userId"] == sub]


def test_a_score_is_sent_once_for_one_submission_and_score(launched, standin) -> None:
    user, trial, spec = launched
    (publication,) = services.scores_queue(
        user_id=user.pk, exercise_id=trial.pk, score=100.0, submission_id=7, reason="pass"
    )
    assert (
        services.scores_queue(
            user_id=user.pk, exercise_id=trial.pk, score=100.0, submission_id=7, reason="pass"
        )
        == []
    )
    outcome = services.score_send(publication_id=publication.pk)
    assert outcome.done and outcome.status == 200
    assert services.score_send(publication_id=publication.pk).status is None  # already sent: not again
    (score,) = _scores_for(standin, spec["sub"])
    assert (score["scoreGiven"], score["scoreMaximum"]) == (100.0, 100.0)
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert score["lineitem"].endswith(spec["resource_link"]["id"])
    publication.refresh_from_db()
    assert publication.state == "sent" and publication.attempts == 1
    assert list(publication.tries.values_list("outcome", "http_status")) == [("sent", 200)]


def test_a_failing_lms_is_retried_and_each_try_is_logged(launched, standin) -> None:
    user, trial, spec = launched
    standin.configure(fail_scores=2)
    (publication,) = services.scores_queue(
        user_id=user.pk, exercise_id=trial.pk, score=80.0, submission_id=8, reason="pass"
    )
    assert not services.score_send(publication_id=publication.pk).done
    assert not services.score_send(publication_id=publication.pk).done
    assert services.score_send(publication_id=publication.pk).done
    tries = list(ScoreAttempt.objects.filter(publication=publication).values_list("outcome", "http_status"))
    assert tries == [("retry", 503), ("retry", 503), ("sent", 200)]
    assert len(_scores_for(standin, spec["sub"])) == 1


def test_the_last_try_fails_the_score_for_good(launched, standin) -> None:
    user, trial, _spec = launched
    standin.configure(fail_scores=1)
    (publication,) = services.scores_queue(
        user_id=user.pk, exercise_id=trial.pk, score=50.0, submission_id=9, reason="pass"
    )
    outcome = services.score_send(publication_id=publication.pk, final_attempt=True)
    assert outcome.done and outcome.status == 503
    publication.refresh_from_db()
    assert publication.state == ScorePublication.State.FAILED


def test_students_who_never_came_from_an_lms_queue_nothing(lms, db) -> None:
    from huashen.accounts.services import user_create

    trial = make_exercise(make_realm(1), 1)
    student = user_create(username="plain", password="pw-123456789")
    assert (
        services.scores_queue(
            user_id=student.pk, exercise_id=trial.pk, score=100, submission_id=1, reason="pass"
        )
        == []
    )


def test_a_pass_and_a_regrade_queue_scores_through_the_grading_events(
    launched, standin, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    user, trial, _spec = launched
    sent: list[int] = []
    monkeypatch.setattr("huashen.lti.tasks.send_score_soon", sent.append)
    submission = Submission.objects.create(
        user=user,
        exercise=trial,
        version=trial.current_version,
        code="x",
        mode="submit",
        score=100.0,
        deadline=timezone.now(),
    )
    kwargs = {"submission_id": submission.pk, "user_id": user.pk, "exercise_id": trial.pk, "mode": "submit"}
    with django_capture_on_commit_callbacks(execute=True):
        receivers.on_submission_finished(None, purpose="attempt", verdict="passed", score=100.0, **kwargs)
        receivers.on_submission_finished(
            None, purpose="attempt", verdict="passed", score=100.0, **kwargs
        )  # twice
        receivers.on_submission_finished(None, purpose="attempt", verdict="failed", score=10.0, **kwargs)
    assert list(ScorePublication.objects.values_list("reason", flat=True)) == ["pass"]
    with django_capture_on_commit_callbacks(execute=True):
        receivers.on_submission_finished(None, purpose="rerun", verdict="failed", score=40.0, **kwargs)
    # The pass sends the student's best score (the progress row); the regrade its re-run's score.
    assert sorted(ScorePublication.objects.values_list("reason", "score_given")) == [
        ("pass", 100.0),
        ("regrade", 40.0),
    ]
    assert len(sent) == 2


def test_a_review_sends_the_best_reviewed_score(
    launched, standin, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from huashen.accounts.models import Role
    from huashen.accounts.services import user_create
    from huashen.grading.models import ExerciseProgress
    from huashen.teaching.models import Review

    user, trial, _spec = launched
    monkeypatch.setattr("huashen.lti.tasks.send_score_soon", lambda pk: None)
    reviewer = user_create(username="reviewer", password="pw-123456789", role=Role.INSTRUCTOR)
    submission = Submission.objects.create(
        user=user, exercise=trial, version=trial.current_version, code="x", mode="submit", score=70.0,
        deadline=timezone.now(),
    )  # fmt: skip
    Review.objects.create(submission=submission, reviewer=reviewer, final_score=85.0)
    ExerciseProgress.objects.create(
        user=user, exercise=trial, attempts=1, best_score=85.0, passed_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        receivers.on_progress_changed(None, user_id=user.pk, exercise_id=trial.pk)
        receivers.on_progress_changed(None, user_id=user.pk, exercise_id=trial.pk)  # announced twice
    (publication,) = ScorePublication.objects.all()
    assert (publication.reason, publication.score_given, publication.submission_id) == (
        "review",
        85.0,
        submission.pk,
    )


def test_a_placement_without_a_line_item_gets_one_made_before_its_first_score(lms, standin, settings) -> None:
    trial = make_exercise(make_realm(1), 1)
    spec = spec_for(trial, resource_link={"id": "link-without-column", "title": "1.1"}, no_lineitem=True)
    launch(Client(), standin, spec)
    user = LtiUser.objects.get(sub=spec["sub"]).auth_user
    (publication,) = services.scores_queue(
        user_id=user.pk, exercise_id=trial.pk, score=90.0, submission_id=3, reason="pass"
    )
    assert services.score_send(publication_id=publication.pk).done
    publication.placement.refresh_from_db()
    made = publication.placement.lineitem_url
    assert made.startswith(f"{standin.url}/lineitems/course-1/items/")
    item = standin.received()["lineitems"][made]
    assert (item["resourceId"], item["resourceLinkId"], item["scoreMaximum"]) == (
        trial.slug,
        "link-without-column",
        100,
    )
    (score,) = _scores_for(standin, spec["sub"])
    assert score["lineitem"] == made and score["scoreGiven"] == 90.0


def test_the_platform_task_retries_with_backoff_until_the_lms_answers(launched, standin, settings) -> None:
    from huashen.lti import tasks

    user, trial, _spec = launched
    assert [tasks.backoff_seconds(n) for n in range(4)] == [1, 2, 4, 8]  # the base is 1 s here
    standin.configure(fail_scores=2)
    (publication,) = services.scores_queue(
        user_id=user.pk, exercise_id=trial.pk, score=75.0, submission_id=11, reason="pass"
    )
    tasks.send_score.apply(args=[publication.pk])  # eager: each retry runs at once
    assert list(publication.tries.values_list("outcome", flat=True)) == ["retry", "retry", "sent"]
    settings.LTI_SCORE_MAX_RETRIES = 1
    standin.configure(fail_scores=5)
    (failing,) = services.scores_queue(
        user_id=user.pk, exercise_id=trial.pk, score=70.0, submission_id=12, reason="pass"
    )
    tasks.send_score.apply(args=[failing.pk])
    failing.refresh_from_db()
    assert failing.state == "failed" and list(failing.tries.values_list("outcome", flat=True)) == [
        "retry",
        "failed",
    ]
    standin.configure(fail_scores=0)


def test_a_reviewed_trials_checks_never_send_a_score(
    lms, standin, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from tests.teaching.conftest import make_reviewed_exercise

    trial = make_reviewed_exercise(make_realm(1), 4)
    spec = spec_for(trial, resource_link={"id": "link-hybrid", "title": "hybrid"})
    launch(Client(), standin, spec)
    user = LtiUser.objects.get(sub=spec["sub"]).auth_user
    monkeypatch.setattr("huashen.lti.tasks.send_score_soon", lambda pk: None)
    submission = Submission.objects.create(
        user=user, exercise=trial, version=trial.current_version, code="x", mode="submit", score=100.0,
        deadline=timezone.now(),
    )  # fmt: skip
    kwargs = {"submission_id": submission.pk, "user_id": user.pk, "exercise_id": trial.pk, "mode": "submit"}
    with django_capture_on_commit_callbacks(execute=True):
        receivers.on_submission_finished(None, purpose="attempt", verdict="passed", score=100.0, **kwargs)
        receivers.on_submission_finished(None, purpose="rerun", verdict="passed", score=100.0, **kwargs)
    assert not ScorePublication.objects.exists()  # its review sets the score the LMS gets
