# must fail: accumulation
"""Classic mistake: the gradient is zeroed before every backward(), so nothing accumulates."""


def gradient(f, x):
    x = x.detach().clone().requires_grad_(True)
    f(x).backward()
    return x.grad


def accumulated_gradient(f, x, n):
    x = x.detach().clone().requires_grad_(True)
    for _ in range(n):
        x.grad = None
        f(x).backward()
    return x.grad


def gradients_with_zeroing(fs, x):
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        grads.append(x.grad.clone())
    return grads
