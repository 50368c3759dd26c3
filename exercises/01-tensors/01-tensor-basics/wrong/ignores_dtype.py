# must fail: dtype
"""Classic mistake: torch.rand(shape) always makes float32, whatever dtype was asked for."""

import torch


def make_tensor(shape, dtype):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.rand(shape, device=device)


def describe(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device)}


def round_trip(t):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return t.to(device).cpu()
