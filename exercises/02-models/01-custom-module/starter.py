"""试炼 2.1 · 自定义 nn.Module / Trial 2.1 · A custom nn.Module.

写一个类 Net：一层 nn.Linear(784, 10)，forward 里先把图像展平。
Write a class Net: one nn.Linear(784, 10); forward flattens the images first.
"""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # TODO 1: self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO 2: x 的形状是 (N, 1, 28, 28)；展平成 (N, 784)，保留批维度
        #         x has shape (N, 1, 28, 28); flatten it to (N, 784), keeping the batch dimension
        # TODO 3: return self.fc(x)
        raise NotImplementedError("forward: 还没写 / not written yet")


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    model = Net()
    print(model)
    print(sum(p.numel() for p in model.parameters()), "parameters")
    print(model(torch.randn(64, 1, 28, 28)).shape)  # torch.Size([64, 10])
