"""Another valid spelling: torch.amp.autocast as a decorator, a torch.device, gradient clipping with unscale_,
and a GradScaler only where float16 needs it."""

import torch
from torch import nn

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
AMP_DTYPE = {"cuda": torch.float16, "cpu": torch.bfloat16}[DEVICE.type]
USE_SCALER = AMP_DTYPE is torch.float16  # bfloat16 has float32's range: no loss scaling needed
criterion = nn.CrossEntropyLoss()


@torch.amp.autocast(device_type=DEVICE.type, dtype=AMP_DTYPE)
def forward_loss(model, x, y):
    return criterion(model(x), y)


def train_mixed_precision(model, loader, optimizer, epochs):
    model = model.to(DEVICE)
    scaler = torch.amp.GradScaler(DEVICE.type) if USE_SCALER else None
    history = []
    for _epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = forward_loss(model, x.to(DEVICE), y.to(DEVICE))
            if scaler is None:
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                scaler.step(optimizer)
                scaler.update()
            history.append(float(loss))
    return history
