"""试炼 1.5 · no_grad 与 detach / Trial 1.5 · no_grad and detach.

实现下面三个函数。/ Implement the three functions below.
"""

import torch
import torch.nn.functional as F


def predict(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """推理：返回 model(x)，但不要建计算图。/ Inference: return model(x) without building a graph."""
    # TODO 1: with torch.no_grad(): ...
    return model(x)


def detached(t: torch.Tensor) -> torch.Tensor:
    """返回与 t 共享内存、但不在计算图里的张量（用于记录或可视化）。

    Return a tensor that shares t's memory but is outside the graph (for logging or plotting).
    """
    # TODO 2
    raise NotImplementedError("detached: 还没写 / not written yet")


def train(model, optimizer, batches) -> list[float]:
    """对每个 (x, y) 批次训练一步（MSE 损失），返回每一步的损失（Python 浮点数）。

    Train one step per (x, y) batch with an MSE loss; return each step's loss as a Python float.
    """
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)  # TODO 3: 这里记录的是什么？/ what is being logged here?
    return losses


if __name__ == "__main__":
    model = torch.nn.Linear(3, 1)
    print(predict(model, torch.ones(2, 3)).requires_grad)  # 应为 False / should be False
