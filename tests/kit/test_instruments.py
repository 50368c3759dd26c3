"""The kit's instruments (exercises.kit.instruments) on small CPU trainings, and the validation that the
driver's relay and the grader apply to the summary the student's process sends."""

import json
import math
import time

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from exercises.kit import driver
from exercises.kit import report as report_module
from exercises.kit.instruments import MAX_LAYERS, MAX_TENSORS, Instruments, clean


@pytest.fixture()
def instruments():
    watching = Instruments().install()
    yield watching
    watching.remove()


def train(model: nn.Module, loader, *, lr: float, epochs: int = 1, loss_fn=None) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = loss_fn or nn.MSELoss()
    for _epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()


def regression(samples: int = 256, features: int = 8, seed: int = 0) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, features, generator=generator) * 10
    return TensorDataset(x, x.sum(1, keepdim=True))


def test_a_huge_learning_rate_is_seen_exploding_in_a_named_layer_at_an_early_step(instruments) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        train(model, DataLoader(regression(), batch_size=16), lr=10.0, epochs=2)
    grad = instruments.summary()["grad"]
    assert grad["steps"] == 32 and grad["sampled"] == 16 + 4  # all of the first 16, then every 4th
    exploding = grad["exploding"]
    assert exploding is not None and exploding["layer"] in ("0", "2")
    assert exploding["step"] < 5
    assert exploding["norm"] in ("nan", "inf") or exploding["norm"] > 1e4
    assert [layer[0] for layer in grad["layers"]] == ["0", "2"]  # per layer, named by the model's paths


def test_a_sensible_learning_rate_is_not_exploding(instruments) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    train(model, DataLoader(regression(), batch_size=16), lr=1e-4)
    grad = instruments.summary()["grad"]
    assert grad["exploding"] is None
    assert all(isinstance(value, float) and value > 0 for layer in grad["layers"] for value in layer[1:])


class Deep(nn.Module):
    def __init__(self, depth: int = 12) -> None:
        super().__init__()
        self.hidden = nn.ModuleList(nn.Linear(16, 16) for _ in range(depth))
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.head(x)


def test_a_deep_sigmoid_stack_shows_the_first_layer_orders_of_magnitude_below_the_last(instruments) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Deep()
        train(model, DataLoader(regression(features=16), batch_size=32), lr=0.01)
    layers = instruments.summary()["grad"]["layers"]
    assert layers[0][0] == "hidden.0" and layers[-1][0] == "head"
    assert len(layers) == MAX_LAYERS  # 13 layers: the first and the last six are kept
    first, last = layers[0], layers[-1]
    assert first[2] < 1e-3 * last[2]  # the last measured norms
    assert first[1] < 1e-3 * last[1]  # and the first ones


class Slow(Dataset):
    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int):
        time.sleep(0.01)
        return torch.ones(4), torch.ones(1)


def test_a_slow_dataset_makes_the_loop_wait_for_data_and_names_the_loader(instruments) -> None:
    train(nn.Linear(4, 1), DataLoader(Slow(), batch_size=4), lr=0.01)
    data = instruments.summary()["data"]
    assert data["batches"] == 9  # 8 batches and the one that said it was the end
    assert data["wait_s"] >= 0.3  # 32 samples of 10 ms
    assert data["wait_s"] / data["loop_s"] > 0.5
    assert data["num_workers"] == 0 and data["batch_size"] == 4


