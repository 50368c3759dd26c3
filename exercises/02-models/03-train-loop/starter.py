"""试炼 2.3 · 训练与验证循环 / Trial 2.3 · The train/validate loop.

实现 train 和 predict。模型、优化器和 DataLoader 由评测程序传进来。
Implement train and predict. The model, optimizer and DataLoaders are passed in by the grader.
"""

import torch
from torch import nn

try:
    from exercises.kit.report import report  # 评测时画实时曲线 / live charts when graded
except ImportError:  # 在自己的电脑上 / on your own machine

    def report(step=None, **metrics):
        print(step, metrics)


def train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm):
    criterion = nn.CrossEntropyLoss()
    step = 0
    for epoch in range(epochs):
        # TODO 1: 训练模式 / training mode
        for x, y in train_loader:
            # TODO 2: 先清零梯度 / clear the gradients first
            loss = criterion(model(x), y)
            # TODO 3: backward → 裁剪梯度范数 → optimizer.step()
            #         backward → clip the gradient norm → optimizer.step()
            # TODO 4: report(step=step, loss=loss.item(), grad_norm=...)
            step += 1
        # TODO 5: 验证：eval 模式 + torch.no_grad()，在 val_loader 上算 val_loss 和准确率
        #         validate: eval mode + torch.no_grad(); val_loss and accuracy over val_loader
        print(f"epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.3f}")


def predict(model, x):
    """返回每个样本的类别编号，形状 (N,) / Return each sample's class index, shape (N,)."""
    # TODO 5: eval 模式 + no_grad，然后 argmax / eval mode + no_grad, then argmax
    raise NotImplementedError("predict: 还没写 / not written yet")


if __name__ == "__main__":
    # 在自己的电脑上试一试：和评测程序一样的模型和数据
    # Try it on your own machine with the grader's model and data
    import numpy as np
    from torch.utils.data import DataLoader, TensorDataset

    data = np.load("/work/public/digits.npz")  # 评测时的路径；本地请改成你的路径 / adjust locally
    x, y = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    train_loader = DataLoader(TensorDataset(x[270:], y[270:]), batch_size=64, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[:270], y[:270]), batch_size=64)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train(model, optimizer, train_loader, val_loader, epochs=4, max_grad_norm=0.5)
    print("val accuracy", (predict(model, x[:270]) == y[:270]).float().mean().item())
