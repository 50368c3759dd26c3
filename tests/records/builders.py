"""Submissions with results, made through the real services (the grader's answer given directly)."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise, ExerciseVersion
from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.factories import make_exercise, make_realm
from workers.protocol import CheckResult, GradeResult
from workers.protocol import Verdict as WireVerdict


def graded(
    user: User,
    exercise: Exercise,
    *,
    verdict: WireVerdict = WireVerdict.PASSED,
    score: float = 100.0,
    mode: str = "submit",
    code: str = "x = 1\n",
    **result: object,
) -> Submission:
    submission = submission_create(user=user, exercise=exercise, code=code, mode=mode)
    submission_record_result(
        result=GradeResult(
            submission_id=submission.pk,
            verdict=verdict,
            score=score,
            device="cpu",
            **result,  # type: ignore[arg-type]
        )
    )
    submission.refresh_from_db()
    return submission


def review_graded(exercise: Exercise, grading: str = "hybrid") -> Exercise:
    """Make a trial's current version hybrid or manual (versions are immutable, so the row is updated as data)."""
    ExerciseVersion.objects.filter(pk=exercise.current_version_id).update(grading=grading)
    return exercise


def a_check(key: str, passed: bool, message_zh: str = "", message_en: str = "") -> CheckResult:
    return CheckResult(
        key=key,
        passed=passed,
        score=1.0 if passed else 0.0,
        max_score=1.0,
        title={"zh": f"检查 {key}", "en": f"Check {key}"},
        message={"zh": message_zh, "en": message_en},
    )


def in_english(client: Client) -> None:
    client.post("/language/", {"language": "en", "next": "/"})


def make_curriculum_from(*, order: int, realms: int, tiers: int = 5) -> dict[str, Exercise]:
    """More realms after the ones already made (the shared factory starts at realm 1)."""
    rows: dict[str, Exercise] = {}
    for number in range(order, order + realms):
        realm = make_realm(number)
        for tier in range(1, tiers + 1):
            rows[f"r{number}t{tier}"] = make_exercise(realm, tier)
    return rows


def queries_of(client: Client, path: str) -> int:
    """How many queries one GET of `path` runs (it must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries)
