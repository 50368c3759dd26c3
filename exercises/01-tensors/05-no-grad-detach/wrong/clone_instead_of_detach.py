# must fail: detach-shares-storage
"""Classic mistake: detach().clone() (or torch.tensor(t)) for a value to log or plot: a needless copy."""

import torch
import torch.nn.functional as F


def predict(model, x):
    with torch.no_grad():
        return model(x)


def detached(t):
    return t.detach().clone()


def train(model, optimizer, batches):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
