# must fail: shape, dtype
"""Classic mistake: torch.rand(..., dtype=dtype) works for floats but raises for int64, int32 and bool."""

import torch


def make_tensor(shape, dtype):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.rand(shape, dtype=dtype, device=device)


def describe(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device)}


def round_trip(t):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return t.to(device).cpu()
