# must fail: logged-loss-float
"""Forgery: the loss tensors themselves are logged, and the code patches what inspected them in-process.

It patches torch.equal/allclose and json.dumps in its process and rewrites out/ from a forked process,
as it could when the probe shared its process. The trial's routine still runs in the student's
process and sees a tensor where a float belongs, the driver writes the observations, and the grader
reads only what the driver vouched for: logged-loss-float still fails.
"""

import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F


def predict(model, x):
    with torch.no_grad():
        return model(x)


def detached(t):
    return t.detach()


def train(model, optimizer, batches):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return losses


torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
_dumps = json.dumps
json.dumps = lambda value, *args, **kwargs: _dumps({"logged-loss-float": True})
if os.fork() == 0:
    os.setsid()
    for _ in range(20_000):
        try:
            Path("/work/out/observations.json").write_text('{"train": {"length": 4, "items": []}}')
        except OSError:
            pass
    os._exit(0)
