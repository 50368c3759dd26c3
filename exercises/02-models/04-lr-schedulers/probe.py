"""Driver for trial 2.4, lr-schedulers. The student's code runs in the agent; this process drives it.

Optimizers, schedulers, loaders and the loss are live objects, so both kinds of run below happen as the
trial's routines in the student's process (`agent_drive`, `agent_fit`) and come back as data. Their
outcomes are *verified*: what the optimizer did with each learning rate (the parameter after every
step of `agent_drive`, the model's weights after `fit`) is compared with a replay in this process, from
the same spec, with the statement's schedulers (`replay_drive`) and the reference training loop
(`replay_fit`). The learning rates and step events recorded in the student's process are *observed*:
they explain a failure, and can never make one pass (docs/architecture.md).

Two kinds of observation:

- The student's `make_scheduler(optimizer, kind)` is driven by the probe itself, one epoch at a time
  (`optimizer.step()` then `scheduler.step()` — with a scripted validation metric for "plateau"), and
  the learning rate after every scheduler step is recorded: this isolates the scheduler's configuration.
- The student's `fit(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs)` receives
  schedulers the probe built (a StepLR and a ReduceLROnPlateau with settings different from the
  statement's), loaders that tell the probe which phase is running, and a `loss_fn` that is ordinary
  cross-entropy while training and returns a scripted value while validating. The probe records the
  learning rate at the start of every epoch, every `optimizer.step()` (a step pre-hook) and every
  `scheduler.step(...)` call with its argument and the epoch it happened in.

check.py reads the literals below and recomputes every expected learning rate from them.
"""

from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from torch.utils.data import DataLoader, TensorDataset

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

# make_scheduler, driven by the probe; the statement's schedulers
STATEMENT_STEP = {"step_size": 5, "gamma": 0.1}
STATEMENT_PLATEAU = {"mode": "min", "factor": 0.5, "patience": 2}
CONFIG_LR = 0.2
CONFIG_STEP_EPOCHS = 12
CONFIG_METRICS = [1.0, 0.8, 0.8, 0.8, 0.8, 0.6, 0.61, 0.62, 0.6, 0.59, 0.7, 0.7]

# fit, with the probe's schedulers
FIT_LR = 0.1
FIT_STEP = {"step_size": 3, "gamma": 0.5}
FIT_STEP_EPOCHS = 7
FIT_PLATEAU = {"mode": "min", "factor": 0.5, "patience": 1}
FIT_VAL_LOSSES = [0.9, 0.7, 0.72, 0.71, 0.6, 0.65, 0.66, 0.5]  # scripted, one per epoch
TRAIN_SIZE = 256
VAL_SIZE = 128
BATCH_SIZE = 64


def drive(make_scheduler, kind, metrics):
    """Run make_scheduler(optimizer, kind) for len(metrics) epochs: the lr after every scheduler step
    (read from the optimizer) and the parameter after every optimizer step, one more step at the end.
    The gradient is 1, so each step moves the parameter by exactly the learning rate it used."""
    parameter = nn.Parameter(torch.zeros(3, dtype=torch.float64))
    optimizer = torch.optim.SGD([parameter], lr=CONFIG_LR)
    scheduler = make_scheduler(optimizer, kind)
    lrs, positions = [], []

    def step():
        optimizer.zero_grad()
        parameter.sum().backward()
        optimizer.step()
        positions.append(parameter.detach().clone())

    for metric in metrics:
        step()
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric)
        lrs.append(float(optimizer.param_groups[0]["lr"]))
    step()
    return {"type": type(scheduler).__name__, "lrs": lrs, "positions": torch.stack(positions)}


def agent_drive(solution, kind, metrics):
    return drive(solution.make_scheduler, kind, metrics)


def statement_scheduler(optimizer, kind):
    if kind == "step":
        return StepLR(optimizer, **STATEMENT_STEP)
    return ReduceLROnPlateau(optimizer, **STATEMENT_PLATEAU)


