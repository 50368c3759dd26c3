# must fail: grad-clipping
"""Classic mistake: the gradients are clipped after optimizer.step(), when the step has already used them."""

import torch
from torch import nn

from exercises.kit.report import report


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
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            report(step=step, loss=loss.item(), grad_norm=norm.item())
            step += 1
        report(step=step, val_loss=evaluate(model, val_loader, criterion))


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x).argmax(dim=1)
