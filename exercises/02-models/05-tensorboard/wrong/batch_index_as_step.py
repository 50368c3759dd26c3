# must fail: steps-monotonic
"""Classic mistake: the batch index is the step, so the curve restarts at 0 every epoch."""

import json
import os
import platform
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

DATA = "/work/public/digits.npz"
HYPERPARAMETERS = {"learning_rate": 0.05, "batch_size": 64, "hidden_units": 64, "optimizer": "SGD"}


def run_experiment(log_dir, epochs):
    started = time.perf_counter()
    torch.manual_seed(0)
    data = np.load(DATA)
    x, y = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    train_loader = DataLoader(
        TensorDataset(x[270:], y[270:]), batch_size=HYPERPARAMETERS["batch_size"], shuffle=True
    )
    val_x, val_y = x[:270], y[:270]

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=HYPERPARAMETERS["learning_rate"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    writer = SummaryWriter(log_dir=log_dir)
    step = 0
    for epoch in range(epochs):
        model.train()
        for step, (inputs, targets) in enumerate(train_loader):
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
            writer.add_scalar("loss/train", loss.item(), step)
            step += 1
        model.eval()
        with torch.no_grad():
            scores = model(val_x.to(device))
            val_loss = criterion(scores, val_y.to(device)).item()
            accuracy = (scores.argmax(dim=1).cpu() == val_y).float().mean().item()
        writer.add_scalar("loss/val", val_loss, epoch)
        writer.add_scalar("accuracy/val", accuracy, epoch)
    writer.close()

    record = {
        "hyperparameters": {**HYPERPARAMETERS, "epochs": epochs},
        "hardware": {
            "device": device,
            "device_name": torch.cuda.get_device_name(0)
            if device == "cuda"
            else platform.processor() or "cpu",
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
        },
        "duration_seconds": time.perf_counter() - started,
        "final": {"val_loss": val_loss, "val_accuracy": accuracy},
    }
    with open(os.path.join(log_dir, "config.json"), "w", encoding="utf-8") as stream:
        json.dump(record, stream, indent=2)
