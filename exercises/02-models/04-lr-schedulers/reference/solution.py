"""Reference solution for trial 2.4: the two schedulers, stepped once per epoch after validation."""

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

try:
    from exercises.kit.report import report
except ImportError:  # outside the grader: print instead of charting

    def report(step=None, **metrics):
        print(step, metrics)


def make_scheduler(optimizer, kind):
    if kind == "step":
        return StepLR(optimizer, step_size=5, gamma=0.1)
    if kind == "plateau":
        return ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)
    raise ValueError(f"unknown scheduler kind {kind!r}")


def fit(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()

        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in val_loader:
                total += loss_fn(model(x), y).item() * len(y)
                count += len(y)
        val_loss = total / count

        report(step=epoch, val_loss=val_loss, lr=optimizer.param_groups[0]["lr"])
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(val_loss)
        else:
            scheduler.step()
