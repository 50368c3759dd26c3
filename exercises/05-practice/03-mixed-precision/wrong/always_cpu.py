# must fail: cuda-float16
"""Classic mistake: written and tested on a laptop — the device type is hard-coded to the CPU."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
