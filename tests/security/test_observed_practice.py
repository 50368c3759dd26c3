"""Observed checks of realm 5: what a replaced routine in the student's process says is believed.

Trial 5.2 (lightning) is graded behind the boundary, but whether `Trainer.fit` ran, how often each hook
was called and which parameters the optimizers held are seen only by the trial's routine in the
student's process, which the student's code can replace. Its one verified check is the held-out
accuracy, which a hand-written loop reaches too. So a submission that trains without Lightning and
replaces `agent_train` to report a perfect fit passes: recorded here as a strict expected failure, on
the cold path and on the warm pool, until those facts are checked outside (docs/architecture.md,
"Known limits"). The same submission without the replaced routine fails trainer-fit, which shows the
base case is caught and only the forging makes the difference.

Trial 5.1 (cutmix) likewise: whether the caller's tensors still hold the batch after a call is seen only
in the student's process, so `wrong/pastes_in_place.py` with a routine that reports them unchanged
passes inputs-unchanged; every other check there is verified and stays as it is.
"""

import logging
from pathlib import Path

import pytest

from tests.golden.test_golden import grade_solution
from workers.grader import Grader
from workers.protocol import Verdict

ROOT = Path(__file__).resolve().parents[2]
LIGHTNING = ROOT / "exercises" / "05-practice" / "02-lightning"
CUTMIX = ROOT / "exercises" / "05-practice" / "01-cutmix"
PASTES_IN_PLACE = (CUTMIX / "wrong" / "pastes_in_place.py").read_text(encoding="utf-8")
REPORTS_INPUTS_UNCHANGED = (
    PASTES_IN_PLACE
    + """
import sys
probe = sys.modules["huashen_probe"]
_series = probe.agent_series
def agent_series(solution, *args):
    answer = _series(solution, *args)
    answer["inputs"] = {"calls": answer["calls"], "images_changed": 0, "labels_changed": 0}
    return answer
probe.agent_series = agent_series
"""
)
MANUAL_LOOP = (LIGHTNING / "wrong" / "manual_loop.py").read_text(encoding="utf-8")
REPLACED_ROUTINE = (
    MANUAL_LOOP
    + """
import sys
probe = sys.modules["huashen_probe"]
_train = probe.agent_train
def agent_train(solution, run, seed):
    answer = _train(solution, run, seed)
    batches, checks = answer["train_batches"], answer["validation_batches"]
    epochs = probe.MAX_EPOCHS
    answer.update(
        fit_calls=1, fit_model_type="DigitsModule", fit_model_is_lightning=True,
        overridden=dict.fromkeys(probe.HOOKS, True), configure_optimizers_calls=1,
        training_steps=epochs * batches, training_epochs=list(range(epochs)),
        training_returns={"tensor-with-grad": epochs * batches}, optimizer_steps=epochs * batches,
        validation_steps=epochs * checks, logs={"validate:val_acc": epochs * checks},
        returned_was_fitted=True,
    )
    module = probe._AGENT["models"][run]
    names = [name for name, _ in module.named_parameters()]
    after = [p.detach().clone() for p in module.parameters()]
    answer["parameters"] = {"names": names, "not_optimized": [], "before": [p - 1 for p in after], "after": after}
    return answer
probe.agent_train = agent_train
"""
)


@pytest.fixture(scope="module", params=["cold", "warm"])
def grader(request: pytest.FixtureRequest):
    path = request.param
    grader = Grader(exercises_dir=ROOT / "exercises", require_cgroups=True, warm=path == "warm")
    if path == "warm":
        pool = grader.warm_pool(wait=True)
        assert pool is not None and pool.ready() is not None, pool and pool.problems
    yield path, grader
    pool = grader.warm_pool() if path == "warm" else None
    if pool is not None:
        pool.close()
    checker = grader.warm_checker()
    if checker is not None:
        checker.close()


def grade(grader, code: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, bundle: Path = LIGHTNING):
    path, grader = grader
    solution = tmp_path / "solution.py"
    solution.write_text(code, encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        _spec, result, _sink = grade_solution(grader, bundle, solution)
    ran = "warm" if "warm sandbox run" in caplog.text else "cold"
    assert ran == path, f"the job ran {ran}, not {path}"
    return result


def explain(result) -> str:
    failed = [check.key for check in result.checks if not check.passed]
    return f"{result.verdict} {result.score} failed={failed}\n{result.traceback[-800:]}"


def test_a_hand_written_loop_fails_trainer_fit(grader, tmp_path, caplog) -> None:
    result = grade(grader, MANUAL_LOOP, tmp_path, caplog)
    assert result.verdict == Verdict.FAILED, explain(result)
    assert "trainer-fit" in {check.key for check in result.checks if not check.passed}, explain(result)
    assert "accuracy" not in {check.key for check in result.checks if not check.passed}, explain(result)


@pytest.mark.xfail(
    strict=True,
    reason="observed checks: trial 5.2's Lightning facts are seen only by its routine in the student's "
    "process, which the student's code can replace; docs/architecture.md lists them",
)
def test_replacing_the_fit_watch_fakes_the_structure_checks(grader, tmp_path, caplog) -> None:
    result = grade(grader, REPLACED_ROUTINE, tmp_path, caplog)
    assert result.verdict != Verdict.PASSED, explain(result)


def failed(result) -> set[str]:
    return {check.key for check in result.checks if not check.passed}


def test_pasting_into_the_callers_batch_fails_inputs_unchanged(grader, tmp_path, caplog) -> None:
    result = grade(grader, PASTES_IN_PLACE, tmp_path, caplog, CUTMIX)
    assert failed(result) == {"inputs-unchanged"}, explain(result)


@pytest.mark.xfail(
    strict=True,
    reason="observed check: whether cutmix changed the caller's tensors is seen only by trial 5.1's routine "
    "in the student's process, which the student's code can replace; docs/architecture.md lists it",
)
def test_replacing_the_series_routine_fakes_inputs_unchanged(grader, tmp_path, caplog) -> None:
    result = grade(grader, REPORTS_INPUTS_UNCHANGED, tmp_path, caplog, CUTMIX)
    assert "inputs-unchanged" in failed(result), explain(result)
