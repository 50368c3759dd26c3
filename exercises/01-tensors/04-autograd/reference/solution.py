"""Reference solution for trial 1.4: a leaf that requires grad, backward, accumulation and zero_()."""

import torch


def gradient(f, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad


def accumulated_gradient(f, x: torch.Tensor, n: int) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    for _ in range(n):
        y = f(x)  # a fresh graph each time: backward() frees the previous one
        y.backward()  # adds onto x.grad
    return x.grad


def gradients_with_zeroing(fs, x: torch.Tensor) -> list[torch.Tensor]:
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        grads.append(x.grad.clone())  # zero_() will overwrite x.grad in place
    return grads
