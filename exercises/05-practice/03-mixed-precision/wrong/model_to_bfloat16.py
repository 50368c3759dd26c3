# must fail: current-api, cpu-bfloat16
"""Classic mistake: casting the whole model and the inputs to bfloat16 instead of autocast — low precision
everywhere, weights and updates included, which is not mixed precision."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device=device, dtype=torch.bfloat16)
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device, torch.bfloat16), y.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
