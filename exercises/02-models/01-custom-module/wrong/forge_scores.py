# must fail: logits
"""Forgery: forward returns softmax probabilities, and the code tries to make them pass for raw scores.

It patches torch.equal/allclose and json.dumps in its process and writes out/ from a forked process,
as it could when the probe shared its process. The driver receives the
model's output as data: what forward computed for the driver's images and this job's weights, which
are probabilities, so logits still fails.
"""

import json
import os
from pathlib import Path

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return torch.softmax(self.fc(x), dim=1)


torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
_dumps = json.dumps
json.dumps = lambda value, *args, **kwargs: _dumps({"logits": True})
if os.fork() == 0:
    os.setsid()
    for _ in range(20_000):
        try:
            Path("/work/out/observations.json").write_text('{"values.batch": {"shape": [5, 10]}}')
        except OSError:
            pass
    os._exit(0)
