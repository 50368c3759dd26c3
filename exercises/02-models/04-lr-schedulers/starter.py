"""试炼 2.4 · 学习率调度器 / Trial 2.4 · Learning-rate schedulers.

实现 make_scheduler 和 fit。/ Implement make_scheduler and fit.
"""

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR


def make_scheduler(optimizer, kind):
    """kind == "step": StepLR，每 5 个 epoch 学习率乘 0.1 / multiply the lr by 0.1 every 5 epochs.
    kind == "plateau": ReduceLROnPlateau(mode="min", factor=0.5, patience=2)。
    """
    if kind == "step":
        return StepLR(optimizer, step_size=1, gamma=1.0)  # TODO 1: 每 5 个 epoch 乘 0.1 / x0.1 every 5 epochs
    return ReduceLROnPlateau(optimizer)  # TODO 2: mode="min", factor=0.5, patience=2


def fit(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

        # TODO 3: 验证：eval + no_grad，用 loss_fn 在 val_loader 上算平均损失 val_loss
        #         validate: eval + no_grad, the mean of loss_fn over val_loader as val_loss
        # TODO 4: 每个 epoch 末尾 step 一次调度器；ReduceLROnPlateau 要传 val_loss
        #         step the scheduler once at the end of each epoch; ReduceLROnPlateau needs val_loss
        print(f"epoch {epoch + 1}: lr {optimizer.param_groups[0]['lr']:.4g}")


if __name__ == "__main__":
    # 在自己的电脑上试一试 / try it on your own machine
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    x, y = torch.randn(256, 64), torch.randint(0, 10, (256,))
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = nn.Linear(64, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = make_scheduler(optimizer, "step")
    fit(model, optimizer, scheduler, loader, loader, nn.CrossEntropyLoss(), epochs=12)
    print(scheduler.get_last_lr())  # [0.001]（约 / about）
