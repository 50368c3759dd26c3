# must fail: batch-size-used, other-settings
"""Classic mistake: the DataLoader was written once with batch_size=32 and the study only changes the
number in the report, so every "batch size" trains with batches of 32."""

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def validation_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x), y).item()


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    loader = DataLoader(TensorDataset(data["train_x"], data["train_y"]), batch_size=32, shuffle=True)
    results = []
    for batch_size in batch_sizes:
        lr = base_lr * batch_size / base_batch_size
        torch.manual_seed(0)
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        times, losses = [], []
        for _ in range(epochs):
            model.train()
            start = time.perf_counter()
            for inputs, targets in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(inputs), targets).backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
            losses.append(validation_loss(model, data["val_x"], data["val_y"]))
        results.append(
            {"batch_size": batch_size, "lr": lr, "epoch_times": times, "val_losses": losses, "model": model}
        )
    return results
