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


# -- what the kit's instruments measured inside the run (resources["instruments"]) -------------------


def measured(**sections) -> dict:
    return {"peak_memory_mb": 100.0, "instruments": sections}


def test_exploding_gradients_measured_in_a_run_name_the_layer_and_the_step_in_zh_and_en() -> None:
    from torch import nn

    from exercises.kit.instruments import Instruments

    instruments = Instruments().install()
    try:
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=100.0)
        x = torch.linspace(-50, 50, 64).reshape(16, 4)
        for _step in range(10):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True)).backward()
            optimizer.step()
        summary = instruments.summary()
    finally:
        instruments.remove()
    found = diagnose(verdict="failed", resources={"instruments": summary})
    assert "gradient-exploding" in rules(found)
    (exploding,) = [item for item in found if item["rule"] == "gradient-exploding"]
    layer, step = summary["grad"]["exploding"]["layer"], summary["grad"]["exploding"]["step"]
    assert f"layer {layer}'s" in exploding["title"]["en"] and f"number {step + 1}" in exploding["title"]["en"]
    assert f"{layer} 层" in exploding["title"]["zh"] and f"第 {step + 1} 次" in exploding["title"]["zh"]
    assert "clip_grad_norm_" in exploding["why"]["en"] and "clip_grad_norm_" in exploding["why"]["zh"]


def test_a_finite_norm_above_the_threshold_is_quoted() -> None:
    grad = {"steps": 5, "sampled": 5, "layers": [], "exploding": {"step": 0, "layer": "fc", "norm": 31000.0}}
    (found,) = diagnose(verdict="failed", resources=measured(grad=grad))
    assert "3.1e+04" in found["title"]["en"] and "step() number 1" in found["title"]["en"]


def layers(first: float, last: float, count: int = 4) -> list:
    middle = [[f"h{i}", 1.0, 1.0, 1.0, 1.0] for i in range(1, count - 1)]
    return [["h0", first, first, first, first], *middle, ["out", last, last, last, last]]


def test_vanishing_gradients_compare_the_first_layer_with_the_last_in_zh_and_en() -> None:
    grad = {"steps": 9, "sampled": 9, "layers": layers(2e-7, 0.5), "exploding": None}
    (found,) = diagnose(verdict="failed", resources=measured(grad=grad))
    assert found["rule"] == "gradient-vanishing" and found["line"] is None
    assert "h0" in found["title"]["en"] and "out" in found["title"]["en"] and "4e-07" in found["title"]["en"]
    assert "第一层 h0" in found["title"]["zh"] and "最后一层 out" in found["title"]["zh"]
    assert "ReLU" in found["why"]["en"] and "ReLU" in found["why"]["zh"]


@pytest.mark.parametrize(
    "grad",
    [
        {"layers": layers(0.01, 0.5)},  # within a thousandfold: healthy
        {"layers": layers(2e-7, 0.5, count=2)},  # two layers are not a deep stack
        {"layers": [["h0", "nan", "nan", "nan", "nan"], ["h1", 1.0, 1.0, 1.0, 1.0], ["out", 1, 1, 1, 1]]},
        {"layers": [["h0", 0.0, 0.0, 0.0, 0.0], ["h1", 1.0, 1.0, 1.0, 1.0], ["out", 1, 1, 1, 1]]},
        {"layers": "h0 1e-9 out 1"},
        {"layers": [["h0", "1e-9", 1e-9, 1e-9, 1e-9], ["h1", 1, 1, 1, 1], ["out", 1, 1, 1, 1]]},
        {"exploding": {"step": "1", "layer": "fc", "norm": "inf"}},
        {"exploding": {"step": 1, "layer": ["fc"], "norm": "inf"}},
        {"exploding": {"step": 1, "layer": "fc", "norm": "huge"}},
        {"exploding": {"step": True, "layer": "fc", "norm": 1e9}},
    ],
)
def test_healthy_or_malformed_gradient_figures_say_nothing(grad: dict) -> None:
    assert diagnose(verdict="failed", resources=measured(grad=grad)) == []


