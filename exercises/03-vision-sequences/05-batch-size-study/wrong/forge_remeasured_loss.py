# must fail: val-loss
"""Forgery: the last training batch's loss is reported as the validation loss, and the code forges the
re-measurement that would have contradicted it.

In-process, the probe re-measured each returned model with torch.nn.functional.cross_entropy beside the
student's code and wrote out/observations.json itself; once the study is done, this forgery makes
cross_entropy answer the reported losses in order, replaces every `remeasure` it finds among the loaded
modules with one that answers them too, patches json.dumps, writes a forged out/observations.json first
and rewrites it from a process in its own session. The driver receives the models' logits as data and
computes the loss itself, and the grader reads only what the driver vouched for: val-loss still fails.
"""

import time

import torch
from torch import nn


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def validation_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x), y).item()


def _honest_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    results = []
    for batch_size in batch_sizes:
        lr = base_lr * batch_size / base_batch_size
        torch.manual_seed(0)
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        x, y = data["train_x"], data["train_y"]
        times, losses = [], []
        for _ in range(epochs):
            start = time.perf_counter()
            order = torch.randperm(len(x))
            for first in range(0, len(x), batch_size):
                batch = order[first : first + batch_size]
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
                loss.backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
            losses.append(loss.item())
        results.append(
            {"batch_size": batch_size, "lr": lr, "epoch_times": times, "val_losses": losses, "model": model}
        )
    return results


def run_study(data, batch_sizes=(32, 64, 128), base_lr=0.05, base_batch_size=32, epochs=5):
    results = _honest_study(data, batch_sizes, base_lr, base_batch_size, epochs)
    _forge([entry["val_losses"][-1] for entry in results])
    return results


def _forge(reported):
    import json as _json
    import os as _os
    import sys as _sys
    from pathlib import Path as _Path

    answers = iter(reported * 100)
    nn.functional.cross_entropy = lambda *args, **kwargs: torch.tensor(next(answers))
    torch.nn.functional.cross_entropy = nn.functional.cross_entropy
    for module in list(_sys.modules.values()):
        if callable(getattr(module, "remeasure", None)):
            module.remeasure = lambda *args, **kwargs: (
                next(answers),
                torch.zeros(450, 10, dtype=torch.float64),
            )
    forged = _json.dumps({"study": {"results": [{"remeasured_val_loss": value} for value in reported]}})
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: (
        forged if isinstance(value, dict) else _dumps(value, *args, **kwargs)
    )
    out = _Path("/work/out")
    try:
        out.mkdir(exist_ok=True)
        (out / "observations.json").write_text(forged)
    except OSError:
        pass
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            try:
                (out / "observations.json").write_text(forged)
            except OSError:
                pass
        _os._exit(0)
