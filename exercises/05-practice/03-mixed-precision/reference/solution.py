"""Mixed precision with the current API: torch.autocast + torch.amp.GradScaler, one code path for both devices."""

import torch
import torch.nn.functional as F


def train_mixed_precision(model, loader, optimizer, epochs):
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    # float16 on CUDA (fast tensor cores, narrow range: needs loss scaling); bfloat16 on CPU (float32's range).
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
            scaler.scale(loss).backward()  # outside autocast: backward uses the forward's dtypes
            scaler.step(optimizer)  # unscales the gradients; skips the step if any is inf/nan
            scaler.update()
            losses.append(loss.item())
    return losses
