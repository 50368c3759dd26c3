# must fail: gradient
"""Classic mistake: requires_grad is set, then the tensor is converted (.float(), like .cuda() or .to()),
which makes a new non-leaf tensor: backward() fills the grad of the original, and x.grad here is None."""


def gradient(f, x):
    x = x.detach().clone().requires_grad_(True).float()
    y = f(x)
    y.backward()
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
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        grads.append(x.grad.clone())
    return grads
