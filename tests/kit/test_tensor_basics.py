"""Golden tests for trial 1.1 (tensor-basics): probe in a subprocess, then the trusted check.

Given every reference and known-wrong solution of the bundle, when the probe runs against it (as the
harness would, without the sandbox) and the check scores the out folder, then the references score
100 % and each wrong solution fails exactly the checks its `# must fail:` line names.
"""

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from exercises.kit.check import SOLUTION_RAISED, load_checks, run_check
from tests.kit.helpers import TENSOR_BASICS, failed_keys, must_fail, run_probe_subprocess, stage

# Module-scoped golden runs: each pytest worker that collects this module grades the solutions once.

REFERENCES = sorted((TENSOR_BASICS / "reference").glob("*.py"))
WRONGS = sorted((TENSOR_BASICS / "wrong").glob("*.py"))
STARTER = TENSOR_BASICS / "starter.py"
ALL_KEYS = {"shape", "dtype", "describe", "device-follows-availability", "round-trip"}
VISIBLE_KEYS = {"shape", "dtype", "describe"}


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """Every solution's probe run (submit mode) and check report, run a few at a time."""
    solutions = [*REFERENCES, *WRONGS, STARTER]
    workers = max(2, min(4, os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            _name(path): pool.submit(run_probe_subprocess, stage(tmp_path_factory.mktemp(path.stem), path))
            for path in solutions
        }
        runs = {name: future.result() for name, future in futures.items()}
    return {name: (run, run_check(TENSOR_BASICS, run.out, "submit")) for name, run in runs.items()}


def test_bundle_declares_the_agreed_checks() -> None:
    checks = {check.key: check for check in load_checks(TENSOR_BASICS)}
    assert set(checks) == ALL_KEYS
    assert {key for key, check in checks.items() if check.visible} == VISIBLE_KEYS
    assert sum(check.points for check in checks.values()) == 100


def test_bundle_has_references_and_at_least_three_wrong_solutions() -> None:
    assert REFERENCES
    assert len(WRONGS) >= 3


@pytest.mark.parametrize("solution", REFERENCES, ids=_name)
def test_reference_scores_100_percent(golden: dict, solution: Path) -> None:
    run, report = golden[_name(solution)]
    assert run.returncode == 0, run.stderr
    assert report["solution_error"] is None
    assert report["probe_error"] is None
    assert report["internal_errors"] == []
    assert failed_keys(report) == set(), [c["message"]["en"] for c in report["checks"] if not c["passed"]]
    assert {check["key"] for check in report["checks"]} == ALL_KEYS
    assert report["score"] == 100.0


@pytest.mark.parametrize("solution", WRONGS, ids=_name)
def test_wrong_solution_fails_exactly_the_checks_it_names(golden: dict, solution: Path) -> None:
    named = must_fail(solution)
    assert named, f"{solution.name} names no checks"
    assert named <= ALL_KEYS, f"{solution.name} names unknown checks {named - ALL_KEYS}"
    run, report = golden[_name(solution)]
    assert run.returncode == 0, run.stderr
    assert report["solution_error"] is None
    assert report["internal_errors"] == []
    assert failed_keys(report) == named
    for check in report["checks"]:
        if not check["passed"]:
            assert check["message"]["en"] and check["message"]["zh"]
            assert check["message"]["en"] != check["message"]["zh"]


def test_starter_imports_cleanly_and_scores_zero(golden: dict) -> None:
    run, report = golden[_name(STARTER)]
    assert run.returncode == 0
    assert report["solution_error"] is None  # the starter imports; its functions raise "not written yet"
    assert failed_keys(report) == ALL_KEYS
    assert report["score"] == 0.0
    shape = next(check for check in report["checks"] if check["key"] == "shape")
    assert "NotImplementedError" in shape["message"]["en"]


def test_failure_messages_name_the_failing_case(golden: dict) -> None:
    _, report = golden["wrong/ignores_dtype.py"]
    (dtype,) = [check for check in report["checks"] if check["key"] == "dtype"]
    assert "make_tensor((1,), torch.float64)" in dtype["message"]["en"]
    assert "torch.float32" in dtype["message"]["zh"]


def test_run_mode_reports_only_visible_checks(tmp_path: Path) -> None:
    reference = stage(tmp_path / "reference", TENSOR_BASICS / "reference" / "solution.py")
    hidden_mistake = stage(tmp_path / "cpu", TENSOR_BASICS / "wrong" / "hard_coded_cpu.py")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda work: run_probe_subprocess(work, "run"), [reference, hidden_mistake]))
    for run in runs:
        report = run_check(TENSOR_BASICS, run.out, "run")
        assert {check["key"] for check in report["checks"]} == VISIBLE_KEYS
        assert all(check["visible"] for check in report["checks"])
        # The hard-coded device is a hidden check's business: Run shows nothing wrong, Submit does.
        assert report["score"] == 100.0


IMPORT_ERROR = """\
import torch


def load_settings():
    return {"scale": 1} ["scale"] / 0


SETTINGS = load_settings()
"""


def test_solution_that_raises_at_import_gets_its_own_traceback(tmp_path: Path) -> None:
    run = run_probe_subprocess(stage(tmp_path, IMPORT_ERROR))
    assert run.returncode == 0  # verdicts never come from the exit status
    report = run_check(TENSOR_BASICS, run.out, "submit")
    traceback = report["solution_error"]
    solution = str(run.work / "solution.py")
    assert f'File "{solution}", line 8, in <module>' in traceback
    assert f'File "{solution}", line 5, in load_settings' in traceback
    assert traceback.rstrip().endswith("ZeroDivisionError: division by zero")
    for ours in ("exercises/kit", "probe.py", "importlib", "<frozen", "run_probe"):
        assert ours not in traceback
    assert failed_keys(report) == ALL_KEYS
    assert all(check["message"] == SOLUTION_RAISED for check in report["checks"])
    assert "ZeroDivisionError" in run.stderr  # the student's log shows it too


