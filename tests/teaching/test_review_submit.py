"""The review queue and review_submit: who may review whom, oldest first, the rubric's rules, progress."""

import pytest
from django.test import Client

from huashen.accounts.models import User
from huashen.accounts.services import user_create
from huashen.errors import DomainError
from huashen.grading.models import ExerciseProgress
from huashen.teaching.models import Review
from huashen.teaching.selectors import review_queue
from huashen.teaching.services import REVIEW_PASS_SCORE, review_submit
from tests.conftest import PASSWORD, Personas
from tests.teaching.conftest import graded
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def queue_ids(user: User) -> list[int]:
    return list(review_queue(reviewer=user).values_list("pk", flat=True))


def test_the_queue_holds_reviewable_work_oldest_first(personas: Personas, trials: dict) -> None:
    failed_hybrid = graded(personas.alice, trials["hybrid"], WireVerdict.FAILED, 30.0)  # gated out
    bob_hybrid = graded(personas.bob, trials["hybrid"])
    alice_manual = graded(personas.alice, trials["manual"], WireVerdict.FAILED, 0.0)  # manual: any verdict
    graded(personas.alice, trials["a1"])  # auto: never reviewed
    assert queue_ids(personas.carol) == [bob_hybrid.pk, alice_manual.pk]
    assert failed_hybrid.pk not in queue_ids(personas.erin)

    newer = graded(personas.bob, trials["hybrid"])  # only a student's latest work waits
    assert queue_ids(personas.carol) == [alice_manual.pk, newer.pk]


def test_reviewers_are_the_students_instructors_and_admins(personas: Personas, trials: dict) -> None:
    lone = user_create(username="lone", password=PASSWORD)  # in no cohort: only staff review them
    alice_work = graded(personas.alice, trials["hybrid"])
    lone_work = graded(lone, trials["hybrid"])
    assert queue_ids(personas.carol) == [alice_work.pk]
    assert queue_ids(personas.dave) == []
    assert queue_ids(personas.erin) == [alice_work.pk, lone_work.pk]
    assert queue_ids(personas.bob) == []
    with pytest.raises(DomainError) as refused:
        review_submit(
            reviewer=personas.dave, submission_id=alice_work.pk, scores={"clarity": 60, "evidence": 40}
        )
    assert refused.value.status == 404
    review_submit(reviewer=personas.erin, submission_id=lone_work.pk, scores={"clarity": 60, "evidence": 40})


def test_a_review_scores_by_the_rubric_and_sets_progress(personas: Personas, trials: dict) -> None:
    first = graded(personas.alice, trials["hybrid"])
    progress = ExerciseProgress.objects.get(user=personas.alice, exercise=trials["hybrid"])
    # Before review a hybrid trial is attempted, not passed, whatever its automatic score.
    assert (progress.attempts, progress.best_score, progress.passed_at) == (1, 0.0, None)

    review = review_submit(reviewer=personas.carol, submission_id=first.pk,
                           scores={"clarity": 30, "evidence": 20}, comment="  needs evidence  ")  # fmt: skip
    assert (review.final_score, review.comment, review.reviewer) == (50.0, "needs evidence", personas.carol)
    progress.refresh_from_db()
    assert (progress.best_score, progress.passed_at) == (50.0, None)
    assert REVIEW_PASS_SCORE > 50.0
    assert queue_ids(personas.carol) == []

    second = graded(personas.alice, trials["hybrid"])
    passing = review_submit(
        reviewer=personas.carol, submission_id=second.pk, scores={"clarity": 55, "evidence": 35}
    )
    progress.refresh_from_db()
    assert (progress.best_score, progress.passed_at, progress.attempts) == (90.0, passing.created_at, 2)


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({"clarity": 60}, "scores.evidence"),
        ({"clarity": 61, "evidence": 0}, "scores.clarity"),
        ({"clarity": -1, "evidence": 0}, "scores.clarity"),
        ({"clarity": 1, "evidence": 1, "style": 1}, "scores.style"),
        ({"clarity": "x", "evidence": 1}, "scores.clarity"),
    ],
)
def test_bad_scores_are_refused_with_their_field(
    personas: Personas, trials: dict, scores: dict, field: str
) -> None:
    work = graded(personas.alice, trials["hybrid"])
    with pytest.raises(DomainError) as refused:
        review_submit(reviewer=personas.carol, submission_id=work.pk, scores=scores)
    assert (refused.value.status, refused.value.field) == (400, field)
    assert not Review.objects.exists()


def test_a_reviewed_submission_leaves_the_queue_and_cannot_be_reviewed_again(
    personas: Personas, trials: dict
) -> None:
    work = graded(personas.alice, trials["hybrid"])
    review_submit(reviewer=personas.carol, submission_id=work.pk, scores={"clarity": 60, "evidence": 40})
    with pytest.raises(DomainError) as again:
        review_submit(reviewer=personas.erin, submission_id=work.pk, scores={"clarity": 1, "evidence": 1})
    assert again.value.status == 404  # no longer in anyone's queue
    assert Review.objects.count() == 1


def test_the_api_queue_and_review(personas: Personas, trials: dict) -> None:
    work = graded(personas.alice, trials["hybrid"])
    client = Client()
    client.force_login(personas.carol)
    queue = client.get("/api/v1/reviews/").json()
    assert [item["submission"] for item in queue["results"]] == [work.pk]
    assert queue["results"][0]["grading"] == "hybrid"
    bad = client.post(f"/api/v1/reviews/{work.pk}/", {"scores": {"clarity": 99, "evidence": 0}},
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "scores.clarity"
    made = client.post(f"/api/v1/reviews/{work.pk}/", {"scores": {"clarity": 60, "evidence": 40}, "comment": "好"},
                       content_type="application/json")  # fmt: skip
    assert made.status_code == 201
    assert (made.json()["final_score"], made.json()["reviewer"]) == (100.0, "carol")


def test_the_review_form_then_the_student_sees_the_review(personas: Personas, trials: dict) -> None:
    work = graded(personas.alice, trials["hybrid"])
    teacher = Client()
    teacher.force_login(personas.carol)
    form = teacher.get(f"/teach/reviews/{work.pk}/")
    assert 'name="score-clarity"' in form.content.decode()
    invalid = teacher.post(f"/teach/reviews/{work.pk}/", {"score-clarity": "70", "score-evidence": "1"})
    assert invalid.status_code == 200 and not Review.objects.exists()
    assert 'value="70"' in invalid.content.decode() and 'role="alert"' in invalid.content.decode()
    done = teacher.post(f"/teach/reviews/{work.pk}/",
                        {"score-clarity": "45", "score-evidence": "40", "comment": "清楚的实验"})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/teach/reviews/"

    student = Client()
    student.force_login(personas.alice)
    page = student.get(f"/submissions/{work.pk}/").content.decode()
    assert 'data-testid="review"' in page
    assert "85" in page and "清楚的实验" in page and "carol" in page
