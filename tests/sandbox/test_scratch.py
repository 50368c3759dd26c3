"""The Try cell through the real sandbox: the snippet sees the student's code as `solution`, its output
comes back as the job's stream, the last expression is shown (a tensor with its shape), figures come
back as PNGs, and nothing is graded."""

import base64
import tomllib
from pathlib import Path

import pytest

from workers.events import ListSink
from workers.grader import Grader, grade
from workers.protocol import (
    GradeRequest,
    GradeResult,
    Limits,
    Mode,
    Verdict,
    bundle_content_hash,
    bundle_files,
)

REPO = Path(__file__).resolve().parents[2]
PROBE = REPO / "tests" / "fixtures" / "grading" / "01-sandbox" / "01-probe"
TENSOR_BASICS = REPO / "exercises" / "01-tensors" / "01-tensor-basics"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(exercises_dir=REPO / "tests" / "fixtures" / "grading", require_cgroups=True)


def try_request(bundle: Path, code: str, snippet: str) -> GradeRequest:
    spec = tomllib.loads((bundle / "exercise.toml").read_text(encoding="utf-8"))
    return GradeRequest(
        submission_id=0,
        trial=spec["slug"],
        content_hash=bundle_content_hash(bundle_files(bundle), spec["realm"]),
        mode=Mode.TRY,
        code=code,
        snippet=snippet,
        limits=Limits(**spec.get("limits", {})),
    )


def run_try(grader: Grader, bundle: Path, code: str, snippet: str) -> tuple[GradeResult, str, str]:
    sink = ListSink()
    result = grade(try_request(bundle, code, snippet), grader, sink)
    stdout = "".join(str(event.payload) for event in sink.events if event.kind == "stdout")
    stderr = "".join(str(event.payload) for event in sink.events if event.kind == "stderr")
    return result, stdout, stderr


def test_the_snippet_calls_the_students_function_and_nothing_is_graded(grader: Grader) -> None:
    code = "def answer():\n    return 1729\n"
    result, stdout, _stderr = run_try(
        grader, PROBE, code, "print('got', solution.answer())\nsolution.answer() + 1\n"
    )
    assert result.verdict == Verdict.PASSED, result
    assert (result.score, result.checks) == (0.0, [])
    assert stdout.splitlines() == ["got 1729", "1730"]


def test_from_solution_import_works_and_a_snippet_error_is_its_traceback(grader: Grader) -> None:
    code = "def answer():\n    raise ValueError('not yet')\n"
    result, _stdout, stderr = run_try(grader, PROBE, code, "from solution import answer\nanswer()\n")
    assert result.verdict == Verdict.ERROR
    assert "ValueError: not yet" in stderr
    assert 'File "<try>", line 2' in stderr and "answer()" in stderr
    assert "/opt/huashen/lib" not in stderr  # the harness's own frames are left out


def test_an_error_in_solution_py_is_shown_as_the_students(grader: Grader) -> None:
    result, _stdout, stderr = run_try(grader, PROBE, "import nonexistent_module\n", "1\n")
    assert result.verdict == Verdict.ERROR
    assert "ModuleNotFoundError" in stderr and "solution.py" in stderr


def test_a_snippet_that_loops_forever_ends_on_the_trials_time_limit(grader: Grader) -> None:
    result, _stdout, _stderr = run_try(grader, PROBE, "x = 1\n", "while True:\n    pass\n")
    assert result.verdict == Verdict.TIME_LIMIT


@pytest.fixture(scope="module")
def trials_grader() -> Grader:
    return Grader(require_cgroups=True)


def test_a_matplotlib_figure_comes_back_as_a_png(trials_grader: Grader) -> None:
    # A real trial's limits: matplotlib needs more memory than the fixture trial's 384 MB.
    code = (TENSOR_BASICS / "reference" / "solution.py").read_text(encoding="utf-8")
    snippet = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.title('squares')\n"
    result, _stdout, stderr = run_try(trials_grader, TENSOR_BASICS, code, snippet)
    assert result.verdict == Verdict.PASSED, result
    assert stderr == ""  # no complaint about fonts or a display in the student's output
    assert [artifact["name"] for artifact in result.artifacts] == ["figure-1"]
    assert base64.b64decode(result.artifacts[0]["data"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_tensor_is_shown_with_its_shape_and_dtype(trials_grader: Grader) -> None:
    code = (TENSOR_BASICS / "reference" / "solution.py").read_text(encoding="utf-8")
    result, stdout, stderr = run_try(
        trials_grader, TENSOR_BASICS, code, "import torch\ntorch.arange(6).reshape(2, 3)\n"
    )
    assert result.verdict == Verdict.PASSED, (result, stderr)
    assert "tensor([[0, 1, 2]," in stdout
    assert "# shape (2, 3), dtype torch.int64, device cpu" in stdout
