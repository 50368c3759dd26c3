# must fail: epoch-times
"""Classic mistake: the timer starts once, before the first epoch, so each "epoch time" is the time
since training began: the numbers grow epoch after epoch and add up to far more than the run took."""

import time

import torch
from torch import nn


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def validation_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x), y).item()


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    results = []
    for batch_size in batch_sizes:
        lr = base_lr * (batch_size / base_batch_size) ** 0.5
        torch.manual_seed(0)
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        x, y = data["train_x"], data["train_y"]
        times, losses = [], []
        start = time.perf_counter()
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(x))
            for first in range(0, len(x), batch_size):
                batch = order[first : first + batch_size]
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
            losses.append(validation_loss(model, data["val_x"], data["val_y"]))
        results.append(
            {"batch_size": batch_size, "lr": lr, "epoch_times": times, "val_losses": losses, "model": model}
        )
    return results
