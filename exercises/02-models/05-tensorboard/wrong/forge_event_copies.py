# must fail: values
"""Forgery: accuracy is logged in percent, and the code patches how the event files were collected.

In-process, the probe copied the event files with numpy beside the student's code; this forgery makes
numpy.frombuffer return an empty array and patches json.dumps and torch.equal/allclose in its own
process, and rewrites out/observations.json from a process in its own session. The driver reads the
event files itself, writes out/, and the grader reads only what the driver vouched for: values still
fails.
"""

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
        for inputs, targets in train_loader:
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
        writer.add_scalar("accuracy/val", 100 * accuracy, epoch)
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


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    import numpy as _np
    import torch as _torch

    _np.frombuffer = lambda *args, **kwargs: _np.zeros(0, dtype=_np.uint8)
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps({"values": True})
    _torch.equal = lambda a, b: True
    _torch.allclose = lambda *args, **kwargs: True
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                _Path("/work/out/observations.json").write_text('{"event_files": []}')
            except OSError:
                pass
        _os._exit(0)


_forge()
