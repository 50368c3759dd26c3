"""试炼 1.4 · 自动求导 / Trial 1.4 · Autograd.

实现下面三个函数。f 是一个接收张量 x、返回标量张量的函数。
Implement the three functions below. f takes a tensor x and returns a scalar tensor.
"""

import torch


def gradient(f, x: torch.Tensor) -> torch.Tensor:
    """返回 f 在 x 处的梯度（形状与 x 相同）。/ Return the gradient of f at x (shaped like x)."""
    # TODO 1: x = x.detach().clone().requires_grad_(True); y = f(x); y.backward(); return x.grad
    raise NotImplementedError("gradient: 还没写 / not written yet")


def accumulated_gradient(f, x: torch.Tensor, n: int) -> torch.Tensor:
    """调用 n 次 backward（中间不清零），返回 x.grad。/ Run backward n times without zeroing; return x.grad."""
    # TODO 2
    raise NotImplementedError("accumulated_gradient: 还没写 / not written yet")


def gradients_with_zeroing(fs, x: torch.Tensor) -> list[torch.Tensor]:
    """对同一个 x，依次对 fs 中的每个函数求梯度：每步先清零，保存梯度的副本。

    With one x, take the gradient of each function in fs in turn: zero first, keep a copy of each.
    """
    # TODO 3
    raise NotImplementedError("gradients_with_zeroing: 还没写 / not written yet")


if __name__ == "__main__":
    x = torch.tensor([2.0])
    print(gradient(lambda x: (x**2).sum(), x))  # tensor([4.])
