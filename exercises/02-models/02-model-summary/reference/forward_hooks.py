"""Another valid way: forward hooks instead of torchinfo, and in_features measured with a dummy input."""

import torch
import torch.nn.functional as F
from torch import nn


def summarize(model, input_size):
    layers, handles = [], []

    def hook(module, inputs, output):
        layers.append(
            {
                "type": type(module).__name__,
                "output_shape": tuple(output.shape),
                "params": sum(p.numel() for p in module.parameters()),
            }
        )

    for module in model.modules():
        if len(list(module.children())) == 0:
            handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.rand(*input_size))
    for handle in handles:
        handle.remove()
    params = list(model.parameters())
    return {
        "total_params": sum(p.numel() for p in params),
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "layers": layers,
    }


class FixedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        with torch.no_grad():
            flat = self._features(torch.zeros(1, 1, 28, 28)).shape[1]
        self.fc1 = nn.Linear(flat, 120)
        self.fc2 = nn.Linear(120, 10)

    def _features(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return torch.flatten(x, 1)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self._features(x))))
