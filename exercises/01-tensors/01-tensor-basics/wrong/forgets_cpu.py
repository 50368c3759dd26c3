# must fail: round-trip
"""Classic mistake: round_trip moves the tensor to the GPU and forgets to bring it back with .cpu()."""

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
    return t.to(best_device())
