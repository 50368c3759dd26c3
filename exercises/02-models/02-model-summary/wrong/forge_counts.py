# must fail: trainable-params
"""Forgery: frozen parameters are counted as trainable, and the code forges what the check reads.

It writes summaries of the driver's three models (read from probe.py) with trainable counts below the
totals into out/observations.json at import and from a rewriter in its own session, and patches
json.dumps and torch.equal/allclose in its process, as it could when the probe shared its process. The
driver receives summarize()'s own answers as data and the grader reads only what the driver vouched
for: trainable-params still fails.
"""

import json
import os
from pathlib import Path

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


FORGED = {
    "summary.frozen-mlp": {"total_params": 837, "trainable_params": 165, "layers": []},
    "summary.small-cnn": {"total_params": 1468, "trainable_params": 1468, "layers": []},
    "summary.signal-net": {"total_params": 360, "trainable_params": 360, "layers": []},
}
torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
_dumps = json.dumps
json.dumps = lambda value, *args, **kwargs: _dumps(FORGED)
if os.fork() == 0:
    os.setsid()
    for _ in range(20_000):
        try:
            Path("/work/out/observations.json").write_text(_dumps(FORGED))
        except OSError:
            pass
    os._exit(0)
