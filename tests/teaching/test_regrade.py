"""Regrades: each student's latest Submit re-run against the current version at low priority, the old and
new scores recorded, progress untouched; only admins start one."""

import pytest
from django.test import Client

from huashen.errors import DomainError
from huashen.grading.dispatch import REGRADE_PRIORITY
from huashen.grading.dispatch import send_grade_request as real_send_grade_request
from huashen.grading.models import ExerciseProgress, Submission
from huashen.grading.results import submission_record_result
from huashen.teaching.models import Regrade
from huashen.teaching.services import regrade_start
from tests.conftest import Personas
from tests.teaching.conftest import graded
from workers.protocol import GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def test_regrade_reruns_the_latest_submissions_and_records_both_scores(
    personas: Personas, trials: dict, sent: list, django_capture_on_commit_callbacks
) -> None:
    trial = trials["a1"]
    graded(personas.alice, trial, WireVerdict.FAILED, 40.0)
    alice_latest = graded(personas.alice, trial, WireVerdict.PASSED, 100.0)
    bob_latest = graded(personas.bob, trial, WireVerdict.FAILED, 20.0)
    before = {p.user_id: (p.attempts, p.best_score, p.passed_at) for p in ExerciseProgress.objects.all()}
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        regrades = regrade_start(requested_by=personas.erin, exercise=trial)

    assert sorted(r.original_id for r in regrades) == [alice_latest.pk, bob_latest.pk]
    assert [kind for kind, _request in sent] == ["regrade", "regrade"]
    for regrade in regrades:
        assert regrade.rerun.code == regrade.original.code and regrade.rerun.version == trial.current_version
        assert regrade.old_score == regrade.original.score
    # The re-runs finish: bob's code now passes, alice's now fails.
    for regrade in regrades:
        verdict, score = (
            (WireVerdict.PASSED, 100.0) if regrade.original_id == bob_latest.pk else (WireVerdict.FAILED, 0.0)
        )
        submission_record_result(
            result=GradeResult(submission_id=regrade.rerun_id, verdict=verdict, score=score)
        )
    after = {p.user_id: (p.attempts, p.best_score, p.passed_at) for p in ExerciseProgress.objects.all()}
    assert after == before  # a regrade is never an attempt and never changes a standing
    scores = {r.original_id: (r.old_score, r.new_score) for r in Regrade.objects.select_related("rerun")}
    assert scores == {alice_latest.pk: (100.0, 0.0), bob_latest.pk: (20.0, 100.0)}

    # A second regrade re-runs the students' own latest work, never a re-run.
    again = regrade_start(requested_by=personas.erin, exercise=trial)
    assert sorted(r.original_id for r in again) == [alice_latest.pk, bob_latest.pk]


def test_only_admins_start_a_regrade(personas: Personas, trials: dict) -> None:
    with pytest.raises(DomainError) as refused:
        regrade_start(requested_by=personas.carol, exercise=trials["a1"])
    assert refused.value.status == 403


def test_the_staff_button(
    personas: Personas, trials: dict, sent: list, django_capture_on_commit_callbacks
) -> None:
    graded(personas.alice, trials["a1"])
    sent.clear()
    client = Client()
    client.force_login(personas.erin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/content/{trials['a1'].slug}/regrade/")
    assert response.status_code == 302
    assert Regrade.objects.count() == 1 and [kind for kind, _ in sent] == ["regrade"]
    page = client.get("/staff/content/").content.decode()
    assert 'data-testid="regrades"' in page


def test_regrades_go_to_the_same_queue_at_the_lowest_priority(
    personas: Personas, trials: dict, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kombu's Redis transport polls priority step 0 (live work) before step 9: live never waits on a regrade."""
    from huashen.celery import app

    settings.HUASHEN_EXECUTOR = "celery"
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, **kwargs: calls.append((name, kwargs)))
    original = graded(personas.alice, trials["a1"])
    rerun = Submission.objects.create(
        user=personas.alice, exercise=trials["a1"], version=original.version, code="x = 1", mode="submit",
        deadline=original.deadline,
    )  # fmt: skip
    from workers.protocol import GradeRequest, Limits, Mode

    request = GradeRequest(submission_id=rerun.pk, trial=trials["a1"].slug, content_hash="h", mode=Mode.SUBMIT,
                           code="x = 1", limits=Limits(wall_seconds=30), device="cpu", request_id="r")  # fmt: skip
    real_send_grade_request(request, priority=REGRADE_PRIORITY)
    assert len(calls) == 1
    assert calls[0][1]["queue"] == "cpu" and calls[0][1]["priority"] == REGRADE_PRIORITY == 9
