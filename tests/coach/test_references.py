"""The coach against every trial's solutions: no finding on a reference (it would contradict what the trial
teaches), and the known-wrong solutions whose bug shows in the source are named by the rule for it."""

from pathlib import Path

import pytest

from huashen.coach.analysis import code_analyze

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
REFERENCES = sorted(EXERCISES.glob("*/*/reference/*.py"))

# Wrong solutions whose mistake is visible in the source, and the rule that must name it.
NAMED = {
    "01-tensors/03-reproducibility/wrong/same_seed_every_worker.py": "worker-seed-ignores-id",
    "01-tensors/05-no-grad-detach/wrong/detach_after_forward.py": "validation-with-grad",
    "01-tensors/05-no-grad-detach/wrong/dot_data.py": "dot-data",
    "01-tensors/05-no-grad-detach/wrong/logs_loss_tensor.py": "loss-tensor-kept",
    "02-models/01-custom-module/wrong/mixes_samples.py": "view-after-transpose",
    "02-models/01-custom-module/wrong/softmax_in_forward.py": "softmax-before-cross-entropy",
    "02-models/03-train-loop/wrong/no_zero_grad.py": "zero-grad-missing",
    "02-models/03-train-loop/wrong/zero_grad_once_per_epoch.py": "zero-grad-missing",
    "02-models/03-train-loop/wrong/predicts_in_train_mode.py": "validation-without-eval",
    "02-models/03-train-loop/wrong/validates_in_train_mode.py": "validation-without-eval",
    "02-models/03-train-loop/wrong/validates_with_grad.py": "validation-with-grad",
    "02-models/04-lr-schedulers/wrong/steps_every_batch.py": "scheduler-step-per-batch",
    "05-practice/03-mixed-precision/wrong/clips_before_unscale.py": "clip-before-unscale",
    "01-tensors/05-no-grad-detach/wrong/forge_logged_floats.py": "loss-tensor-kept",
    "02-models/01-custom-module/wrong/flattens_whole_batch.py": "flatten-drops-batch",
    "02-models/01-custom-module/wrong/forgets_super_init.py": "super-init-missing",
    "02-models/01-custom-module/wrong/layers_in_a_list.py": "layers-in-plain-list",
    "02-models/03-train-loop/wrong/never_back_to_train.py": "train-mode-not-restored",
    "02-models/04-lr-schedulers/wrong/metric_for_every_scheduler.py": "metric-to-epoch-scheduler",
    "02-models/04-lr-schedulers/wrong/plateau_without_metric.py": "plateau-step-without-metric",
    "04-transfer-deploy/03-export/wrong/forgets_eval.py": "export-in-train-mode",
    "04-transfer-deploy/04-fastapi-service/wrong/forgets_eval.py": "validation-without-eval",
    "05-practice/02-lightning/wrong/returns_item.py": "training-step-returns-float",
    "05-practice/02-lightning/wrong/steps_inside_training_step.py": "lightning-manual-step",
    "05-practice/03-mixed-precision/wrong/returns_tensors.py": "loss-tensor-kept",
    "05-practice/03-mixed-precision/wrong/seed_torch_cuda_amp.py": "deprecated-api",
    "05-practice/03-mixed-precision/wrong/step_past_the_scaler.py": "step-past-scaler",
    "01-tensors/03-reproducibility/wrong/entropy_worker_seed.py": "worker-seed-ignores-id",
    "02-models/03-train-loop/wrong/forge_patch_torch_equal.py": "zero-grad-missing",
}


def test_there_are_references_to_read() -> None:
    assert len(REFERENCES) >= 50


@pytest.mark.parametrize("path", REFERENCES, ids=lambda path: str(path.relative_to(EXERCISES)))
def test_a_reference_solution_draws_no_finding(path: Path) -> None:
    analysis = code_analyze(path.read_text(encoding="utf-8"))
    assert analysis.parse_error is None and analysis.complete
    assert analysis.findings == []


@pytest.mark.parametrize(("relative", "rule"), sorted(NAMED.items()))
def test_a_wrong_solution_is_named_by_its_rule(relative: str, rule: str) -> None:
    analysis = code_analyze((EXERCISES / relative).read_text(encoding="utf-8"))
    assert rule in {finding.rule for finding in analysis.findings}
