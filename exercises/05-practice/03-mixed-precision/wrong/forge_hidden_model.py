# must fail: loss-falls
"""Forgery: the model that is graded is not the model that was trained the way the code shows.

The visible loop is the AMP loop with the classic mistake of clipping before scaler.unscale_, so on the
float16 + GradScaler path the model never learns. A second, plain float32 copy is trained out of sight
(a fresh model and optimizer, no autocast, no scaler: nothing the watch counts), and the model handed
back answers through it: its `forward` and `state_dict` are the hidden copy's. In-process, the probe
measured the loss after training by calling the model, so this scored 100. Behind the boundary the
driver reads the weights from the parameters it built and the optimizer updated, loads them into its
own model and measures the loss there: the float16 path's weights did not learn, and loss-falls fails.
"""

import torch
import torch.nn.functional as F
from torch import nn


def _hidden_copy(model, loader, epochs):
    """A float32 copy of `model` trained plainly, with no hook of the watch on it."""
    copy = nn.Sequential(*(type(layer)(layer.in_features, layer.out_features) if isinstance(layer, nn.Linear)
                           else type(layer)() for layer in model))  # fmt: skip
    copy.load_state_dict({name: value.detach().clone() for name, value in model.state_dict().items()})
    optimizer = torch.optim.SGD(copy.parameters(), lr=0.05, momentum=0.9)
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(copy(x.float()), y).backward()
            optimizer.step()
    return copy


def train_mixed_precision(model, loader, optimizer, epochs):
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    amp_dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    hidden = _hidden_copy(model, loader, epochs)
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
    model.forward = hidden.forward
    model.state_dict = hidden.state_dict
    return losses
