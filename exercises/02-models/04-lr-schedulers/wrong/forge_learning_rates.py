# must fail: step-lr
"""Forgery: StepLR decays every 10 epochs by half, and the code forges the learning rates the check reads.

It writes StepLR learning rates of its own choosing into out/observations.json at import and from a rewriter in its own session, and patches
json.dumps in its process, as it could when the probe shared its process. The trial's routine still
drives the student's scheduler, the driver writes out/, and the grader reads only what the driver
vouched for: step-lr still fails.
"""

import json
import os
from pathlib import Path

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

from exercises.kit.report import report


def make_scheduler(optimizer, kind):
    if kind == "step":
        return StepLR(optimizer, step_size=10, gamma=0.5)
    return ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)


def validate(model, val_loader, loss_fn):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in val_loader:
            total += loss_fn(model(x), y).item() * len(y)
            count += len(y)
    return total / count


def fit(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs):
    for epoch in range(epochs):
        model.train()
        train_loss = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            train_loss += loss.item() / len(train_loader)
        val_loss = validate(model, val_loader, loss_fn)
        report(step=epoch, val_loss=val_loss, lr=optimizer.param_groups[0]["lr"])
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(val_loss)
        else:
            scheduler.step()


FORGED = {"config.step": {"type": "StepLR", "lrs": [0.2] * 12}}
_dumps = json.dumps
json.dumps = lambda value, *args, **kwargs: _dumps(FORGED)
if os.fork() == 0:
    os.setsid()
    for _ in range(20_000):
        try:
            Path("/work/out/observations.json").write_text(_dumps(FORGED))
        except OSError:
            pass
    os._exit(0)
