"""Probe for trial 2.3, train-loop. Runs inside the sandbox; observes, never judges.

The probe builds the model (with BatchNorm and Dropout, so that train/eval mode matters), the SGD
optimizer and two DataLoaders over the public training split, and calls the student's
`train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm)`; then it switches the model
back to train mode and calls `predict(model, x)` on the held-out inputs (on the validation inputs in Run
mode). While the student's code runs it watches:

- which loader is being iterated (the loaders mark the phase: train, val), and in every forward pass the
  modules' training flags and `torch.is_grad_enabled()` (a forward pre-hook on the model);
- every backward pass, per parameter: the incoming gradient (a tensor hook) against the accumulated
  `.grad` (a post-accumulate hook). They differ only when `.grad` was not cleared since the last step,
  whatever the spelling (optimizer.zero_grad, model.zero_grad, p.grad = None);
- the total gradient norm after each backward (before any clipping) and at each `optimizer.step`
  (a step pre-hook), so clipping shows as norms <= max_grad_norm at step time;
- every `report(...)` call carrying `grad_norm` (exercises.kit.report.report is wrapped before the
  student's module is imported), with the norms it can be compared with.

It trains once per seed (one seed in Run mode, two in Submit) and saves the predictions; the check
scores them against labels that never enter the sandbox. check.py reads the literals below.

The functions the watch judges with (torch.equal, torch.is_grad_enabled, the tensor arithmetic of the
norms, the hook registrations) are taken when this module is imported, before the student's module is:
a submission that replaces `torch.equal` with a liar changes its own calls, not the watch's.
"""

import math
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import exercises.kit.report as report_module
from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

VAL_SIZE = 270  # the first 270 samples of the public training split validate, the rest train
BATCH_SIZE = 64
EPOCHS = 4
MAX_GRAD_NORM = 0.5
LEARNING_RATE = 0.05
MOMENTUM = 0.9
SEEDS = {"run": [0], "submit": [0, 1]}
PHASES = ("train", "val", "predict", "other")

# Taken before the student's module is imported (see the module doc).
_equal = torch.equal
_is_grad_enabled = torch.is_grad_enabled
_detach = torch.Tensor.detach
_double = torch.Tensor.double
_pow = torch.Tensor.pow
_sum = torch.Tensor.sum
_item = torch.Tensor.item
_register_hook = torch.Tensor.register_hook
_register_post_accumulate_grad_hook = torch.Tensor.register_post_accumulate_grad_hook
_register_forward_pre_hook = nn.Module.register_forward_pre_hook
_register_step_pre_hook = torch.optim.Optimizer.register_step_pre_hook


def squares_of(tensor):
    """The sum of squares of `tensor`, in float64, with the functions taken above."""
    return _item(_sum(_pow(_double(_detach(tensor)), 2)))


def make_model():
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.BatchNorm1d(128),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(128, 10),
    )