def test_a_loop_waiting_for_data_names_the_share_and_the_loader_in_zh_and_en() -> None:
    data = {"wait_s": 6.0, "loop_s": 8.0, "batches": 40, "num_workers": 0, "batch_size": 8}
    (found,) = diagnose(verdict="time_limit", resources=measured(data=data))
    assert found["rule"] == "data-loader-bound"
    assert "75%" in found["title"]["en"] and "num_workers=0, batch_size=8" in found["title"]["en"]
    assert "75%" in found["title"]["zh"] and "等数据" in found["title"]["zh"]
    assert "num_workers" in found["why"]["zh"] and "__getitem__" in found["why"]["en"]


@pytest.mark.parametrize(
    "data",
    [
        {"wait_s": 3.0, "loop_s": 8.0, "num_workers": 0, "batch_size": 8},  # mostly computing
        {"wait_s": 0.6, "loop_s": 0.7, "num_workers": 0, "batch_size": 8},  # too short to say
        {"wait_s": "6", "loop_s": 8.0, "num_workers": 0, "batch_size": 8},
        {"wait_s": 6.0, "loop_s": 0, "num_workers": 0, "batch_size": 8},
        {"wait_s": 6.0, "loop_s": 8.0, "num_workers": -1, "batch_size": 8},
        {"wait_s": float("nan"), "loop_s": 8.0, "num_workers": 0, "batch_size": 8},
    ],
)
def test_a_loop_that_mostly_computes_or_malformed_timings_say_nothing(data: dict) -> None:
    assert diagnose(verdict="failed", resources=measured(data=data)) == []


def test_memory_limit_names_the_largest_tensors_alive_and_skips_malformed_ones() -> None:
    memory = {
        "peak_mb": 900.0,
        "tensors": [
            {"shape": [64, 1024, 1024], "dtype": "torch.float32", "device": "cpu", "mb": 256.0, "name": None},
            {"shape": "big", "dtype": "torch.float32", "device": "cpu", "mb": 1.0, "name": None},
            {"shape": [10, 4], "dtype": "torch.float64", "device": "cpu", "mb": 2.0, "name": "fc.weight"},
        ],
    }
    (found,) = diagnose(
        verdict="memory_limit", resources={**measured(memory=memory)}, limits={"memory_mb": 1024}
    )
    assert found["rule"] == "memory-limit"
    assert "float32[64, 1024, 1024] cpu 256 MB; fc.weight float64[10, 4] cpu 2 MB" in found["why"]["en"]
    assert "float32[64, 1024, 1024] cpu 256 MB" in found["why"]["zh"] and "最大的张量" in found["why"]["zh"]
    plain = diagnose(verdict="memory_limit", resources={"peak_memory_mb": 1000.0}, limits={"memory_mb": 1024})
    assert "tensors" not in plain[0]["why"]["en"]


def test_instruments_that_are_not_a_summary_are_ignored() -> None:
    for odd in ("grad", ["grad"], {"grad": [1]}, {"data": "slow"}, {"memory": {"tensors": "big"}}):
        found = diagnose(verdict="memory_limit", resources={"peak_memory_mb": 1000.0, "instruments": odd},
                         limits={"memory_mb": 1024})  # fmt: skip
        assert rules(found) == ["memory-limit"]


def test_the_api_explains_a_measured_run_and_the_page_lists_only_the_measured_figures(
    personas, curriculum, client_for
) -> None:
    from django.test import Client

    from huashen.grading.models import Status, Submission, Verdict

    data = {"wait_s": 6.0, "loop_s": 8.0, "batches": 40, "num_workers": 0, "batch_size": 8}
    submission = Submission.objects.create(
        user=personas.alice, exercise=curriculum["r1t1"], version=curriculum["r1t1"].current_version,
        code="x = 1\n", mode="submit", status=Status.DONE, verdict=Verdict.FAILED, score=0.0,
        resources={"wall_seconds": 9.5, **measured(data=data)},
        deadline=curriculum["r1t1"].current_version.created_at,
    )  # fmt: skip
    body = client_for(personas.alice).get(f"/api/v1/submissions/{submission.pk}/coach/").json()
    assert [item["rule"] for item in body["runtime"]] == ["data-loader-bound"]
    page = Client()
    page.force_login(personas.alice)
    html = page.get(f"/submissions/{submission.pk}/").content.decode()
    assert "9.5" in html and "wait_s" not in html and "instruments" not in html
