"""试炼 2.5 · TensorBoard 与实验记录 / Trial 2.5 · TensorBoard and the experiment record.

实现 run_experiment(log_dir, epochs)。/ Implement run_experiment(log_dir, epochs).
"""

import json
import os
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

DATA = "/work/public/digits.npz"  # 评测时的路径 / the path when graded


def run_experiment(log_dir, epochs):
    started = time.perf_counter()
    data = np.load(DATA)
    x, y = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    train_loader = DataLoader(TensorDataset(x[270:], y[270:]), batch_size=64, shuffle=True)
    val_x, val_y = x[:270], y[:270]
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    writer = SummaryWriter(log_dir=log_dir)
    print("logging to", writer.log_dir)
    step = 0
    for epoch in range(epochs):
        model.train()
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
            # TODO 2: writer.add_scalar("loss/train", loss.item(), step)
            step += 1
        model.eval()
        with torch.no_grad():
            scores = model(val_x)
            val_loss = criterion(scores, val_y).item()
            accuracy = (scores.argmax(dim=1) == val_y).float().mean().item()
        # TODO 3: "loss/val" 和 / and "accuracy/val"，每个 epoch 一次 / once per epoch
        print(f"epoch {epoch + 1}: val_loss {val_loss:.3f}, accuracy {accuracy:.3f}")
    # TODO 4: 关闭写入器 / close the writer

    record = {
        # TODO 5: "hyperparameters": {...}, "hardware": {"device": ...}
        "duration_seconds": time.perf_counter() - started,
    }
    with open(os.path.join(log_dir, "config.json"), "w", encoding="utf-8") as stream:
        json.dump(record, stream, indent=2)


if __name__ == "__main__":
    # 在自己的电脑上试一试，然后运行 tensorboard --logdir runs
    # Try it on your own machine, then run tensorboard --logdir runs
    os.makedirs("runs/first", exist_ok=True)
    run_experiment("runs/first", epochs=3)
