"""Another valid spelling: LambdaLR for the step schedule, and a batch-mean validation loss."""

import torch
from torch.optim import lr_scheduler


def make_scheduler(optimizer, kind):
    if kind == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    return lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.1 ** (epoch // 5))


def run_epoch(model, loader, loss_fn, optimizer=None):
    losses = []
    for inputs, targets in loader:
        with torch.set_grad_enabled(optimizer is not None):
            loss = loss_fn(model(inputs), targets)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses).mean().item()


def fit(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs):
    wants_metric = isinstance(scheduler, lr_scheduler.ReduceLROnPlateau)
    history = []
    for _ in range(epochs):
        model.train()
        train_loss = run_epoch(model, train_loader, loss_fn, optimizer)
        model.eval()
        val_loss = run_epoch(model, val_loader, loss_fn)
        history.append((train_loss, val_loss, scheduler.get_last_lr() if not wants_metric else None))
        scheduler.step(val_loss) if wants_metric else scheduler.step()
    return history
