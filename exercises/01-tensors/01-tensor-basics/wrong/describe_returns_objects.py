# must fail: describe
"""Classic mistake: describe returns torch.dtype and torch.device objects instead of strings."""

import torch


def make_tensor(shape, dtype):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype.is_floating_point:
        return torch.rand(shape, dtype=dtype, device=device)
    if dtype == torch.bool:
        return torch.rand(shape, device=device) < 0.5
    return torch.randint(0, 10, shape, dtype=dtype, device=device)


def describe(t):
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


def round_trip(t):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return t.to(device).cpu()