def test_a_loop_that_computes_more_than_it_waits_is_not_waiting(instruments) -> None:
    def heavy(x):
        for _ in range(20):
            x = torch.tanh(x @ torch.ones(256, 256) / 256)
        return x

    x = torch.ones(64, 256)
    loader = DataLoader(TensorDataset(x), batch_size=32)
    for (batch,) in loader:
        for _ in range(5):
            heavy(batch)
    data = instruments.summary()["data"]
    assert data["batches"] == 3
    assert data["wait_s"] / data["loop_s"] < 0.5


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def test_a_big_tensor_alive_at_a_marked_peak_is_named_with_shape_dtype_and_size(instruments) -> None:
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model(torch.ones(2, 4)).sum().backward()
    optimizer.step()  # the first step: where the peak is measured from
    assert "memory" not in instruments.summary()
    # Enough to lift the process's lifetime peak by more than the growth that counts as marked.
    needed = max(instruments.peak_scanned * 1.4, instruments.peak_scanned + 160 * 2**20) - _rss_bytes()
    rows = max(64, int(needed // (1024 * 4)) + 1)
    kept = torch.ones(rows, 1024)  # ones, not empty: the pages are touched and counted
    model(torch.ones(2, 4)).sum().backward()
    optimizer.step()
    memory = instruments.summary()["memory"]
    biggest = memory["tensors"][0]
    assert biggest["shape"] == [rows, 1024] and biggest["dtype"] == "torch.float32"
    assert biggest["device"] == "cpu" and math.isclose(biggest["mb"], rows * 4096 / 2**20, rel_tol=0.01)
    assert len(memory["tensors"]) <= MAX_TENSORS and memory["peak_mb"] > 0
    del kept


def test_the_scans_are_bounded(instruments) -> None:
    instruments.scans = 3
    instruments.peak_seen = instruments.peak_scanned = 1  # any peak now counts as grown
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model(torch.ones(2, 4)).sum().backward()
    optimizer.step()
    assert "memory" not in instruments.summary()


def test_a_small_training_leaves_no_memory_section_and_a_summary_that_is_valid(instruments) -> None:
    train(nn.Linear(8, 1), DataLoader(regression(), batch_size=64), lr=1e-4)
    summary = instruments.summary()
    assert "memory" not in summary
    assert clean(summary) == summary


def test_the_hooks_are_removed_and_a_failing_hook_is_quiet() -> None:
    watching = Instruments().install()
    watching.torch = None  # every measurement now fails inside the hooks
    train(nn.Linear(8, 1), DataLoader(regression(), batch_size=64), lr=1e-4)
    watching.remove()
    assert watching.steps == 4  # counted before the measurement failed
    later = Instruments()
    train(nn.Linear(8, 1), DataLoader(regression(), batch_size=64), lr=1e-4)
    assert watching.steps == 4 and later.summary() == {}


# -- validation -------------------------------------------------------------------------------------


def good_summary() -> dict:
    return {
        "grad": {
            "steps": 10,
            "sampled": 10,
            "layers": [["fc1", 1.0, 2.0, 3.0, 0.5], ["fc2", "nan", "inf", "inf", 0.1]],
            "exploding": {"step": 3, "layer": "fc2", "norm": "inf"},
        },
        "data": {"wait_s": 1.5, "loop_s": 2.0, "batches": 40, "num_workers": 0, "batch_size": 8},
        "memory": {
            "peak_mb": 900.0,
            "tensors": [
                {"shape": [1024, 1024], "dtype": "torch.float32", "device": "cpu", "mb": 4.0, "name": None}
            ],
        },
    }


def test_a_well_formed_summary_passes_unchanged() -> None:
    assert clean(good_summary()) == good_summary()


def test_unknown_keys_are_dropped() -> None:
    summary = good_summary()
    summary["extra"] = "x" * 100
    summary["data"]["note"] = "hello"
    assert clean(summary) == good_summary()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda s: s["grad"].__setitem__("steps", "10"),  # a number as text
        lambda s: s["grad"].__setitem__("steps", True),  # a bool is not a count
        lambda s: s["grad"].__setitem__("steps", -1),
        lambda s: s["grad"]["layers"][0].__setitem__(1, float("nan")),  # NaN only as the string "nan"
        lambda s: s["grad"]["layers"][0].__setitem__(1, "1.0"),
        lambda s: s["grad"]["layers"][0].append(1.0),
        lambda s: s["grad"]["layers"].__setitem__(0, ["", 1.0, 1.0, 1.0, 1.0]),
        lambda s: s["grad"].__setitem__("layers", [["l", 1.0, 1.0, 1.0, 1.0]] * (MAX_LAYERS + 1)),
        lambda s: s["grad"].__setitem__("exploding", {"step": 1, "layer": "x", "norm": "big"}),
        lambda s: s["data"].__setitem__("wait_s", "1.5"),
        lambda s: s["data"].__setitem__("loop_s", 1e300),
        lambda s: s["data"].__setitem__("num_workers", 1.5),
        lambda s: s["memory"]["tensors"][0].__setitem__("dtype", "<script>"),
        lambda s: s["memory"]["tensors"][0].__setitem__("device", "cpu; rm -rf"),
        lambda s: s["memory"]["tensors"][0].__setitem__("shape", [1] * 9),
        lambda s: s["memory"].__setitem__("tensors", [s["memory"]["tensors"][0]] * (MAX_TENSORS + 1)),
        lambda s: s.__setitem__("grad", [1, 2, 3]),
    ],
)
def test_a_malformed_summary_is_dropped_whole(spoil) -> None:
    summary = good_summary()
    spoil(summary)
    assert clean(summary) is None


