"""Embedded mode: the local executor's threads log a job under its request id, as a Celery grader does."""

import logging

import pytest

from workers import local
from workers.logs import ContextFilter
from workers.protocol import GradeRequest, GradeResult, Mode, Verdict


def test_the_local_executor_names_the_job_in_its_log_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[logging.LogRecord] = []

    def fake_grade(request: GradeRequest, grader: object, sink: object) -> GradeResult:
        made = logging.LogRecord("workers.grader", logging.INFO, __file__, 1, "running the probe", (), None)
        ContextFilter().filter(made)
        records.append(made)
        return GradeResult(submission_id=request.submission_id, verdict=Verdict.PASSED, score=100.0)

    monkeypatch.setattr(local, "grade", fake_grade)
    results: list[GradeResult] = []
    executor = local.LocalExecutor(1)
    request = GradeRequest(
        submission_id=7, trial="t", content_hash="h", mode=Mode.RUN, code="x = 1",
        request_id="6f1c0d8e-0000-4000-8000-000000000007",
    )  # fmt: skip
    executor.submit(request, on_event=lambda event: None, on_result=results.append).result(timeout=30)
    executor.shutdown()
    assert [(record.request_id, record.submission_id) for record in records] == [(request.request_id, 7)]
    assert [(result.request_id, result.grader) for result in results] == [(request.request_id, "embedded")]