def replay_drive(kind, metrics):
    """The same run in the driver, with the statement's scheduler."""
    return drive(statement_scheduler, kind, metrics)["positions"]


class Watch:
    """What one fit() run did: epochs, learning rates, optimizer and scheduler steps, losses."""

    def __init__(self, optimizer, script):
        self.optimizer = optimizer
        self.script = script
        self.phase = None
        self.epoch = -1
        self.passes = {"train": 0, "val": 0}
        self.epoch_lrs = []  # lr at the start of every training pass
        self.events = []  # ["optimizer", epoch] and ["scheduler", epoch, argument or None]
        self.train_losses = {}  # epoch -> [sum, count] of the training losses loss_fn returned
        self.scripted_calls = 0

    def started(self, phase):
        if phase == "train":
            self.epoch += 1
            self.epoch_lrs.append(float(self.optimizer.param_groups[0]["lr"]))

    def finished(self, phase):
        self.passes[phase] += 1

    def on_optimizer_step(self, optimizer, args, kwargs):
        self.events.append(["optimizer", self.epoch])

    def on_scheduler_step(self, args, kwargs):
        argument = args[0] if args else kwargs.get("metrics", kwargs.get("epoch"))
        try:
            value = None if argument is None else float(argument)
        except (TypeError, ValueError, RuntimeError):
            value = repr(argument)[:80]
        self.events.append(["scheduler", self.epoch, value])

    def summary(self):
        return {
            "epochs_started": self.epoch + 1,
            "passes": self.passes,
            "epoch_lrs": self.epoch_lrs,
            "final_lr": float(self.optimizer.param_groups[0]["lr"]),
            "events": self.events[:5000],
            "train_loss_means": [
                self.train_losses[e][0] / self.train_losses[e][1] for e in sorted(self.train_losses)
            ],
            "scripted_calls": self.scripted_calls,
        }


class PhaseLoader(DataLoader):
    """A DataLoader that tells the watch which phase the student's code is in while it iterates."""

    def __init__(self, dataset, *, phase, watch, **options):
        super().__init__(dataset, **options)
        self.phase = phase
        self.watch = watch

    def __iter__(self):
        return self._batches(super().__iter__())

    def _batches(self, batches):
        self.watch.started(self.phase)
        completed = False
        try:
            for batch in batches:
                self.watch.phase = self.phase
                yield batch
            completed = True
        finally:
            self.watch.phase = None
            if completed:
                self.watch.finished(self.phase)


class ScriptedLoss(nn.Module):
    """Cross-entropy while training; while validating in epoch e, the scripted value for e (if any)."""

    def __init__(self, watch):
        super().__init__()
        self.watch = watch
        self.cross_entropy = nn.CrossEntropyLoss()

    def forward(self, scores, targets):
        loss = self.cross_entropy(scores, targets)
        watch = self.watch
        if watch.phase == "train":
            total = watch.train_losses.setdefault(watch.epoch, [0.0, 0])
            total[0] += float(loss.detach())
            total[1] += 1
        elif watch.phase == "val" and watch.script is not None and 0 <= watch.epoch < len(watch.script):
            watch.scripted_calls += 1
            return loss * 0.0 + watch.script[watch.epoch]
        return loss


def agent_fit(solution, which):
    """fit() with the driver's StepLR ("step") or ReduceLROnPlateau ("plateau"); what the watch saw."""
    torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared grader
    public = load_public(Path(solution.__file__).parent / "public")
    data = (torch.from_numpy(public["train_x"]), torch.from_numpy(public["train_y"]))
    if which == "step":
        return fit_run(solution, data, lambda optimizer: StepLR(optimizer, **FIT_STEP), FIT_STEP_EPOCHS, None)
    return fit_run(
        solution,
        data,
        lambda optimizer: ReduceLROnPlateau(optimizer, **FIT_PLATEAU),
        len(FIT_VAL_LOSSES),
        FIT_VAL_LOSSES,
    )