def test_syntax_error_is_reported_with_the_students_line(tmp_path: Path) -> None:
    run = run_probe_subprocess(stage(tmp_path, "import torch\n\ndef make_tensor(shape, dtype)\n    pass\n"))
    report = run_check(TENSOR_BASICS, run.out, "submit")
    assert "SyntaxError" in report["solution_error"]
    assert "line 3" in report["solution_error"]
    assert "exercises/kit" not in report["solution_error"]


def test_a_cuda_out_of_memory_error_on_a_cpu_grader_is_only_a_failed_call(tmp_path: Path) -> None:
    """The verdict comes from what the driver saw: a CPU grader has no GPU to run out of, so the
    student's process claiming a CUDA OOM (raising the exception) only fails the calls it raised in."""
    source = (TENSOR_BASICS / "reference" / "solution.py").read_text() + (
        "\n\ndef make_tensor(shape, dtype):\n"
        '    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")\n'
    )
    run = run_probe_subprocess(stage(tmp_path, source))
    report = run_check(TENSOR_BASICS, run.out, "submit")
    assert report["gpu_oom"] is False
    assert report["solution_error"] is None
    assert {"shape", "dtype"} <= failed_keys(report)


# --- forging observations ------------------------------------------------------------------------------

FORGE_THEN_EXIT = """\
import json, os
from pathlib import Path

out = Path(__file__).parent / "out"
forged = {{
    "shape": True, "dtype": True, "describe": True, "device-follows-availability": True, "round-trip": True,
    "make.example": {{"type": "torch.Tensor", "shape": [2, 3], "dtype": "torch.float32", "device": "cpu"}},
    "passed": True, "score": 100,
}}
(out / "observations.json").write_text(json.dumps(forged))
(out / "error.json").write_text(json.dumps({{"kind": "nothing"}}))
{exit}
"""


def test_forged_observations_written_before_an_early_exit_score_nothing(tmp_path: Path) -> None:
    """The student's process ends itself after writing out/: the driver, another process, still writes
    the observations, and says the process ended before it answered."""
    run = run_probe_subprocess(stage(tmp_path, FORGE_THEN_EXIT.format(exit="os._exit(0)")))
    assert run.returncode == 0
    assert "passed" not in json.loads((run.out / "observations.json").read_text())  # replaced
    report = run_check(TENSOR_BASICS, run.out, "submit")
    assert failed_keys(report) == ALL_KEYS
    assert report["score"] == 0.0
    assert "ended before it answered" in report["solution_error"] and report["gpu_oom"] is False


def test_forged_observations_are_overwritten_by_the_probes_final_write(tmp_path: Path, golden: dict) -> None:
    """Even a perfect copy of a reference run's observations, written at import, is replaced."""
    reference_run, _ = golden["reference/solution.py"]
    copied = (reference_run.out / "observations.json").read_text()
    source = (
        "import pathlib\n"
        f"(pathlib.Path(__file__).parent / 'out' / 'observations.json').write_text({copied!r})\n"
        + STARTER.read_text()
    )
    run = run_probe_subprocess(stage(tmp_path, source))
    report = run_check(TENSOR_BASICS, run.out, "submit")
    assert failed_keys(report) == ALL_KEYS
    assert json.loads((run.out / "observations.json").read_text()) != json.loads(copied)


def test_files_planted_in_out_before_the_run_are_removed(tmp_path: Path, golden: dict) -> None:
    """A correct out folder left in place (by a previous run or the student) does not survive the probe."""
    reference_run, _ = golden["reference/solution.py"]
    work = stage(tmp_path, STARTER)
    shutil.rmtree(work / "out")
    shutil.copytree(reference_run.out, work / "out")
    assert run_check(TENSOR_BASICS, work / "out", "submit")["score"] == 100.0  # what was planted
    run = run_probe_subprocess(work)
    report = run_check(TENSOR_BASICS, run.out, "submit")
    assert report["score"] == 0.0
    assert not (run.out / "arrays").exists()  # the starter's round_trip raises, so it saved none


# --- live metrics ------------------------------------------------------------------------------------

REPORTING = (
    (TENSOR_BASICS / "reference" / "solution.py").read_text()
    + """

from exercises.kit.report import report

for step in range(3):
    report(step=step, loss=1.0 / (step + 1), accuracy=torch.tensor(0.5))
report(loss=float("nan"))
"""
)


def test_student_metric_reports_reach_fd_3_as_json_lines(tmp_path: Path) -> None:
    run = run_probe_subprocess(stage(tmp_path, REPORTING), events=True)
    metrics = [event for event in run.events if "metrics" in event]
    # The module runs three times (once plainly, once per simulated device world): 4 reports each.
    assert len(metrics) == 12
    assert metrics[0] == {"step": 0, "metrics": {"loss": 1.0, "accuracy": 0.5}}
    assert metrics[3] == {"step": None, "metrics": {"loss": "nan"}}
    report = run_check(TENSOR_BASICS, run.out, "submit")
    assert report["score"] == 100.0


def test_reports_without_an_events_pipe_are_dropped_silently(tmp_path: Path) -> None:
    run = run_probe_subprocess(stage(tmp_path, REPORTING), events=False)
    assert run.returncode == 0
    assert run_check(TENSOR_BASICS, run.out, "submit")["score"] == 100.0
