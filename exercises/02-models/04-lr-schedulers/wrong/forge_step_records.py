# must fail: step-lr, one-step-per-epoch
"""Forgery: StepLR with the wrong gamma and stepped after every batch, and the code edits what the trial's
own routines record in its process.

`agent_drive` and the step hooks of `fit_run` run in the student's process, so code there can wrap them
and rewrite their records: the learning rates StepLR(step_size=5, gamma=0.1) would give, one
scheduler step per epoch after the epoch's optimizer steps. When the check read only those records,
that passed. The driver now replays both runs itself and compares what the optimizer did with the
rates it really had — the parameter after every step, the weights after fit — so step-lr and
one-step-per-epoch fail.
"""

import sys

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR


def make_scheduler(optimizer, kind):
    if kind == "step":
        return StepLR(optimizer, step_size=5, gamma=0.5)
    return ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)


def fit(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs):
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
            if not plateau:
                scheduler.step()
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in val_loader:
                total += loss_fn(model(x), y).item() * len(y)
                count += len(y)
        if plateau:
            scheduler.step(total / count)


def _honest_rates(make, epochs, script):
    """The learning rates an honest run shows: one scheduler step after each epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=optimizer_lr())
    scheduler = make(optimizer)
    starts = []
    for epoch in range(epochs):
        starts.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if script is None:
            scheduler.step()
        else:
            scheduler.step(script[epoch])
    return starts, optimizer.param_groups[0]["lr"]


def optimizer_lr():
    return _probe.FIT_LR


_probe = sys.modules.get("huashen_probe")
if _probe is not None:
    _real_drive, _real_fit_run = _probe.agent_drive, _probe.fit_run

    def _forged_drive(solution, kind, metrics):
        result = _real_drive(solution, kind, metrics)
        if kind == "step":
            result["lrs"] = [0.2 * 0.1 ** (epoch // 5) for epoch in range(1, len(metrics) + 1)]
        return result

    def _forged_fit_run(solution, data, make, epochs, script):
        summary = _real_fit_run(solution, data, make, epochs, script)
        batches = sum(1 for event in summary["events"] if event[0] == "optimizer") // epochs
        events = []
        for epoch in range(epochs):
            events += [["optimizer", epoch]] * batches
            events.append(["scheduler", epoch, None if script is None else script[epoch]])
        starts, final = _honest_rates(make, epochs, script)
        summary.update(events=events, epoch_lrs=starts, final_lr=final)
        return summary

    _probe.agent_drive = _forged_drive
    _probe.fit_run = _forged_fit_run
