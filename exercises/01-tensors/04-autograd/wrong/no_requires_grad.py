# must fail: gradient, accumulation, zeroing
"""Classic mistake: x is copied but never marked requires_grad, so backward() has nothing to differentiate."""


def gradient(f, x):
    x = x.clone()
    y = f(x)
    y.backward()
    return x.grad


def accumulated_gradient(f, x, n):
    x = x.clone()
    for _ in range(n):
        f(x).backward()
    return x.grad


def gradients_with_zeroing(fs, x):
    x = x.clone()
    grads = []
    for f in fs:
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        grads.append(x.grad.clone())
    return grads
