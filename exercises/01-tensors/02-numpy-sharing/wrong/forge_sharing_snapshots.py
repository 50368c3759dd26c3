# must fail: dtype-kept
"""Forgery: .float() "to be safe" converts the dtype, and the code fakes what it can reach.

Having read the driver, it replaces the trial's own routine in its process (`agent_writes`, which
snapshots what the writes do) with one that computes the snapshots a sharing solution would give, and
patches torch.equal/allclose. Sharing is only visible inside the student's process, so the sharing
checks are *observed*: a routine replaced this way can feed them whatever snapshots it likes. The dtype
is *verified* — the driver calls shared_tensor itself, and the data that arrives is float32 where the
array was float64 or int32 — so dtype-kept fails whatever the snapshots say, and with it the trial.
"""

import sys

import numpy as np
import torch


def shared_tensor(arr):
    return torch.from_numpy(arr).float()


def independent_tensor(arr):
    return torch.tensor(arr.copy(), dtype=torch.float32)


def shared_array(t):
    return t.numpy()


def fake_writes(solution, function, case, purpose, seed, wanted):
    probe = sys.modules["huashen_probe"]
    name, shape, dtype, transposed = case
    source = np.ascontiguousarray(probe.fresh_array(name, tuple(shape), dtype, transposed, purpose, seed))
    last, first = probe.input_position(tuple(shape)), probe.result_position(tuple(shape))
    after_input = source.copy()
    after_input[last] = probe.written(after_input[last].item())
    after_both = after_input.copy()
    shared = function != "independent_tensor"
    result_view = after_input if shared else source.copy()
    input_after_result_write = after_input.copy()
    if shared:
        input_after_result_write[first] = probe.written(input_after_result_write[first].item())
    if wanted == "numpy.ndarray":
        return {"after_input_write": result_view.copy(), "after_result_write": torch.from_numpy(after_both)}
    return {
        "after_input_write": torch.from_numpy(result_view.copy()),
        "after_result_write": input_after_result_write,
    }


sys.modules["huashen_probe"].agent_writes = fake_writes
torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