class Watch:
    """What one training run did, gathered by hooks. `summary()` is the observation."""

    def __init__(self, model):
        self.model = model
        self.parameters = list(model.parameters())
        self.phase = None
        self.epoch = -1  # index of the training pass in progress
        self.passes = {"train": 0, "val": 0}  # passes over each loader that ran to the end
        self.forwards = {
            phase: {"calls": 0, "all_train_mode": 0, "all_eval_mode": 0, "grad_enabled": 0}
            for phase in PHASES
        }
        self.first_wrong_mode = {}
        self.incoming = {}
        self.current = {"seen": set(), "squares": 0.0, "accumulated": False}
        self.backwards = 0
        self.accumulated = []  # epochs of the backward passes that added onto an uncleared .grad
        self.last_backward_norm = None
        self.steps = []  # [epoch, grad norm at step, norm after the latest backward, fresh backward?]
        self.backwards_at_last_step = 0
        self.reports = []
        self.handles = []

    # -- phases (set by the loaders) --------------------------------------------------------------

    def started(self, phase):
        if phase == "train":
            self.epoch += 1

    def finished(self, phase):
        self.passes[phase] += 1

    # -- forward passes -------------------------------------------------------------------------------

    def on_forward(self, module, args):
        phase = self.phase or "other"
        modes = [m.training for m in module.modules()]
        record = self.forwards[phase]
        record["calls"] += 1
        record["all_train_mode"] += all(modes)
        record["all_eval_mode"] += not any(modes)
        grad_enabled = bool(_is_grad_enabled())
        record["grad_enabled"] += grad_enabled
        wrong = (phase == "train" and not (all(modes) and grad_enabled)) or (
            phase in ("val", "predict") and (any(modes) or grad_enabled)
        )
        if wrong and phase not in self.first_wrong_mode:
            self.first_wrong_mode[phase] = {
                "epoch": self.epoch,
                "training": sorted({type(m).__name__ for m in module.modules() if m.training}),
                "evaluating": sorted({type(m).__name__ for m in module.modules() if not m.training}),
                "grad_enabled": grad_enabled,
            }

    # -- backward passes and steps -------------------------------------------------------------------

    def on_incoming_grad(self, parameter):
        def hook(grad):
            self.incoming[id(parameter)] = grad

        return hook

    def on_accumulated(self, parameter):
        if id(parameter) in self.current["seen"]:
            self.finish_backward()  # a second backward before any step or report
        self.current["seen"].add(id(parameter))
        incoming = self.incoming.pop(id(parameter), None)
        grad = parameter.grad
        if grad is None:
            return
        if incoming is not None and not _equal(grad, incoming):
            self.current["accumulated"] = True
        self.current["squares"] += squares_of(grad)

    def finish_backward(self):
        if not self.current["seen"]:
            return
        self.backwards += 1
        self.last_backward_norm = math.sqrt(self.current["squares"])
        if self.current["accumulated"]:
            self.accumulated.append(self.epoch)
        self.current = {"seen": set(), "squares": 0.0, "accumulated": False}

    def grad_norm_now(self):
        squares = 0.0
        for parameter in self.parameters:
            if parameter.grad is not None:
                squares += squares_of(parameter.grad)
        return math.sqrt(squares)

    def on_step(self, optimizer, args, kwargs):
        self.finish_backward()
        fresh = self.backwards > self.backwards_at_last_step
        self.backwards_at_last_step = self.backwards
        self.steps.append([self.epoch, self.grad_norm_now(), self.last_backward_norm, fresh])

    def on_report(self, step, metrics):
        if "grad_norm" not in metrics:
            return
        self.finish_backward()
        try:
            value = float(metrics["grad_norm"])
        except (TypeError, ValueError, RuntimeError):
            value = None
        self.reports.append(
            {
                "epoch": self.epoch,
                "step": step if isinstance(step, int) else None,
                "value": value,
                "after_backward": self.last_backward_norm,
                "now": self.grad_norm_now(),
            }
        )

    # -- wiring ---------------------------------------------------------------------------------------

    def attach(self, optimizer):
        self.handles.append(_register_forward_pre_hook(self.model, self.on_forward))
        self.handles.append(_register_step_pre_hook(optimizer, self.on_step))
        for parameter in self.parameters:
            self.handles.append(_register_hook(parameter, self.on_incoming_grad(parameter)))
            self.handles.append(_register_post_accumulate_grad_hook(parameter, self.on_accumulated))

    def detach(self):
        for handle in self.handles:
            handle.remove()

    def summary(self):
        return {
            "epochs_started": self.epoch + 1,
            "passes": self.passes,
            "forwards": self.forwards,
            "first_wrong_mode": self.first_wrong_mode,
            "backwards": self.backwards,
            "accumulated": self.accumulated[:50],
            "accumulated_count": len(self.accumulated),
            "steps": self.steps[:2000],
            "reports": self.reports[:2000],
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


WATCHING = []  # the watch of the run in progress, for the report wrapper
_original_report = report_module.report


def watched_report(step=None, **metrics):
    if WATCHING:
        WATCHING[-1].on_report(step, metrics)
    return _original_report(step, **metrics)


def probe(ctx):
    torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared grader
    report_module.report = watched_report  # before the student's module imports it
    ctx.load_solution()
    data = load_public(ctx.public)
    inputs, labels = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    val_set = TensorDataset(inputs[:VAL_SIZE], labels[:VAL_SIZE])
    train_set = TensorDataset(inputs[VAL_SIZE:], labels[VAL_SIZE:])
    target = "val" if ctx.mode == "run" else "test"
    held_out = inputs[:VAL_SIZE] if target == "val" else torch.from_numpy(data["test_x"])
    ctx.observe("predict.target", target)

    for seed in SEEDS.get(ctx.mode, SEEDS["submit"]):
        torch.manual_seed(seed)
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        watch = Watch(model)
        loaders = {
            phase: PhaseLoader(
                dataset,
                phase=phase,
                watch=watch,
                batch_size=BATCH_SIZE,
                shuffle=phase == "train",
                generator=torch.Generator().manual_seed(seed),
            )
            for phase, dataset in (("train", train_set), ("val", val_set))
        }
        watch.attach(optimizer)
        WATCHING.append(watch)
        started = time.perf_counter()
        try:
            result = ctx.call(
                f"train.{seed}",
                "train",
                model,
                optimizer,
                loaders["train"],
                loaders["val"],
                EPOCHS,
                MAX_GRAD_NORM,
            )
            seconds = time.perf_counter() - started
            if result is FAILED:
                continue
            model.train()  # predict must switch to eval mode itself
            watch.phase = "predict"
            predictions = ctx.call(f"predict.{seed}", "predict", model, held_out.clone())
            watch.phase = None
        finally:
            WATCHING.pop()
            watch.detach()
        ctx.observe(f"train.{seed}", {**watch.summary(), "seconds": round(seconds, 3)})
        if predictions is not FAILED:
            ctx.observe(f"predict.{seed}", ctx.describe_tensor(predictions))
            ctx.save_array(f"predictions_{seed}", predictions)
