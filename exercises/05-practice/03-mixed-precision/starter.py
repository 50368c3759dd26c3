"""试炼 5.3 · 混合精度训练 / Trial 5.3 · Mixed-precision training.

下面是一个普通的 float32 训练循环：用 torch.amp 把它改成混合精度。
Below is a plain float32 training loop: make it mixed precision with torch.amp.
"""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    """训练 epochs 轮，返回每个批次的损失（Python float）。

    Train for `epochs` epochs; return the loss of every batch as a Python float.
    """
    # TODO 1: device_type = "cuda" if torch.cuda.is_available() else "cpu"
    #         amp_dtype: CUDA 上 torch.float16，CPU 上 torch.bfloat16 / float16 on CUDA, bfloat16 on the CPU
    # TODO 2: scaler = torch.amp.GradScaler(device_type, enabled=...)
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            # TODO 3: with torch.autocast(device_type=..., dtype=...):
            loss = F.cross_entropy(model(x), y)
            # TODO 4: scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    data = TensorDataset(torch.rand(512, 64), torch.randint(0, 10, (512,)))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = train_mixed_precision(model, DataLoader(data, batch_size=64, shuffle=True), optimizer, 3)
    print(losses[0], losses[-1])
