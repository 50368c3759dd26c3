"""The two models trial 4.3 hands to your export functions. Read it; you don't need to import it.

`ConvNet` has a fixed structure: the same operations run whatever the input holds, so tracing it with
one example records everything. `GatedNet` chooses a branch from the *values* of its input: a trace
would record only the branch its example took. `build(name)` makes either one with fixed, seeded
weights and BatchNorm statistics, in train mode — the state a model is in right after training.
"""

import torch
from torch import nn

SEEDS = {"convnet": 4301, "gatednet": 4302}


class ConvNet(nn.Module):
    """(n, 3, 32, 32) → (n, 5): two conv blocks with BatchNorm, global average pooling, dropout, a linear head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.dropout = nn.Dropout(0.5)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        return self.head(self.dropout(torch.flatten(self.features(x), 1)))


class GatedNet(nn.Module):
    """(n, 3, 32, 32) → (n, 4): bright batches (mean > 0) and dark ones take different heads."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.bright = nn.Linear(8, 4)
        self.dark = nn.Linear(8, 4)

    def forward(self, x):
        features = self.encoder(x)
        if x.mean() > 0:
            return self.bright(features)
        return self.dark(features) - 1.0


def build(name):
    """The model called `name` ("convnet" or "gatednet") with its seeded weights, in train mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEEDS[name])
        model = ConvNet() if name == "convnet" else GatedNet()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.normal_(0.0, 0.2)
                    module.running_mean.normal_(0.0, 0.3)
                    module.running_var.uniform_(0.5, 2.0)
    return model.train()
