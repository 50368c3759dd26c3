# must fail: device-follows-availability
"""Classic mistake: the device is hard-coded, so a GPU is never used even when there is one."""

import torch

DEVICE = "cpu"


def make_tensor(shape, dtype):
    if dtype.is_floating_point:
        return torch.rand(shape, dtype=dtype, device=DEVICE)
    if dtype == torch.bool:
        return torch.rand(shape, device=DEVICE) < 0.5
    return torch.randint(0, 10, shape, dtype=dtype, device=DEVICE)


def describe(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device)}


def round_trip(t):
    return t.to(DEVICE).cpu()
