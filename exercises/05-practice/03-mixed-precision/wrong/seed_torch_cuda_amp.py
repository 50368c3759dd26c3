# must fail: current-api, cpu-bfloat16
"""Classic mistake: the seed's recipe verbatim — torch.cuda.amp.GradScaler() and torch.cuda.amp.autocast(),
deprecated, and on a CPU they silently disable themselves (everything runs in float32)."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    scaler = torch.cuda.amp.GradScaler()
    model.to(device)
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            with torch.cuda.amp.autocast():
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
    return losses
