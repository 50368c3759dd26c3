"""Which failed check a finding most likely explains, per trial: trial slug → check key → the rules whose
mistake makes that check fail. Kept here, beside the rules, because the platform never imports the trial
bundles; `tests/coach/test_explains.py` holds it to each bundle's wrong solutions (`# must fail: …`)."""

from collections.abc import Iterable, Mapping
from typing import Any

EXPLAINS: dict[str, dict[str, frozenset[str]]] = {
    "reproducibility": {
        "same-augmentation": frozenset({"worker-seed-ignores-id"}),
        "fresh-randomness": frozenset({"worker-seed-ignores-id"}),
    },
    "no-grad-detach": {
        "predict-no-graph": frozenset({"validation-with-grad"}),
        "detach-tracks-inplace": frozenset({"dot-data"}),
        "logged-loss-float": frozenset({"loss-tensor-kept"}),
    },
    "custom-module": {
        "output-shape": frozenset({"flatten-drops-batch", "super-init-missing"}),
        "parameters": frozenset({"super-init-missing", "layers-in-plain-list"}),
        "flatten-in-forward": frozenset({"flatten-drops-batch", "view-after-transpose"}),
        "logits": frozenset({"view-after-transpose", "softmax-before-cross-entropy"}),
    },
    "train-loop": {
        "zero-grad": frozenset({"zero-grad-missing"}),
        "train-mode": frozenset({"train-mode-not-restored"}),
        "eval-no-grad": frozenset({"validation-without-eval", "validation-with-grad"}),
    },
    "lr-schedulers": {
        "one-step-per-epoch": frozenset({"metric-to-epoch-scheduler", "scheduler-step-per-batch"}),
        "plateau-val-metric": frozenset({"plateau-step-without-metric"}),
    },
    "export": {
        "torchscript-trace": frozenset({"export-in-train-mode"}),
        "torch-export": frozenset({"export-in-train-mode"}),
    },
    "fastapi-service": {
        "predictions": frozenset({"validation-without-eval"}),
        "deterministic": frozenset({"validation-without-eval"}),
    },
    "lightning": {
        "optimizer-steps": frozenset({"training-step-returns-float", "lightning-manual-step"}),
        "accuracy": frozenset({"training-step-returns-float"}),
    },
    "mixed-precision": {
        "loss-falls": frozenset({"clip-before-unscale", "loss-tensor-kept"}),
        "current-api": frozenset({"deprecated-api"}),
        "cpu-bfloat16": frozenset({"deprecated-api"}),
        "scaler-steps": frozenset({"step-past-scaler"}),
    },
}


def failed_check_keys(checks: Iterable[Any]) -> list[str]:
    """The keys of the failed checks among a submission's stored `checks`, in order."""
    return [
        str(check.get("key", ""))
        for check in checks
        if isinstance(check, dict) and check.get("key") and not check.get("passed")
    ]


def checks_explained(*, trial: str, rule: str, failed: Iterable[str]) -> list[str]:
    """The failed checks (keys, in their order) that a finding of `rule` most likely explains in `trial`."""
    table: Mapping[str, frozenset[str]] = EXPLAINS.get(trial, {})
    return [key for key in failed if rule in table.get(key, frozenset())]
