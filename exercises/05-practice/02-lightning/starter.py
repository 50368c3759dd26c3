"""试炼 5.2 · 用 PyTorch Lightning 重构训练流程 / Trial 5.2 · Refactor training with PyTorch Lightning.

把下面的手写循环改写成 LightningModule + Trainer。/ Turn the hand-written loop below into a
LightningModule run by a Trainer.
"""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn


class DigitsModule(pl.LightningModule):
    def __init__(self, lr: float = 1e-2):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)

    # TODO 1: training_step(self, batch, batch_idx) —— 返回损失 / return the loss
    # TODO 2: validation_step(self, batch, batch_idx) —— self.log("val_acc", ...)
    # TODO 3: configure_optimizers(self) —— 返回优化器 / return the optimizer


def train(train_loader, val_loader, max_epochs):
    """训练并返回模型。下面是旧的手写循环：用 pl.Trainer(...).fit(...) 替换它。

    Train and return the model. Below is the old hand-written loop: replace it with pl.Trainer(...).fit(...).
    """
    model = DigitsModule()
    optimizer = torch.optim.Adam(model.parameters(), lr=model.lr)
    for _epoch in range(max_epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x).argmax(dim=1) == y).sum()) for x, y in val_loader)
        print(f"val_acc {correct / len(val_loader.dataset):.3f}")
    return model


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    from sklearn.datasets import load_digits
    from torch.utils.data import DataLoader, TensorDataset

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    train_set, val_set = TensorDataset(x[:1400], y[:1400]), TensorDataset(x[1400:], y[1400:])
    train(DataLoader(train_set, batch_size=64, shuffle=True), DataLoader(val_set, batch_size=100), 5)