def test_an_oversized_or_empty_summary_is_dropped_and_names_are_cut_and_cleaned() -> None:
    assert clean({}) is None and clean("grad") is None and clean(None) is None
    summary = good_summary()
    summary["grad"]["layers"] = [[f"layer{i}" + "x" * 200, 1.0, 1.0, 1.0, 1.0] for i in range(MAX_LAYERS)]
    cleaned = clean(summary)
    assert cleaned is not None and all(len(layer[0]) == 48 for layer in cleaned["grad"]["layers"])
    summary["grad"]["layers"][0][0] = "a\nb\x00c"
    assert clean(summary)["grad"]["layers"][0][0] == "a?b?c"
    # The largest summary `clean` can let through still fits one line on fd 3.
    summary["grad"]["layers"] = [["n" * 48, "-inf", 1.2345e-300, 1.2345e38, "nan"]] * MAX_LAYERS
    summary["grad"]["exploding"] = {"step": 2**53, "layer": "n" * 48, "norm": 1.2345e-300}
    summary["memory"]["tensors"] = [
        {"shape": [2**53] * 8, "dtype": "torch.float8_e4m3fnuz", "device": "cuda:127", "mb": 1e6 - 0.0001,
         "name": "n" * 48}
    ] * MAX_TENSORS  # fmt: skip
    summary["data"] = {k: 1e6 - 0.0001 for k in ("wait_s", "loop_s")} | {
        "batches": 2**53, "num_workers": 4096, "batch_size": 2**53
    }  # fmt: skip
    cleaned = clean(summary)
    assert cleaned is not None
    line = json.dumps({"instruments": cleaned}) + "\n"
    assert len(line) <= report_module.MAX_LINE_BYTES


# -- the driver's relay -----------------------------------------------------------------------------


@pytest.fixture()
def sent(monkeypatch) -> list[bytes]:
    lines: list[bytes] = []
    monkeypatch.setattr(report_module._channel, "send", lambda line, always=False: lines.append(line) or True)
    return lines


def test_the_relay_returns_a_cleaned_summary_and_forwards_nothing_itself(sent) -> None:
    line = json.dumps({"instruments": {**good_summary(), "extra": 1}}).encode()
    assert driver._relay_line(line) == good_summary()
    assert sent == []


@pytest.mark.parametrize(
    "line",
    [
        b'{"instruments": {"grad": {"steps": "many"}}}',
        b'{"instruments": [1, 2]}',
        b'{"instruments": {"data": {"wait_s": NaN, "loop_s": 1, "batches": 1, "num_workers": 0}}}',
        b'{"instruments": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        json.dumps({"instruments": good_summary(), "pad": "x" * 5000}).encode(),  # over one line's bytes
        b"not json",
    ],
)
def test_the_relay_drops_a_malformed_or_oversized_summary(sent, line: bytes) -> None:
    assert driver._relay_line(line) is None
    assert sent == []


def test_the_relay_thread_sends_the_latest_summary_once_at_its_end(sent) -> None:
    import os

    read, write = os.pipe()
    relay = driver._Relay(read)
    relay.start()
    for steps in (1, 2, 3):
        summary = good_summary()
        summary["grad"]["steps"] = steps
        os.write(write, json.dumps({"instruments": summary}).encode() + b"\n")
    os.write(write, b'{"instruments": {"grad": "forged"}}\n')
    time.sleep(0.2)
    os.close(write)
    relay.join(timeout=2)
    relay.stop()
    forwarded = [json.loads(line)["instruments"] for line in sent]
    assert forwarded and forwarded[-1]["grad"]["steps"] == 3
    assert len(forwarded) <= 2  # the first at once, the latest at the end: at most one each half second
