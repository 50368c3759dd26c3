"""Similar-code comparison through the real platform worker: a finished Submit recorded here sends
`huashen.similarity_compare` to the `platform` queue (Redis), and the worker process fingerprints it and
stores the pair with the classmate's earlier Submit."""

import time
from pathlib import Path

import pytest
from django.utils import timezone

from huashen.grading.models import Submission
from huashen.grading.results import submission_record_result
from huashen.similarity import dispatch
from huashen.similarity.dispatch import send_to_broker
from huashen.similarity.models import CodeFingerprint, SimilarPair
from tests.conftest import Personas
from tests.integration.conftest import WorkerProcess
from tests.teaching.test_similarity import DISGUISED, ORIGINAL
from workers.protocol import CheckResult, GradeResult
from workers.protocol import Verdict as WireVerdict


def finished_submit(user, exercise, code: str) -> Submission:
    submission = Submission.objects.create(
        user=user, exercise=exercise, version=exercise.current_version, code=code, mode="submit",
        deadline=timezone.now() + timezone.timedelta(minutes=10),
    )  # fmt: skip
    check = CheckResult("works", False, 0.0, 1.0, {"zh": "能运行", "en": "Runs"}, {})
    return submission_record_result(
        result=GradeResult(submission_id=submission.pk, verdict=WireVerdict.FAILED, score=0.0, checks=[check])
    )


def wait_for(condition, worker: WorkerProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.process.poll() is None, worker.output()[-4000:]
        time.sleep(0.2)
    raise AssertionError(f"not done in {timeout} s:\n{worker.output()[-4000:]}")


def test_the_platform_worker_compares_a_new_submit(
    settings, monkeypatch: pytest.MonkeyPatch, personas: Personas, curriculum: dict,
    platform_worker_process: WorkerProcess, tmp_path: Path,
) -> None:  # fmt: skip
    settings.HUASHEN_EXECUTOR = "celery"
    monkeypatch.setattr(dispatch, "send_to_broker", send_to_broker)  # the real broker, not this process
    trial = curriculum["r1t1"]

    first = finished_submit(personas.alice, trial, ORIGINAL)
    wait_for(lambda: CodeFingerprint.objects.filter(submission=first).exists(), platform_worker_process)
    second = finished_submit(personas.bob, trial, DISGUISED)
    wait_for(lambda: SimilarPair.objects.filter(first=first, second=second).exists(), platform_worker_process)

    pair = SimilarPair.objects.get()
    assert pair.score >= 0.8
    assert "huashen.similarity_compare" in platform_worker_process.output()
