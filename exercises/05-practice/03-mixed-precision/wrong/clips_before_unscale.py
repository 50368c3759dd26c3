# must fail: loss-falls
"""Subtle mistake: the gradients are clipped before scaler.unscale_, so on the float16 path the clip acts
on gradients 65536 times too large and, once unscaled, every step is tiny: the model does not learn there.
The bfloat16 path has no scaler and trains normally."""

import torch
import torch.nn.functional as F
from torch import nn


def train_mixed_precision(model, loader, optimizer, epochs):
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    amp_dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler(device_type, enabled=amp_dtype == torch.float16)
    model.to(device_type)
    model.train()
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device_type), y.to(device_type)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device_type, dtype=amp_dtype):
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # clips the scaled gradients
            scaler.unscale_(optimizer)
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
    return losses
