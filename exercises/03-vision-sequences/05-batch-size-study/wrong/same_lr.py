# must fail: lr-scaled, other-settings
"""Classic mistake: every batch size trains with the base learning rate. Larger batches then make fewer
updates of the same size per epoch, and the comparison says "large batches converge slowly" for the
wrong reason."""

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
        torch.manual_seed(0)
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=base_lr, momentum=0.9)
        x, y = data["train_x"], data["train_y"]
        times, losses = [], []
        for _ in range(epochs):
            model.train()
            start = time.perf_counter()
            order = torch.randperm(len(x))
            for first in range(0, len(x), batch_size):
                batch = order[first : first + batch_size]
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
            losses.append(validation_loss(model, data["val_x"], data["val_y"]))
        results.append(
            {
                "batch_size": batch_size,
                "lr": base_lr,
                "epoch_times": times,
                "val_losses": losses,
                "model": model,
            }
        )
    return results
