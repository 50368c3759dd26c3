# must fail: one-step-per-epoch
"""Classic mistake: the validation loss is passed to every scheduler's step(); StepLR takes it as an epoch number."""

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

from exercises.kit.report import report


def make_scheduler(optimizer, kind):
    if kind == "step":
        return StepLR(optimizer, step_size=5, gamma=0.1)
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
        scheduler.step(val_loss)
