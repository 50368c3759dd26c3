# must fail: loss-falls
"""Classic mistake: the loss tensors themselves are collected, each holding on to its graph."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    amp_dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler(device_type, enabled=amp_dtype == torch.float16)
    model.to(device_type)
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device_type), y.to(device_type)
            optimizer.zero_grad()
            with torch.autocast(device_type=device_type, dtype=amp_dtype):
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss)
    return losses
