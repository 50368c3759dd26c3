# must fail: detach-tracks-inplace
"""Classic mistake: t.data instead of t.detach(). It shares memory and has no grad, but autograd is not told
when it is modified in place, so gradients computed afterwards can be silently wrong."""

import torch
import torch.nn.functional as F


def predict(model, x):
    with torch.no_grad():
        return model(x)


def detached(t):
    return t.data


def train(model, optimizer, batches):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
