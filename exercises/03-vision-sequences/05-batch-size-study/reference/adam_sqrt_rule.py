"""Second reference for trial 3.5, written differently: Adam with the square-root scaling rule, a
DataLoader over a TensorDataset, dropout in the model (so validation must run in eval mode), and epoch
times that include the validation pass."""

import math
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, 96), nn.ReLU(), nn.Dropout(0.1), nn.Linear(96, 10))

    def forward(self, x):
        return self.layers(x)


def evaluate(model, x, y):
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, len(x), 100):
            logits = model(x[start : start + 100])
            total += nn.functional.cross_entropy(logits, y[start : start + 100], reduction="sum").item()
    return total / len(x)


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    results = []
    for batch_size in batch_sizes:
        lr = base_lr * math.sqrt(batch_size / base_batch_size)  # square-root rule, usual for Adam
        torch.manual_seed(1)
        model = Net()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loader = DataLoader(
            TensorDataset(data["train_x"], data["train_y"]), batch_size=batch_size, shuffle=True
        )
        record = {"batch_size": batch_size, "lr": lr, "epoch_times": [], "val_losses": [], "model": model}
        for _ in range(epochs):
            started = time.perf_counter()
            model.train()
            for inputs, targets in loader:
                optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(model(inputs), targets)
                loss.backward()
                optimizer.step()
            record["val_losses"].append(evaluate(model, data["val_x"], data["val_y"]))
            record["epoch_times"].append(time.perf_counter() - started)
        results.append(record)
    return results
