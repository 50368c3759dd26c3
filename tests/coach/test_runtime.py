"""What a finished run says (huashen.coach.runtime), read from the stored traceback, metrics and resources.

The tracebacks are produced by torch itself where a CPU can produce them (shapes, dtypes, autograd), so a
change of wording in a torch upgrade fails here; a device mismatch needs two devices, so its messages are
torch's own text as CUDA builds print them.
"""

import traceback as traceback_module

import pytest
import torch

from huashen.coach.runtime import run_diagnose


def traceback_of(code: str) -> str:
    """Run `code` as if it were the student's solution.py and return the traceback text it raises."""
    try:
        exec(compile(code, "/work/solution.py", "exec"), {"torch": torch})  # noqa: S102  (the test's own code)
    except Exception:
        return traceback_module.format_exc()
    raise AssertionError("the code raised nothing")


def diagnose(traceback: str = "", log: list | None = None, verdict: str = "error", **kwargs) -> list[dict]:
    return run_diagnose(
        traceback=traceback, log=log or [], verdict=verdict, resources=kwargs.get("resources", {}),
        limits=kwargs.get("limits", {}),
    )  # fmt: skip


def rules(diagnoses: list[dict]) -> list[str]:
    return [diagnosis["rule"] for diagnosis in diagnoses]


def test_a_linear_layer_with_the_wrong_in_features_names_both_sizes_and_the_line() -> None:
    text = traceback_of("layer = torch.nn.Linear(10, 3)\nx = torch.ones(4, 12)\nlayer(x)\n")
    (found,) = diagnose(text)
    assert found["rule"] == "linear-in-features" and found["line"] == 3
    assert (
        "12" in found["title"]["en"] and "10" in found["title"]["en"] and "in_features" in found["why"]["en"]
    )
    assert "12" in found["title"]["zh"]


def test_float64_inputs_to_a_float32_model_are_a_dtype_mismatch() -> None:
    text = traceback_of("layer = torch.nn.Linear(2, 1)\nlayer(torch.ones(3, 2, dtype=torch.float64))\n")
    assert rules(diagnose(text)) == ["dtype-mismatch"]
    assert diagnose(text)[0]["line"] == 2


def test_float_labels_for_cross_entropy_say_labels_must_be_long() -> None:
    for labels in ("torch.zeros(4)", "torch.zeros(4, dtype=torch.int32)"):
        text = traceback_of(
            f"import torch.nn.functional as F\nF.cross_entropy(torch.zeros(4, 3), {labels})\n"
        )
        found = diagnose(text)
        assert rules(found) == ["cross-entropy-target-dtype"], text
        assert "torch.long" in found[0]["why"]["en"] and found[0]["line"] == 2


def test_backward_on_a_detached_loss_and_backward_twice_and_an_inplace_change() -> None:
    detached = traceback_of("w = torch.ones(2, requires_grad=True)\n(w * 2).sum().detach().backward()\n")
    assert rules(diagnose(detached)) == ["backward-without-graph"]
    twice = traceback_of(
        "w = torch.ones(2, requires_grad=True)\nloss = (w.exp()).sum()\nloss.backward()\nloss.backward()\n"
    )
    assert rules(diagnose(twice)) == ["backward-twice"] and diagnose(twice)[0]["line"] == 4
    inplace = traceback_of("w = torch.ones(2, requires_grad=True)\ny = w.exp()\ny += 1\ny.sum().backward()\n")
    assert rules(diagnose(inplace)) == ["inplace-on-saved-tensor"]


@pytest.mark.parametrize(
    ("message", "devices"),
    [
        ("RuntimeError: Expected all tensors to be on the same device, but found at least two devices, "
         "cuda:0 and cpu! (when checking argument for argument mat1 in method wrapper_CUDA_addmm)", "cuda:0 and cpu"),
        ("RuntimeError: Expected all tensors to be on the same device, but got mat2 is on cpu, different from "
         "other tensors on cuda:0 (when checking argument in method wrapper_CUDA_mm)", "cpu and cuda:0"),
        ("RuntimeError: Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the "
         "same or input should be a MKLDNN tensor and weight is a dense tensor", "cpu and cuda"),
    ],
)  # fmt: skip
def test_a_device_mismatch_names_both_devices(message: str, devices: str) -> None:
    text = f'Traceback (most recent call last):\n  File "/work/solution.py", line 7, in train\n{message}\n'
    found = diagnose(text)
    assert rules(found) == ["device-mismatch"], found
    assert devices in found[0]["title"]["en"] and found[0]["line"] == 7


