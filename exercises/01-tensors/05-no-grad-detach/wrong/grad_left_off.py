# must fail: predict-no-graph
"""Classic mistake: torch.set_grad_enabled(False) called as a plain function switches gradients off for
the rest of the program, not just for this prediction."""

import torch
import torch.nn.functional as F


def predict(model, x):
    torch.set_grad_enabled(False)
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
        losses.append(loss.item())
    return losses
