"""The grader over real sandboxes, without Celery: the verify step, artifacts, and the verdict mapping."""

import base64
from pathlib import Path

import pytest

from tests.golden.test_golden import grade_solution
from workers.events import ListSink
from workers.grader import Grader, grade
from workers.protocol import GradeRequest, Mode, Verdict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "grading"
VERIFY = FIXTURES / "01-sandbox" / "02-verify"
PROBE = FIXTURES / "01-sandbox" / "01-probe"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(exercises_dir=FIXTURES, require_cgroups=True)


def write(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "solution.py"
    path.write_text(code)
    return path


def test_the_verify_step_sees_the_first_runs_files_but_not_the_students_code(grader: Grader) -> None:
    _spec, result, sink = grade_solution(grader, VERIFY, VERIFY / "reference" / "solution.py")
    assert (result.verdict, result.score) == (Verdict.PASSED, 100.0), result
    statuses = [event.payload for event in sink.events if event.kind == "status"]
    assert statuses == [{"status": "running", "device": "cpu"}]
    _spec, wrong, _sink = grade_solution(grader, VERIFY, VERIFY / "wrong" / "wrong_value.py")
    assert wrong.verdict == Verdict.FAILED and "'42'" in wrong.checks[0].message["en"]


def test_artifacts_come_back_as_checked_pngs(grader: Grader) -> None:
    _spec, result, _sink = grade_solution(grader, VERIFY, VERIFY / "reference" / "solution.py")
    assert [artifact["name"] for artifact in result.artifacts] == ["overlay"]
    assert base64.b64decode(result.artifacts[0]["data"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_planted_artifact_that_is_not_a_png_or_is_a_link_is_dropped(grader: Grader, tmp_path: Path) -> None:
    code = (
        "import os\n"
        "def export(folder):\n"
        "    (folder / 'value.txt').write_text('1729')\n"
        "    art = folder / 'artifacts'\n"
        "    art.mkdir(exist_ok=True)\n"
        "    (art / 'fake.png').write_bytes(b'not a png')\n"
        "    os.symlink('/etc/passwd', art / 'link.png')\n"
    )
    _spec, result, _sink = grade_solution(grader, VERIFY, write(tmp_path, code))
    assert {artifact["name"] for artifact in result.artifacts} <= {"overlay"}


@pytest.mark.parametrize(
    "code, verdict",
    [
        ("def answer():\n    return 1729\n", Verdict.PASSED),
        ("def answer():\n    return 7\n", Verdict.FAILED),
        ("raise RuntimeError('boom')\n", Verdict.ERROR),
        ("def answer():\n    while True: pass\n", Verdict.TIME_LIMIT),
        ("def answer():\n    x = bytearray(2 * 1024 ** 3)\n", Verdict.MEMORY_LIMIT),
        ("def answer():\n    print('y' * 10 ** 6)\n", Verdict.OUTPUT_LIMIT),
        (
            "import ctypes\ndef answer():\n    ctypes.CDLL(None).ptrace(0, 0, 0, 0)\n",
            Verdict.SANDBOX_VIOLATION,
        ),
    ],
)
def test_each_verdict_is_distinct(grader: Grader, tmp_path: Path, code: str, verdict: Verdict) -> None:
    _spec, result, _sink = grade_solution(grader, PROBE, write(tmp_path, code))
    assert result.verdict == verdict, result
    assert result.message["zh"] and result.message["en"]
    if verdict not in (Verdict.PASSED, Verdict.FAILED):
        assert result.score == 0.0


def test_a_grader_with_other_trial_content_refuses_to_grade(grader: Grader) -> None:
    request = GradeRequest(submission_id=5, trial="sandbox-probe", content_hash="0" * 64, mode=Mode.RUN,
                           code="def answer():\n    return 1729\n")  # fmt: skip
    sink = ListSink()
    result = grade(request, grader, sink)
    assert result.verdict == Verdict.INTERNAL_ERROR and sink.events == []  # nothing ran


def test_an_unknown_trial_is_an_internal_error(grader: Grader) -> None:
    request = GradeRequest(
        submission_id=6, trial="no-such-trial", content_hash="0" * 64, mode=Mode.RUN, code="x=1"
    )
    assert grade(request, grader, ListSink()).verdict == Verdict.INTERNAL_ERROR
