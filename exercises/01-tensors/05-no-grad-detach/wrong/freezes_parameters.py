# must fail: predict-no-graph
"""Classic mistake: to avoid the graph, the model's parameters are frozen; the model can't be trained after."""

import torch.nn.functional as F


def predict(model, x):
    for parameter in model.parameters():
        parameter.requires_grad_(False)
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
