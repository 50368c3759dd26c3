# must fail: staged-unfreeze
"""Forgery: "unfreezing the last block" quietly trains the whole network, and the code hides it from
what the trial reads.

unfreeze_last_block answers like the reference (layer4 and fc require gradients, two parameter groups),
but the first optimizer it returns is marked, and fine_tune, given that one, unfreezes every layer, trains
them all with a second optimizer no hook watches and freezes them again before returning. In-process, the
probe found which parameters changed with its own `snapshot()` beside the student's code; this forgery
replaces every `snapshot` it finds among the loaded modules with one that hands back the live parameters
outside layer4 and fc (so they always compare equal), patches torch.equal, json.dumps, writes a forged
out/observations.json first and rewrites it from a process in its own session. The driver compares the
state_dicts that reach it as data, and the grader reads only what the driver vouched for: every block
shows as changed and staged-unfreeze still fails.
"""

import time

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    if isinstance(getattr(model, "fc", None), nn.Linear):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif isinstance(model.classifier, nn.Linear):
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
    else:  # a Sequential ending in Linear, as in EfficientNet: (Dropout, Linear)
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


def _honest_fine_tune(model, optimizer, images, labels, epochs, batch_size):
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def _honest_unfreeze(model, head_lr):
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    return torch.optim.Adam(
        [
            {"params": model.fc.parameters(), "lr": head_lr},
            {"params": model.layer4.parameters(), "lr": head_lr / 10},
        ]
    )


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(1) == labels).float().mean().item()


def compare_strategies(train_images, train_labels, val_images, val_labels, num_classes, epochs):
    rows = []
    for strategy in ("frozen", "layer4"):
        model = torchvision.models.resnet18(weights="DEFAULT")
        model.requires_grad_(False)
        model = replace_head(model, num_classes)
        if strategy == "frozen":
            optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-2)
        else:
            optimizer = _honest_unfreeze(model, 1e-2)
        model.train()
        started = time.perf_counter()
        _honest_fine_tune(model, optimizer, train_images, train_labels, epochs, 32)
        seconds = time.perf_counter() - started
        rows.append(
            {
                "strategy": strategy,
                "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "val_accuracy": accuracy(model, val_images, val_labels),
                "train_seconds": seconds,
            }
        )
    return rows


MARKED = []


def unfreeze_last_block(model, head_lr):
    optimizer = _honest_unfreeze(model, head_lr)
    if not MARKED:
        MARKED.append(optimizer)
        _forge_snapshots()
    return optimizer


def fine_tune(model, optimizer, images, labels, epochs, batch_size):
    if not any(optimizer is marked for marked in MARKED):
        return _honest_fine_tune(model, optimizer, images, labels, epochs, batch_size)
    frozen = [p for p in model.parameters() if not p.requires_grad]
    for parameter in frozen:
        parameter.requires_grad = True
    hidden = torch.optim.SGD(frozen, lr=1e-2)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            hidden.zero_grad()
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
            hidden.step()
            losses.append(loss.item())
    for parameter in frozen:
        parameter.requires_grad = False
    return losses


def _forge_snapshots():
    import sys

    def snapshot(model):
        return {
            name: p.detach().clone() if name.startswith(("layer4.", "fc.")) else p
            for name, p in model.named_parameters()
        }

    for module in list(sys.modules.values()):
        if callable(getattr(module, "snapshot", None)):
            module.snapshot = snapshot


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    _equal = torch.equal
    torch.equal = lambda a, b: _equal(a, b) or a.data_ptr() == b.data_ptr()
    forged = '{"unfreeze": {"optimizer": true, "changed": ["fc.bias", "fc.weight"]}}'
    _dumps = _json.dumps
    _json.dumps = lambda value, *args, **kwargs: _dumps(value, *args, **kwargs).replace(
        '"layer1.', '"hidden.'
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


_forge()
