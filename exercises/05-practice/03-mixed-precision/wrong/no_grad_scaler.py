# must fail: cuda-float16, scaler-steps
"""Classic mistake: float16 autocast on the GPU without a GradScaler, so small gradients underflow to zero."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    amp_dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    model.to(device_type)
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device_type), y.to(device_type)
            optimizer.zero_grad()
            with torch.autocast(device_type=device_type, dtype=amp_dtype):
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
