"""The kit's instruments through the real sandbox: what the student's process measured reaches the
grade result (resources["instruments"]) by the agent's pipe, the driver's relay and the grader, each
checking it; a forged summary is dropped; the verdict is the same either way."""

from pathlib import Path

import pytest

from tests.golden.test_golden import EXERCISES, grade_solution
from workers.grader import Grader
from workers.protocol import Mode, Verdict

TRAIN_LOOP = EXERCISES / "02-models" / "03-train-loop"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(exercises_dir=EXERCISES, require_cgroups=True)


def grade_reference_with(grader: Grader, tmp_path: Path, addition: str):
    """Run trial 2.3's reference solution with `addition` appended; the grade result."""
    solution = tmp_path / "solution.py"
    solution.write_text((TRAIN_LOOP / "reference" / "solution.py").read_text() + addition)
    _spec, result, _sink = grade_solution(grader, TRAIN_LOOP, solution, Mode.RUN)
    return result


def test_a_training_trials_gradient_norms_and_data_wait_arrive_with_the_result(grader: Grader) -> None:
    _spec, result, _sink = grade_solution(
        grader, TRAIN_LOOP, TRAIN_LOOP / "reference" / "solution.py", Mode.RUN
    )
    assert result.verdict == Verdict.PASSED, result
    summary = result.resources["instruments"]
    grad, data = summary["grad"], summary["data"]
    # Trial 2.3's model: Linear, BatchNorm1d, ReLU, Dropout, Linear; Run: 4 epochs of 17 batches (1077 samples)
    assert [layer[0] for layer in grad["layers"]] == ["0", "1", "4"]
    assert grad["steps"] == 4 * 17 and grad["exploding"] is None
    assert all(isinstance(value, float) and value > 0 for layer in grad["layers"] for value in layer[1:])
    assert data["batches"] == 4 * (18 + 6) and data["batch_size"] == 64 and data["num_workers"] == 0
    assert 0 < data["wait_s"] <= data["loop_s"]
    assert "memory" not in summary  # a small run never grows markedly


FORGER = """

import os

_predict = predict


def predict(model, x):  # after training: the kit has nothing new to send, so these lines come last
    for line in (b'{"instruments": {"grad": {"steps": "all"}}}', b'{"instruments": [1]}',
                 b'{"instruments": {"data": {"wait_s": 1e308, "loop_s": 1, "batches": 1, "num_workers": 0}}}'):
        os.write(3, line + b"\\n")
    return _predict(model, x)
"""


def test_a_summary_forged_by_the_students_code_is_dropped_and_the_verdict_stands(
    grader: Grader, tmp_path: Path
) -> None:
    result = grade_reference_with(grader, tmp_path, FORGER)
    assert result.verdict == Verdict.PASSED, result
    summary = result.resources["instruments"]  # the kit's own, the last well-formed one
    assert summary["grad"]["steps"] == 4 * 17 and summary["data"]["wait_s"] < 1e6


SLOW_DATA = """

import time as _time

from torch.utils.data import DataLoader as _DataLoader, Dataset as _Dataset


class _Slow(_Dataset):
    def __len__(self):
        return 240

    def __getitem__(self, index):
        _time.sleep(0.01)  # as if each sample were read and decoded from disk
        return index


_train = train


def train(*args, **kwargs):
    for _batch in _DataLoader(_Slow(), batch_size=4):
        pass
    _train(*args, **kwargs)
"""


def test_a_loop_that_waits_for_data_is_measured_in_the_sandbox_and_explained(
    grader: Grader, tmp_path: Path
) -> None:
    from huashen.coach.runtime import run_diagnose

    result = grade_reference_with(grader, tmp_path, SLOW_DATA)
    data = result.resources["instruments"]["data"]
    assert data["wait_s"] >= 2.0 and data["wait_s"] / data["loop_s"] > 0.5
    assert (data["num_workers"], data["batch_size"]) == (0, 4)
    found = run_diagnose(
        traceback="", log=[], verdict=result.verdict.value, resources=result.resources, limits={}
    )
    (diagnosis,) = [item for item in found if item["rule"] == "data-loader-bound"]
    assert "num_workers=0, batch_size=4" in diagnosis["title"]["en"]
