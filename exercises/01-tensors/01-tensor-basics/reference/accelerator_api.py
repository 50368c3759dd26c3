"""Another valid spelling: torch.accelerator, .cuda(), and creating on the CPU then moving."""

import torch


def make_tensor(shape, dtype):
    t = torch.empty(shape, dtype=dtype)
    if dtype == torch.bool:
        t = torch.rand(shape) > 0.5
    elif dtype.is_floating_point:
        t.uniform_()
    else:
        t.random_(0, 100)
    if torch.accelerator.is_available():
        t = t.to(torch.accelerator.current_accelerator())
    return t


def describe(t):
    return dict(shape=t.shape, dtype=str(t.dtype), device=str(t.device))


def round_trip(t):
    if torch.cuda.is_available():
        return t.cuda().cpu()
    return t.clone()
