"""Another valid spelling: the device is chosen once at import, torch.device objects, .to("cpu")."""

import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_tensor(shape, dtype):
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, device=DEVICE).bool()
    if not dtype.is_floating_point:
        return torch.randint(-5, 5, shape, device=DEVICE).to(dtype)
    return torch.randn(shape, device=DEVICE).to(dtype)


def describe(t):
    return {"shape": list(t.size()), "dtype": f"{t.dtype}", "device": t.device.type, "numel": t.numel()}


def round_trip(t):
    on_device = t.to(DEVICE)
    return on_device.to("cpu")
