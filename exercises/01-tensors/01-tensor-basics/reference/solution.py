"""Reference solution for trial 1.1: the device is chosen each time a function runs."""

import torch


def best_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def make_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    device = best_device()
    if dtype.is_floating_point:
        return torch.rand(shape, dtype=dtype, device=device)
    if dtype == torch.bool:
        return torch.rand(shape, device=device) < 0.5
    return torch.randint(0, 10, shape, dtype=dtype, device=device)


def describe(t: torch.Tensor) -> dict:
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device)}


def round_trip(t: torch.Tensor) -> torch.Tensor:
    return t.to(best_device()).cpu()