def test_the_first_non_finite_metric_is_named_with_its_step() -> None:
    log = [
        {"seq": 1, "kind": "status", "payload": {"status": "running"}},
        {"seq": 2, "kind": "metric", "payload": {"step": 1, "metrics": {"loss": 2.3, "accuracy": 0.1}}},
        {"seq": 3, "kind": "metric", "payload": {"step": 2, "metrics": {"loss": None, "accuracy": 0.1}}},
        {"seq": 4, "kind": "metric", "payload": {"step": 3, "metrics": {"loss": None, "accuracy": None}}},
    ]
    (found,) = diagnose(log=log, verdict="failed")
    assert found["rule"] == "non-finite-metric" and found["line"] is None
    assert "step 2" in found["title"]["en"] and "loss" in found["title"]["en"]
    assert "accuracy" not in found["title"]["en"]


def test_a_loss_that_grew_tenfold_is_diverging_and_a_falling_one_is_not() -> None:
    def metrics(values: list[float]) -> list[dict]:
        return [
            {"kind": "metric", "payload": {"step": i, "metrics": {"loss": v}}} for i, v in enumerate(values)
        ]

    assert rules(diagnose(log=metrics([2.0, 5.0, 40.0]), verdict="failed")) == ["loss-diverging"]
    assert diagnose(log=metrics([2.0, 1.0, 0.5]), verdict="passed") == []
    assert diagnose(log=metrics([2.0, 30.0]), verdict="failed") == []  # two points are no trend


def test_memory_limit_says_the_peak_against_the_limit() -> None:
    (found,) = diagnose(
        verdict="memory_limit", resources={"peak_memory_mb": 1023.6}, limits={"memory_mb": 1024}
    )
    assert found["rule"] == "memory-limit" and "1024 MB" in found["title"]["en"]
    assert diagnose(verdict="failed", resources={"peak_memory_mb": 10.0}, limits={"memory_mb": 1024}) == []


def test_a_hostile_traceback_is_quoted_short_and_nothing_else_is_found() -> None:
    long_device = "cuda:" + "9" * 500
    text = f"Expected all tensors to be on the same device, but found at least two devices, {long_device} and cpu!"
    (found,) = diagnose(text)
    assert len(found["title"]["en"]) < 120
    assert diagnose("SyntaxError: nothing torch would say", verdict="error") == []
    assert diagnose("", log=[{"kind": "metric", "payload": "not a dict"}, "garbage", None]) == []


def test_the_api_gives_the_runtime_diagnoses_of_a_finished_submission(
    personas, curriculum, client_for
) -> None:
    from huashen.grading.models import Status, Submission, Verdict

    submission = Submission.objects.create(
        user=personas.alice, exercise=curriculum["r1t1"], version=curriculum["r1t1"].current_version,
        code="x = 1\n", mode="submit", status=Status.DONE, verdict=Verdict.ERROR, score=0.0,
        traceback=traceback_of("torch.nn.Linear(10, 3)(torch.ones(4, 12))\n"),
        deadline=curriculum["r1t1"].current_version.created_at,
    )  # fmt: skip
    body = client_for(personas.alice).get(f"/api/v1/submissions/{submission.pk}/coach/").json()
    assert [item["rule"] for item in body["runtime"]] == ["linear-in-features"]
    assert body["runtime"][0]["line"] == 1
    assert client_for(personas.bob).get(f"/api/v1/submissions/{submission.pk}/coach/").status_code == 404
    Submission.objects.filter(pk=submission.pk).update(status=Status.RUNNING)
    assert (
        client_for(personas.alice).get(f"/api/v1/submissions/{submission.pk}/coach/").json()["runtime"] == []
    )
