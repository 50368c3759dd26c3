"""Dispatch through an outbox: the submission and its "to send" row commit together; a broker outage
delays the grading (the sweep sends it later), never loses it, and the API still answers 201."""

import datetime as dt

import kombu.exceptions
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from huashen.grading import dispatch
from huashen.grading.models import Dispatch, Status, Submission
from huashen.grading.results import _reap_one
from huashen.grading.services import submission_create
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


class Broker:
    """Stands in for `send_grade_request`: up or down, and what it was handed."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list = []

    def __call__(self, request, **options) -> None:
        if not self.up:
            raise kombu.exceptions.OperationalError(
                "Error 111 connecting to 127.0.0.1:6379. Connection refused."
            )
        self.sent.append(request)


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    stand_in = Broker()
    monkeypatch.setattr(dispatch, "send_grade_request", stand_in)
    return stand_in


def _later(seconds: float = 60) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def test_the_row_commits_with_the_submission_and_goes_once_sent(
    personas: Personas, curriculum: dict, broker: Broker, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = submission_create(
            user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
        )
    # before the commit hook: the row is there, nothing sent
    assert Dispatch.objects.filter(submission=submission).exists() and broker.sent == []
    for callback in callbacks:
        callback()
    assert [request.submission_id for request in broker.sent] == [submission.pk]
    assert not Dispatch.objects.exists()
    # and a sweep afterwards sends nothing more
    assert dispatch.dispatch_sweep(now=_later()) == 0 and len(broker.sent) == 1


def test_a_broker_outage_delays_the_grading_and_never_loses_it(
    personas: Personas, curriculum: dict, broker: Broker, django_capture_on_commit_callbacks
) -> None:
    # given a broker that is down
    broker.up = False
    client = APIClient()
    client.force_login(personas.alice)
    # when a student submits
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x = 1"}, format="json"
        )
    # then the API says queued (201), and the submission waits in the outbox
    assert response.status_code == 201
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.status == Status.QUEUED
    assert Dispatch.objects.get(submission=submission).attempts == 1
    # a sweep while the broker is still down keeps it
    assert dispatch.dispatch_sweep(now=_later()) == 0
    assert Dispatch.objects.filter(submission=submission).exists()
    # once the broker is back the sweep hands it over, exactly once
    broker.up = True
    assert dispatch.dispatch_sweep(now=_later()) == 1
    assert [request.submission_id for request in broker.sent] == [submission.pk]
    assert not Dispatch.objects.exists()


def test_the_sweep_leaves_a_fresh_row_to_its_on_commit_sender(
    personas: Personas, curriculum: dict, broker: Broker
) -> None:
    submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit")
    assert dispatch.dispatch_sweep(now=timezone.now()) == 0 and broker.sent == []


def test_a_reaped_submission_is_not_sent_any_more(
    personas: Personas, curriculum: dict, broker: Broker
) -> None:
    broker.up = False
    submission = submission_create(
        user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
    )
    assert _reap_one(submission.pk, submission.deadline + dt.timedelta(seconds=1))
    broker.up = True
    assert dispatch.dispatch_sweep(now=_later()) == 1
    assert broker.sent == [] and not Dispatch.objects.exists()


def test_the_request_is_rebuilt_from_the_submission(
    personas: Personas, curriculum: dict, broker: Broker, django_capture_on_commit_callbacks
) -> None:
    exercise = curriculum["r1t1"]
    with django_capture_on_commit_callbacks(execute=True):
        submission = submission_create(user=personas.alice, exercise=exercise, code="x = 2\n", mode="run")
    (request,) = broker.sent
    assert (request.submission_id, request.trial, request.mode, request.code, request.request_id) == (
        submission.pk, exercise.slug, "run", "x = 2\n", str(submission.request_id),
    )  # fmt: skip
    assert request.content_hash == exercise.current_version.content_hash
