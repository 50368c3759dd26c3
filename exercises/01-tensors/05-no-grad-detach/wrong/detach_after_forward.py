# must fail: predict-no-graph
"""Classic mistake: detach() after the forward pass. The result has no grad, but the whole graph was built
(and its activations saved) first: no memory is saved at all."""

import torch.nn.functional as F


def predict(model, x):
    return model(x).detach()


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
