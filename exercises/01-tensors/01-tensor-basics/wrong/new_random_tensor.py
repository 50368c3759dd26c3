# must fail: round-trip
"""Classic mistake: round_trip builds a new random tensor of the same shape instead of moving the input."""

import torch


def best_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def make_tensor(shape, dtype):
    if dtype.is_floating_point:
        return torch.rand(shape, dtype=dtype, device=best_device())
    if dtype == torch.bool:
        return torch.rand(shape, device=best_device()) < 0.5
    return torch.randint(0, 10, shape, dtype=dtype, device=best_device())


def describe(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device)}


def round_trip(t):
    return make_tensor(tuple(t.shape), t.dtype).cpu()
