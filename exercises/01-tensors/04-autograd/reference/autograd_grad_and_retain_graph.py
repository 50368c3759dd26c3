"""Another valid spelling: torch.tensor(..., requires_grad=True), retain_graph=True, x.grad = None."""

import torch


def gradient(f, x):
    leaf = torch.tensor(x.tolist(), dtype=x.dtype, requires_grad=True)
    (grad,) = torch.autograd.grad(f(leaf), leaf)
    return grad


def accumulated_gradient(f, x, n):
    leaf = x.clone().requires_grad_()
    y = f(leaf)
    for _ in range(n):
        y.backward(retain_graph=True)
    return leaf.grad


def gradients_with_zeroing(fs, x):
    leaf = x.clone().requires_grad_()
    result = []
    for f in fs:
        leaf.grad = None
        f(leaf).backward()
        result.append(leaf.grad)  # a new tensor each time, since the old grad was dropped
    return result
