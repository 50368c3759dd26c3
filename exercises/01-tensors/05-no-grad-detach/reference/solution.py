"""Reference solution for trial 1.5: no_grad for inference, detach() for a view outside the graph, item() to log."""

import torch
import torch.nn.functional as F


def predict(model, x):
    with torch.no_grad():
        return model(x)


def detached(t):
    return t.detach()


def train(model, optimizer, batches):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().cpu().item())
    return losses
