"""Another valid spelling: torch.inference_mode as a decorator, eval(), float(loss)."""

import torch
from torch import nn


@torch.inference_mode()
def predict(model, x):
    model.eval()
    return model(x)


def detached(t):
    return t.detach()


def train(model, optimizer, batches):
    criterion = nn.MSELoss()
    model.train()
    history = []
    for inputs, targets in batches:
        loss = criterion(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history.append(float(loss))
    return history
