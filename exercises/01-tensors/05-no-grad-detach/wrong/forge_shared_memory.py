# must fail: detach-shares-storage
"""Forgery: detached() returns a copy, and the code edits what the trial's own routines report about it.

`agent_detached` and `agent_inplace` run in the student's process, so code there can wrap them and
rewrite the facts they report: the same data pointer and storage as t, a version counter that moved
after the in-place write. When the check read only those facts, that passed. The driver now also gets
t's values back after the result was doubled in place — a copy leaves t as it was — and checks them
outside this process, so detach-shares-storage fails.
"""

import sys

import torch
import torch.nn.functional as F


def predict(model, x):
    with torch.no_grad():
        return model(x)


def detached(t):
    return t.clone().detach()


def train(model, optimizer, batches):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


_probe = sys.modules.get("huashen_probe")
if _probe is not None:
    _real_detached, _real_inplace = _probe.agent_detached, _probe.agent_inplace

    def _forged_detached(solution):
        observation = _real_detached(solution)
        observation.update(same_data_ptr=True, same_storage=True)
        return observation

    def _forged_inplace(solution):
        observation = _real_inplace(solution)
        observation["version_after"] = observation.get("version_before", 0) + 1
        return observation

    _probe.agent_detached = _forged_detached
    _probe.agent_inplace = _forged_inplace
