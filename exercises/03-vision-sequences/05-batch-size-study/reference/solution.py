"""Reference for trial 3.5: one fresh MLP per batch size, SGD with momentum, the linear scaling rule,
per-epoch wall time of the training loop and the validation loss after every epoch."""

import time

import torch
from torch import nn


def scaled_lr(base_lr, base_batch_size, batch_size):
    return base_lr * batch_size / base_batch_size  # linear scaling rule


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def validation_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x), y).item()


def train_one(data, batch_size, lr, epochs):
    torch.manual_seed(0)  # the same initial weights for every batch size: a fair comparison
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = data["train_x"], data["train_y"]
    epoch_times, val_losses = [], []
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for first in range(0, len(x), batch_size):
            batch = order[first : first + batch_size]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
        epoch_times.append(time.perf_counter() - start)
        val_losses.append(validation_loss(model, data["val_x"], data["val_y"]))
    return {
        "batch_size": batch_size,
        "lr": lr,
        "epoch_times": epoch_times,
        "val_losses": val_losses,
        "model": model,
    }


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    return [train_one(data, size, scaled_lr(base_lr, base_batch_size, size), epochs) for size in batch_sizes]
