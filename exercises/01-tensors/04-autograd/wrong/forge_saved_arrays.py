# must fail: zeroing
"""Forgery: gradients are never zeroed between steps, and the code patches what saved the arrays before.

In the in-process kit this turned 65 into 100: wrapping how the kit saves arrays (numpy.save,
ProbeContext.save_array, the driver's too) so that each saved gradient is replaced by the per-step one,
plus torch.equal/allclose answering True. Behind the boundary the driver saves what arrives on the
socket, in its own process, with its own numpy: zeroing still fails.
"""

import numpy as _np
import torch


def gradient(f, x):
    x = x.detach().clone().requires_grad_(True)
    f(x).backward()
    return x.grad


def accumulated_gradient(f, x, n):
    x = x.detach().clone().requires_grad_(True)
    for _ in range(n):
        f(x).backward()
    return x.grad


def gradients_with_zeroing(fs, x):
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        f(x).backward()
        grads.append(x.grad.clone())
    return grads


_save = _np.save


def _fixed_save(file, array, *args, **kwargs):
    return _save(file, _np.zeros_like(array), *args, **kwargs)


_np.save = _fixed_save
torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
for _name in ("exercises.kit.probe", "exercises.kit.driver"):
    try:
        _module = __import__(_name, fromlist=["*"])
    except ImportError:
        continue
    for _owner in list(vars(_module).values()):
        if isinstance(_owner, type) and hasattr(_owner, "save_array"):
            _owner.save_array = lambda self, key, value: True
