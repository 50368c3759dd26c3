# must fail: zero-grad
"""Forgery: zero_grad_once_per_epoch.py with torch.equal replaced by a function that calls everything equal,
so a check that compares gradients with torch.equal at call time would see no accumulation."""

import torch
from torch import nn

from exercises.kit.report import report

torch.equal = lambda a, b: True  # runs when the module is imported, before train() is called


def evaluate(model, loader, criterion):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            total += criterion(model(x), y).item() * len(y)
            count += len(y)
    return total / count


def train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm):
    criterion = nn.CrossEntropyLoss()
    step = 0
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        for x, y in train_loader:
            loss = criterion(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            report(step=step, loss=loss.item(), grad_norm=norm.item())
            step += 1
        report(step=step, val_loss=evaluate(model, val_loader, criterion))


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x).argmax(dim=1)
