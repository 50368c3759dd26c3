"""试炼 3.5 · 化神之问 / Trial 3.5 · The Transcendent Question.

对每个批大小训练一个新模型，记录每轮时间和验证损失。
Train a fresh model for every batch size; record epoch times and validation losses.
"""

import time

import torch
from torch import nn


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    """data: dict of tensors train_x (N, 64), train_y (N,), val_x, val_y.

    返回列表，每个批大小一个 dict / return a list with one dict per batch size:
    {"batch_size": b, "lr": lr, "epoch_times": [...], "val_losses": [...], "model": model}
    """
    results = []
    for batch_size in batch_sizes:
        lr = base_lr  # TODO 1: 按线性或平方根规则缩放 / scale by the linear or square-root rule
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        epoch_times, val_losses = [], []
        for _ in range(epochs):
            start = time.perf_counter()
            # TODO 2: 一轮训练：打乱，按 batch_size 切批，zero_grad / backward / step
            #         one epoch: shuffle, slice batches of batch_size, zero_grad / backward / step
            epoch_times.append(time.perf_counter() - start)
            # TODO 3: 在 eval() 和 no_grad() 下算整个验证集的交叉熵
            #         the cross-entropy over the whole validation set, in eval() under no_grad()
            val_losses.append(0.0)
        del optimizer
        results.append(
            {
                "batch_size": batch_size,
                "lr": lr,
                "epoch_times": epoch_times,
                "val_losses": val_losses,
                "model": model,
            }
        )
    return results
