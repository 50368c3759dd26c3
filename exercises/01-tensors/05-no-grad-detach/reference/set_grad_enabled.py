"""Another valid spelling: torch.set_grad_enabled(False) as a context manager, a tuple of losses."""

import torch


def predict(model, x):
    with torch.set_grad_enabled(False):
        out = model(x)
    return out


def detached(t):
    return t.detach()


def train(model, optimizer, batches):
    logged = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        logged.append(loss.item())
    return tuple(logged)
