# must fail: cpu-bfloat16
"""Classic mistake: float16 everywhere, including the CPU, where bfloat16 is the right low-precision type."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    scaler = torch.amp.GradScaler(device_type)
    model.to(device_type)
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device_type), y.to(device_type)
            optimizer.zero_grad()
            with torch.autocast(device_type=device_type, dtype=torch.float16):
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
    return losses
