"""workers.grader.grade: the verdict and score it decides from the trusted check's report.

No sandbox runs here: the runner is replaced by one that says the job ran and exited cleanly, and the
checker by one that answers a report the test wrote. Everything between them (staging, reading the
report, deciding, scoring) is the grader's own code. The real sandbox and checker are exercised by
tests/sandbox/ and tests/golden/.
"""

import contextlib
import json
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import workers.grader
from workers.events import ListSink
from workers.grader import Grader, grade
from workers.protocol import GradeRequest, Limits, Mode, Verdict, bundle_content_hash, bundle_files
from workers.sandbox.runner import SandboxOutcome

EXERCISES = Path(__file__).resolve().parents[1] / "fixtures" / "exercises" / "valid"
BUNDLE = EXERCISES / "01-alpha" / "sum-tensors"


class ReportingChecker:
    """Stands in for the trusted checker process: answers every check with one fixed report."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 0, json.dumps(self.report), "")


class ScriptedGrader(Grader):
    """A grader whose check answers `report`, and whose sandbox library is an empty folder (nothing runs)."""

    report: dict[str, Any] = {}
    library: Path = Path()

    def warm_checker(self) -> Any:
        return ReportingChecker(self.report)

    def lib_dir(self) -> Path:
        return self.library


@pytest.fixture(autouse=True)
def _clean_run_without_a_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def run_sandboxed(policy: Any, limits: Any, *, on_event: Any, **_: Any) -> SandboxOutcome:
        on_event({"kind": "started"})
        return SandboxOutcome(exit_code=0, wall_seconds=0.5, cpu_seconds=0.4, peak_memory_mb=50.0)

    @contextlib.contextmanager
    def job_dir(name: str, *, size_mb: int) -> Iterator[Path]:
        path = tmp_path / name
        path.mkdir()
        yield path

    monkeypatch.setattr(workers.grader, "run_sandboxed", run_sandboxed)
    monkeypatch.setattr(workers.grader, "job_dir", job_dir)


def check(key: str, passed: bool, score: float, max_score: float = 50.0) -> dict[str, Any]:
    return {"key": key, "passed": passed, "score": score, "max_score": max_score,
            "title": {"zh": key, "en": key}, "message": {"zh": "", "en": ""}, "visible": True}  # fmt: skip


def graded(report: dict[str, Any], library: Path) -> tuple[Verdict, float, list[str]]:
    spec = tomllib.loads((BUNDLE / "exercise.toml").read_text(encoding="utf-8"))
    request = GradeRequest(
        submission_id=1,
        trial=spec["slug"],
        content_hash=bundle_content_hash(bundle_files(BUNDLE), spec["realm"]),
        mode=Mode.SUBMIT,
        code="def add(a, b):\n    return a + b\n",
        limits=Limits(**spec["limits"]),
    )
    grader = ScriptedGrader(exercises_dir=EXERCISES, warm=False)
    grader.report = {"internal_errors": [], "probe_error": None, "gpu_oom": False, **report}
    grader.library = library
    result = grade(request, grader, ListSink())
    return result.verdict, result.score, [c.key for c in result.checks]


def test_checks_that_all_passed_pass_and_a_failed_one_scores_its_share(tmp_path: Path) -> None:
    # given reports of checks that all passed, and of one passed and one failed
    # when each is graded
    # then the first passes with full marks and the second fails with the points it earned
    assert graded({"checks": [check("shape", True, 50), check("values", True, 50)]}, tmp_path) == (
        Verdict.PASSED, 100.0, ["shape", "values"],
    )  # fmt: skip
    assert graded({"checks": [check("shape", True, 50), check("values", False, 0)]}, tmp_path) == (
        Verdict.FAILED, 50.0, ["shape", "values"],
    )  # fmt: skip


def test_a_report_with_no_checks_is_never_passed(tmp_path: Path) -> None:
    # given a check that reported no checks at all (nothing was verified)
    # when it is graded
    verdict, score, checks = graded({"checks": [], "score": 0}, tmp_path)
    # then nothing passed: a pass needs at least one check, all of them passed
    assert (verdict, score, checks) == (Verdict.FAILED, 0.0, [])


def test_an_error_scores_zero_even_when_checks_passed_before_it(tmp_path: Path) -> None:
    # given the student's code raised after one of two checks had already passed
    report = {
        "checks": [check("shape", True, 50), check("values", False, 0)],
        "solution_error": "Traceback (most recent call last):\nValueError: boom",
    }
    # when it is graded
    verdict, score, checks = graded(report, tmp_path)
    # then the verdict is an error, scored 0, and the checks are still shown
    assert (verdict, score, checks) == (Verdict.ERROR, 0.0, ["shape", "values"])
