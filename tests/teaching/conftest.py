"""Teaching tests: a small curriculum with one hybrid trial, and results recorded through the real path."""

import hashlib
from collections.abc import Iterator

import pytest

from huashen.curriculum.models import Exercise, ExerciseVersion, GradingMode
from huashen.grading import dispatch
from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create
from tests.factories import make_exercise, make_realm
from workers.protocol import CheckResult, GradeResult
from workers.protocol import Verdict as WireVerdict

RUBRIC = [
    {"key": "clarity", "points": 60, "zh": "清楚", "en": "Clear"},
    {"key": "evidence", "points": 40, "zh": "有证据", "en": "Has evidence"},
]


@pytest.fixture(autouse=True)
def _fast_settings(settings) -> None:
    settings.SUBMISSIONS_PER_MINUTE = 1000


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list:
    """Grade requests are collected, not sent: live ones and regrades apart."""
    requests: list = []
    monkeypatch.setattr(
        dispatch,
        "send_grade_request",
        lambda request, priority=0, to_front=False: requests.append(
            ("regrade" if priority else "live", request)
        ),
    )
    return requests


def make_reviewed_exercise(realm, tier: int, grading: str = GradingMode.HYBRID) -> Exercise:
    exercise = Exercise.objects.create(
        slug=f"{realm.slug}-reviewed-{tier}", realm=realm, tier=tier, order=tier, is_published=True
    )
    version = ExerciseVersion.objects.create(
        exercise=exercise,
        number=1,
        content_hash=hashlib.sha256(exercise.slug.encode()).hexdigest(),
        title_zh=f"评审试炼 {tier}",
        title_en=f"Reviewed trial {tier}",
        grading=grading,
        rubric=RUBRIC,
        limits={"wall_seconds": 30},
        statement_zh="说明",
        statement_en="Statement",
        starter_code="print('hello')\n",
        files={},
    )
    exercise.current_version = version
    exercise.save(update_fields=["current_version"])
    return exercise


@pytest.fixture
def trials(db: None) -> dict[str, Exercise]:
    """Realm 1: three auto trials, a hybrid (tier 4) and a manual (tier 5) one; realm 2: two auto trials."""
    realm1, realm2 = make_realm(1), make_realm(2)
    rows = {f"a{tier}": make_exercise(realm1, tier) for tier in (1, 2, 3)}
    rows["hybrid"] = make_reviewed_exercise(realm1, 4)
    rows["manual"] = make_reviewed_exercise(realm1, 5, GradingMode.MANUAL)
    rows.update({f"b{tier}": make_exercise(realm2, tier) for tier in (1, 2)})
    return rows


def graded(user, exercise: Exercise, verdict: WireVerdict = WireVerdict.PASSED, score: float = 100.0,
           check_message: str = "ok") -> Submission:  # fmt: skip
    """A Submit-mode submission taken through submission_create and submission_record_result."""
    submission = submission_create(user=user, exercise=exercise, code="x = 1\n", mode="submit")
    check = CheckResult(
        "shape", verdict == WireVerdict.PASSED, score, 100.0, {"zh": "形状", "en": "Shape"},
        {"zh": check_message, "en": check_message},
    )  # fmt: skip
    result = GradeResult(
        submission_id=submission.pk, verdict=verdict, score=score, checks=[check], device="cpu"
    )
    return submission_record_result(result=result)


@pytest.fixture(autouse=True)
def _fresh_handshake_caches() -> Iterator[None]:
    from tests.sockets import forget_handshakes

    forget_handshakes()
    yield
    forget_handshakes()
