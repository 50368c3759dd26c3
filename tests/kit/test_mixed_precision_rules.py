"""Trial 5.3's loss-falls rule, on observations written by hand: the driver's measurements against the
reference it replayed from the same start. Fast: only check.py runs, no sandbox."""

import json
from pathlib import Path

import pytest

from exercises.kit.check import run_check

BUNDLE = Path(__file__).resolve().parents[2] / "exercises" / "05-practice" / "03-mixed-precision"
STEPS = 66


def world(before: float, after: float | None, reference: float, *, first: float = 2.30) -> dict:
    return {
        "steps": STEPS,
        "epochs": 3,
        "parameter_dtypes": ["torch.float32"],
        "loss_before": before,
        "loss_after": after,
        "returned": {
            "type": "list",
            "length": STEPS,
            "item_types": ["float"],
            "all_finite": True,
            "first": first,
        },
        "reference": {"loss_after": reference, "first_loss": 2.30, "steps": STEPS},
    }


def loss_falls(tmp_path: Path, cpu: dict, cuda: dict, mode: str = "submit") -> dict:
    out = tmp_path / "out"
    out.mkdir()
    (out / "observations.json").write_text(json.dumps({"cpu.amp": cpu, "cuda.amp": cuda}), encoding="utf-8")
    report = run_check(BUNDLE, out, mode)
    return next(check for check in report["checks"] if check["key"] == "loss-falls")


@pytest.mark.parametrize(
    ("after", "reference", "passed"),
    [
        (0.52, 0.52, True),  # as the reference trained
        (0.74, 0.50, True),  # 0.24 above it
        (0.80, 0.50, False),  # more than 0.25 above it
        (1.20, 1.20, True),  # a rare start where the reference itself ends at 1.2: no fixed halving
        (1.80, 1.20, False),  # less than half the reference's fall
        (2.30, 0.50, False),  # did not learn (clipping before unscale_ on the float16 path)
        (None, 0.50, False),  # the weights did not fit the model given
    ],
)
def test_the_loss_is_judged_against_the_reference_from_the_same_start(
    tmp_path, after, reference, passed
) -> None:
    check = loss_falls(tmp_path, world(2.3, 0.5, 0.5), world(2.3, after, reference))
    assert check["passed"] is passed, check["message"]["en"]


def test_run_judges_the_cpu_world_only(tmp_path) -> None:
    check = loss_falls(tmp_path, world(2.3, 0.5, 0.5), world(2.3, 2.3, 0.5), mode="run")
    assert check["passed"], check["message"]["en"]


def test_the_first_returned_loss_must_be_the_first_batchs(tmp_path) -> None:
    check = loss_falls(tmp_path, world(2.3, 0.5, 0.5, first=0.4), world(2.3, 0.5, 0.5))
    assert not check["passed"]
    assert "first loss returned" in check["message"]["en"]


def test_observed_checks_say_so(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "observations.json").write_text("{}", encoding="utf-8")
    report = run_check(BUNDLE, out, "submit")
    for check in report["checks"]:
        observed = "cannot be recomputed outside" in check["message"]["en"]
        assert observed == (check["key"] != "loss-falls"), check
        assert ("无法在外面重算" in check["message"]["zh"]) == observed, check