def fit_run(solution, data, make, epochs, script):
    torch.manual_seed(0)
    model = nn.Linear(64, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=FIT_LR)
    scheduler = make(optimizer)
    watch = Watch(optimizer, script)
    original_step = scheduler.step

    def step(*args, **kwargs):
        watch.on_scheduler_step(args, kwargs)
        return original_step(*args, **kwargs)

    scheduler.step = step
    handle = optimizer.register_step_pre_hook(watch.on_optimizer_step)
    inputs, labels = data
    loaders = {
        phase: PhaseLoader(
            TensorDataset(inputs[start:stop], labels[start:stop]),
            phase=phase,
            watch=watch,
            batch_size=BATCH_SIZE,
            shuffle=phase == "train",
            generator=torch.Generator().manual_seed(0),
        )
        for phase, start, stop in (("train", VAL_SIZE, VAL_SIZE + TRAIN_SIZE), ("val", 0, VAL_SIZE))
    }
    try:
        solution.fit(
            model, optimizer, scheduler, loaders["train"], loaders["val"], ScriptedLoss(watch), epochs
        )
    finally:
        handle.remove()
    return {
        **watch.summary(),
        "state": {name: value.detach().clone() for name, value in model.state_dict().items()},
    }


def replay_fit(data, which):
    """The reference fit() in the driver, from the same spec: the same initial model, data order and
    learning rate, the driver's scheduler stepped once after every epoch (ReduceLROnPlateau with the
    scripted validation loss). Its weights, as a flat float64 array."""
    import numpy as np

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Linear(64, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=FIT_LR)
    if which == "step":
        scheduler, epochs, script = StepLR(optimizer, **FIT_STEP), FIT_STEP_EPOCHS, None
    else:
        scheduler, epochs, script = (
            ReduceLROnPlateau(optimizer, **FIT_PLATEAU),
            len(FIT_VAL_LOSSES),
            FIT_VAL_LOSSES,
        )
    inputs, labels = data
    train = DataLoader(
        TensorDataset(inputs[VAL_SIZE : VAL_SIZE + TRAIN_SIZE], labels[VAL_SIZE : VAL_SIZE + TRAIN_SIZE]),
        batch_size=BATCH_SIZE,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for x, y in train:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        if script is None:
            scheduler.step()
        else:
            scheduler.step(script[epoch])
    return flat_weights(model.state_dict(), np)


def flat_weights(state, np):
    """weight then bias of the Linear(64, 10), as one float64 array (None when they are not there)."""
    parts = []
    for name, shape in (("weight", (10, 64)), ("bias", (10,))):
        value = state.get(name) if isinstance(state, dict) else None
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            return None
        parts.append(value.detach().to(torch.float64).reshape(-1).numpy())
    return np.concatenate(parts)


def driver(ctx):
    import numpy as np

    ctx.load_solution()
    for kind, metrics in (("step", [None] * CONFIG_STEP_EPOCHS), ("plateau", CONFIG_METRICS)):
        result = ctx.run(f"config.{kind}", "agent_drive", kind, metrics)
        if result is not FAILED:
            positions = result.pop("positions", None) if isinstance(result, dict) else None
            ctx.observe(f"config.{kind}", result)
            ctx.save_array(f"config_{kind}_positions", positions)
        ctx.save_array(f"expected_config_{kind}_positions", replay_drive(kind, metrics))
    public = load_public(ctx.public)
    data = (torch.from_numpy(public["train_x"]), torch.from_numpy(public["train_y"]))
    for which in ("step", "plateau"):
        result = ctx.run(f"fit.{which}", "agent_fit", which)
        if result is not FAILED:
            state = result.pop("state", None) if isinstance(result, dict) else None
            ctx.observe(f"fit.{which}", result)
            weights = flat_weights(state, np)
            if weights is not None:
                ctx.save_array(f"fit_{which}_weights", weights)
        ctx.save_array(f"expected_fit_{which}_weights", replay_fit(data, which))
