"""Another valid way: a `with SummaryWriter(...)` block, steps counted in samples, and a YAML record."""

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch.utils.tensorboard import SummaryWriter


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(64, 32)
        self.out = torch.nn.Linear(32, 10)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


def run_experiment(log_dir, epochs):
    config = {"lr": 0.01, "batch_size": 32, "epochs": epochs, "optimizer": "Adam"}
    begin = time.time()
    arrays = np.load("/work/public/digits.npz")
    x, y = torch.tensor(arrays["train_x"]), torch.tensor(arrays["train_y"])
    x_val, y_val, x_train, y_train = x[:300], y[:300], x[300:], y[300:]
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    seen = 0
    with SummaryWriter(log_dir) as writer:
        for _ in range(epochs):
            order = torch.randperm(len(x_train))
            for start in range(0, len(order), config["batch_size"]):
                batch = order[start : start + config["batch_size"]]
                loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                seen += len(batch)
                writer.add_scalar("loss/train", loss, global_step=seen)
            with torch.inference_mode():
                scores = model(x_val)
                writer.add_scalar("loss/val", F.cross_entropy(scores, y_val), global_step=seen)
                writer.add_scalar(
                    "accuracy/val", (scores.argmax(1) == y_val).double().mean(), global_step=seen
                )
    record = {
        "hyperparameters": config,
        "hardware": {
            "device": "cuda:0" if torch.cuda.is_available() else "cpu",
            "threads": torch.get_num_threads(),
        },
        "duration_seconds": round(time.time() - begin, 3),
    }
    Path(log_dir, "config.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")
