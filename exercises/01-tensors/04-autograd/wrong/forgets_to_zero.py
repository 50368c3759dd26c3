# must fail: zeroing
"""Classic mistake: the gradient is never zeroed between steps, so each step sees the sum of all before it."""


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
