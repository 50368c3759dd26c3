# must fail: layer-shapes, layer-params
"""Classic mistake: layers listed in the order __init__ defines them (model.modules()), not the order
forward runs them."""

import torch
from torch import nn


def summarize(model, input_size):
    shapes = {}
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda m, i, o: shapes.__setitem__(m, list(o.shape))) for m in leaves]
    with torch.no_grad():
        model(torch.zeros(input_size))
    for handle in handles:
        handle.remove()
    layers = [
        {
            "type": type(m).__name__,
            "output_shape": shapes[m],
            "params": sum(p.numel() for p in m.parameters()),
        }
        for m in leaves
    ]
    params = list(model.parameters())
    return {
        "total_params": sum(p.numel() for p in params),
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "layers": layers,
    }


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
