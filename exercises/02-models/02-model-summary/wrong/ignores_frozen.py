# must fail: trainable-params
"""Classic mistake: every parameter is counted as trainable, frozen ones (requires_grad=False) too."""

import torch
from torch import nn


def summarize(model, input_size):
    layers = []

    def hook(module, inputs, output):
        params = sum(p.numel() for p in module.parameters())
        layers.append({"type": type(module).__name__, "output_shape": list(output.shape), "params": params})

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model(torch.zeros(input_size))
    for handle in handles:
        handle.remove()
    total = sum(p.numel() for p in model.parameters())
    return {"total_params": total, "trainable_params": total, "layers": layers}


class FixedNet(nn.Module):
    """BrokenNet with the first Linear sized for 28x28 inputs."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 120),
            nn.ReLU(),
            nn.Linear(120, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
